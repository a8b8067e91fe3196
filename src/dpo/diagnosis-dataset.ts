// The dataset facts the dataset rules read: shares computed from the training pairs' token lengths and
// the loader's counts, and the mean length of sampled completions (policy against reference).
import type { DatasetFacts, DatasetLengths, SampleLengths } from './diagnosis-types';

/** Token lengths of the first `cap` pairs (enough for the shares, small enough to post to the page). */
export function datasetLengths(pairs: readonly { promptIds: ArrayLike<number>; chosenIds: ArrayLike<number>; rejectedIds: ArrayLike<number> }[], cap = 4096): { prompt: number[]; chosen: number[]; rejected: number[] } {
  const some = pairs.slice(0, cap);
  return { prompt: some.map((p) => p.promptIds.length), chosen: some.map((p) => p.chosenIds.length), rejected: some.map((p) => p.rejectedIds.length) };
}

/** Shares of the dataset rules from the training pairs' token lengths and the loader's counts. */
export function datasetFacts(
  lengths: DatasetLengths,
  o: { maxLength: number | null; truncationMode: 'keep_start' | 'keep_end'; totalRows: number; dropped: number; droppedTooLong?: number },
): DatasetFacts {
  const n = Math.min(lengths.prompt.length, lengths.chosen.length, lengths.rejected.length);
  let longer = 0;
  let sc = 0;
  let sr = 0;
  let cut = 0;
  let both = 0;
  const L = o.maxLength;
  // keep_start cuts the end of prompt + completion; keep_end keeps the last max_length tokens, so it cuts
  // into the completion only when the completion alone is longer (TRL 1.13's collator)
  const isCut = (p: number, c: number) => L !== null && (o.truncationMode === 'keep_start' ? p + c > L : c > L);
  for (let i = 0; i < n; i++) {
    const p = lengths.prompt[i];
    const c = lengths.chosen[i];
    const r = lengths.rejected[i];
    if (c > r) longer++;
    sc += c;
    sr += r;
    const cc = isCut(p, c);
    const cr = isCut(p, r);
    cut += (cc ? 1 : 0) + (cr ? 1 : 0);
    if (cc && cr) both++;
  }
  return {
    totalRows: o.totalRows,
    dropped: o.dropped,
    droppedTooLong: o.droppedTooLong ?? 0,
    pairs: n,
    chosenLonger: n ? longer / n : 0,
    meanChosen: n ? sc / n : 0,
    meanRejected: n ? sr / n : 0,
    truncated: n ? cut / (2 * n) : 0,
    bothTruncated: n ? both / n : 0,
    maxLength: L,
  };
}

/** Mean length in words of the policy's and the reference's samples (the demo's frontier samples). */
export function sampleLengths(step: number, samples: readonly { policy: string; reference: string }[]): SampleLengths | null {
  if (samples.length === 0) return null;
  const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
  const n = samples.length;
  return { step, policy: samples.reduce((a, s) => a + words(s.policy), 0) / n, reference: samples.reduce((a, s) => a + words(s.reference), 0) / n };
}
