// The loss a pair has when the policy equals its reference (h_w = h_l = 0): where an untrained run's loss
// starts, and where a run that does not learn stays.
import { dpoPairLoss, type DpoLossKind } from '../gpu/reference/dpo_loss';

/** Loss kinds whose per-pair loss is a function of the two log-ratios alone (not sft's NLL, not aot's batch sort). */
const PAIR_KINDS = new Set(['sigmoid', 'cdpo', 'robust', 'hinge', 'ipo', 'exo_pair', 'nca_pair', 'bco_pair', 'sppo_hard', 'apo_zero', 'apo_down', 'discopop', 'sigmoid_norm']);

/** TRL's loss_type list ("sigmoid" or "sigmoid,bco_pair") with its loss_weights (1 each when absent). */
export function lossTerms(lossType: string, weights?: readonly number[] | null): { kind: string; weight: number }[] {
  return lossType
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
    .map((kind, i) => ({ kind, weight: weights?.[i] ?? 1 }));
}

/**
 * The loss of a pair whose policy equals its reference (h_w = h_l = 0), for the run's loss type(s), from
 * the engine's CPU reference; NaN when a term does not depend on the log-ratios alone (sft, aot).
 */
export function lossAtZero(lossType: string, beta: number, labelSmoothing: number, weights?: readonly number[] | null): number {
  let sum = 0;
  for (const t of lossTerms(lossType, weights)) {
    if (!PAIR_KINDS.has(t.kind)) return NaN;
    sum += t.weight * dpoPairLoss(t.kind as DpoLossKind, beta, labelSmoothing, 0, 0, 1, 1).loss;
  }
  return sum;
}
