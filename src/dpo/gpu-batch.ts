// Moves a collated pair batch to the GPU: token ids, positions, next-token targets and the masks
// the loss and the metrics need. Everything here is computed once per batch on the CPU (it is tiny).
import type { Gpu, Tensor } from '../gpu/context';
import { NO_TARGET, type SeqBatch } from '../model/transformer';
import type { TokenizedPair } from './tokenize';

/** 2N sequences of length T: s < N is prompt+chosen[s], s >= N is prompt+rejected[s-N] (fixtures' layout). */
export interface PairBatch {
  N: number;
  /** Number of sequences: 2N for preference pairs (default); N for SFT batches of prompt+chosen only. */
  S?: number;
  T: number;
  inputIds: Uint32Array; // [2N*T]
  completionMask: Float32Array; // [2N*T], 1 where token t belongs to the completion
  /** [2N] real length of each sequence (collate's); when given, pad positions attend to real tokens only (HF's attention_mask). */
  seqLens?: Uint32Array;
}

export type { TokenizedPair };

/** SFT batch: prompt+chosen sequences only, the loss on the chosen tokens. */
export function packSftSequences(pairs: readonly TokenizedPair[], padId: number, maxLength: number | null = null): PairBatch {
  const N = pairs.length;
  const seqs = pairs.map((p) => {
    const ids = [...p.promptIds, ...p.chosenIds];
    const mask = ids.map((_, t) => (t >= p.promptIds.length ? 1 : 0));
    // SFTTrainer truncates each sequence to max_length, keeping the start
    return maxLength !== null && ids.length > maxLength ? { ids: ids.slice(0, maxLength), mask: mask.slice(0, maxLength) } : { ids, mask };
  });
  const T = Math.max(2, ...seqs.map((s) => s.ids.length));
  const inputIds = new Uint32Array(N * T).fill(padId);
  const completionMask = new Float32Array(N * T);
  seqs.forEach((s, i) => {
    inputIds.set(s.ids, i * T);
    completionMask.set(s.mask, i * T);
  });
  return { N, S: N, T, inputIds, completionMask };
}

export interface GpuPairBatch {
  N: number;
  S: number;
  T: number;
  seq: SeqBatch;
  /** [2N*T] 1 at rows whose NEXT token is a completion token (the rows that are scored). */
  scored: Tensor;
  /** Same, restricted to chosen / rejected sequences (for TRL's logits/chosen and logits/rejected). */
  scoredChosen: Tensor;
  scoredRejected: Tensor;
  /** [2N] completion lengths. */
  lengths: Tensor;
  /** Host copies, for metrics and checks. */
  host: { lengths: Float32Array; scored: Float32Array; chosenTokens: number; rejectedTokens: number };
}

export function uploadPairBatch(gpu: Gpu, b: PairBatch): GpuPairBatch {
  const S = b.S ?? 2 * b.N;
  const { T } = b;
  const R = S * T;
  if (b.inputIds.length !== R || b.completionMask.length !== R) throw new Error(`batch arrays must hold 2N*T = ${R} entries`);
  const pos = new Uint32Array(R);
  const targets = new Uint32Array(R).fill(NO_TARGET);
  const scored = new Float32Array(R);
  const scoredChosen = new Float32Array(R);
  const scoredRejected = new Float32Array(R);
  const lengths = new Float32Array(S);
  for (let s = 0; s < S; s++) {
    for (let t = 0; t < T; t++) {
      const r = s * T + t;
      pos[r] = t;
      if (b.completionMask[r] > 0) lengths[s]++;
      if (t + 1 < T && b.completionMask[r + 1] > 0) {
        targets[r] = b.inputIds[r + 1];
        scored[r] = 1;
        (s < b.N ? scoredChosen : scoredRejected)[r] = 1;
      }
    }
  }
  let lens: Tensor | undefined;
  if (b.seqLens) {
    if (b.seqLens.length !== S) throw new Error(`batch seqLens must hold ${S} lengths, got ${b.seqLens.length}`);
    if (b.seqLens.some((n) => n < 1 || n > T)) throw new Error(`batch seqLens must lie in 1..${T}`);
    lens = gpu.upload(b.seqLens, [S]);
  }
  const chosenTokens = scoredChosen.reduce((a, c) => a + c, 0);
  const rejectedTokens = scoredRejected.reduce((a, c) => a + c, 0);
  return {
    N: b.N,
    S,
    T,
    seq: { S, T, ids: gpu.upload(b.inputIds, [R]), pos: gpu.upload(pos, [R]), targets: gpu.upload(targets, [R]), lens },
    scored: gpu.upload(scored),
    scoredChosen: gpu.upload(scoredChosen),
    scoredRejected: gpu.upload(scoredRejected),
    lengths: gpu.upload(lengths),
    host: { lengths, scored, chosenTokens, rejectedTokens },
  };
}

export function releasePairBatch(gpu: Gpu, b: GpuPairBatch): void {
  gpu.release(b.seq.ids, b.seq.pos, b.seq.targets, b.seq.lens, b.scored, b.scoredChosen, b.scoredRejected, b.lengths);
}
