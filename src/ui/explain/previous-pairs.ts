// The eval pairs of the evaluation before the current one, so "one update by hand" can show how each
// number moved. Before the first evaluation of a run the previous state is the start: policy = reference.
import type { PairRecord } from '../../dpo/trainer';
import { storeApi } from '../store';

export interface PreviousPairs {
  /** Step of the earlier evaluation (0 = the start of the run, policy = reference). */
  step: number;
  pairs: PairRecord[] | null;
}

let previous: PreviousPairs = { step: 0, pairs: null };

storeApi.subscribe((s, prev) => {
  if (s.pairs === prev.pairs) return;
  if (s.pairs.length === 0 || prev.pairs.length === 0 || s.run.id !== prev.run.id) previous = { step: 0, pairs: null };
  else previous = { step: prev.evalHistory.at(-1)?.step ?? 0, pairs: prev.pairs };
});

export function previousPairs(): PreviousPairs {
  return previous;
}

/** The selected pair as it was at the previous evaluation; at the start the policy is the reference. */
export function pairBefore(p: PairRecord, prev: PreviousPairs): PairRecord {
  const old = prev.pairs?.find((q) => q.index === p.index);
  if (old) return old;
  return { ...p, policyChosen: p.referenceChosen, policyRejected: p.referenceRejected, rewardChosen: 0, rewardRejected: 0, margin: 0, weight: 0.5, tokens: undefined };
}
