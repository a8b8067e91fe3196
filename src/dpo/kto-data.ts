// KTO's data as TRL 1.13's KTOTrainer prepares it (trl/trainer/kto_trainer.py _prepare_dataset):
// 1. paired data is unpaired by trl.data_utils.unpair_preference_dataset, a batched `datasets.map` (batches of
//    1000 rows): each batch of n pairs becomes its n chosen completions (label True) then its n rejected
//    ones (label False), each with its prompt;
// 2. the KL completions: within each batch of per_device_train_batch_size examples, in dataset order,
//    example i is also scored with the completion of example i-1 (the first with the batch's last), the
//    mismatched (prompt, completion) pairs TRL's KL reference point is estimated from.
// An example travels as a TokenizedPair {promptIds, chosenIds: completion, rejectedIds: KL completion} so the
// collator, the GPU batch and the trainer's order are the DPO ones; `label` says desirable or not. Data already
// in TRL's unpaired format (tokenizeUnpairedDataset: labelled, rejectedIds empty) skips step 1, as in TRL.
import { Rng } from '../data/split';
import type { TokenizedPair } from './tokenize';

export interface KtoExample extends TokenizedPair {
  label: boolean;
}

/** datasets.map's default batch size, which unpair_preference_dataset runs under. */
export const UNPAIR_MAP_BATCH = 1000;

/** An unpaired example before its KL completion is attached. */
export interface UnpairedExample {
  promptIds: number[];
  completionIds: number[];
  label: boolean;
  row?: number;
}

/** TRL's unpair_preference_dataset on tokenized pairs (same tokens: KTO and DPO tokenize a completion alike). */
export function unpairPreference(pairs: readonly TokenizedPair[]): UnpairedExample[] {
  const out: UnpairedExample[] = [];
  for (let i = 0; i < pairs.length; i += UNPAIR_MAP_BATCH) {
    const chunk = pairs.slice(i, i + UNPAIR_MAP_BATCH);
    for (const p of chunk) out.push({ promptIds: p.promptIds, completionIds: p.chosenIds, label: true, row: p.row });
    for (const p of chunk) out.push({ promptIds: p.promptIds, completionIds: p.rejectedIds, label: false, row: p.row });
  }
  return out;
}

/** Attaches each example's KL completion (rotation by one within batches of batchSize, TRL's add_kl_completion_ids). */
export function withKlCompletions(examples: readonly UnpairedExample[], batchSize: number): KtoExample[] {
  const out: KtoExample[] = [];
  for (let i = 0; i < examples.length; i += batchSize) {
    const chunk = examples.slice(i, i + batchSize);
    chunk.forEach((e, j) => {
      const kl = chunk[(j - 1 + chunk.length) % chunk.length].completionIds;
      out.push({ promptIds: e.promptIds, chosenIds: e.completionIds, rejectedIds: kl, label: e.label, row: e.row });
    });
  }
  return out;
}

/** True for examples of TRL's unpaired format (they carry their label), false for pairs. */
export const isUnpaired = (examples: readonly TokenizedPair[]): boolean => examples.length > 0 && examples[0].label !== undefined;

/**
 * Paired data (unpaired first, as TRL) or unpaired data -> KTO examples with their KL completions. With
 * `shuffleSeed` the unpaired examples are shuffled once before the KL completions are attached, as a TRL user's
 * `dataset.shuffle(seed)` before KTOTrainer does: KTO's sampler is sequential, and unpairing puts each 1000 pairs'
 * chosen answers before their rejected ones, so unshuffled a short run sees desirable examples only. The
 * export writes the examples in this order (ktoTrainRecords), so TRL's sequential run sees the same batches.
 */
export function ktoExamples(pairs: readonly TokenizedPair[], batchSize: number, shuffleSeed?: number): KtoExample[] {
  let examples = isUnpaired(pairs)
    ? pairs.map((p) => ({ promptIds: p.promptIds, completionIds: p.chosenIds, label: p.label!, row: p.row }))
    : unpairPreference(pairs);
  if (shuffleSeed !== undefined) {
    const order = new Rng(shuffleSeed).permutation(examples.length);
    examples = order.map((i) => examples[i]);
  }
  return withKlCompletions(examples, batchSize);
}

/** Where a KTO example came from: its record's 1-based row and its label (a pair gives two examples, one per label). */
export interface KtoSource {
  row: number;
  label: boolean;
}

/**
 * The training file of a KTO run in TRL's unpaired format, in the order the run trained (KTOTrainer samples in
 * dataset order): each source's record from `records` (paired ones unpaired, as unpair_preference_dataset writes
 * them), looked up by row.
 */
export function ktoTrainRecords<R extends { row: number }>(
  order: readonly KtoSource[],
  records: readonly R[],
  unpaired: (r: R, label: boolean) => Record<string, unknown>,
): Record<string, unknown>[] {
  const byRow = new Map(records.map((r) => [r.row, r]));
  return order.map((o) => {
    const r = byRow.get(o.row);
    if (!r) throw new RangeError(`KTO example of row ${o.row} has no record`);
    return unpaired(r, o.label);
  });
}
