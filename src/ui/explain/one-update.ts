// "One update by hand": the numbers the loss of one pair is made of, in the order the trainer computes
// them (four log-probs -> h -> beta h -> loss -> gradient weight), before and after the updates between
// two evaluations. Pure; the loss and its derivative are the engine's CPU reference.
import { lossTerms } from '../../dpo/diagnosis';
import { dpoPairLoss, type DpoLossKind } from '../../gpu/reference/dpo_loss';
import type { PairRecord } from '../../dpo/trainer';

/** Kinds whose pair loss the CPU reference computes from the two log-ratios alone. */
const PAIR_ONLY = /^(sigmoid|cdpo|robust|hinge|ipo|exo_pair|nca_pair|bco_pair|sppo_hard|apo_zero|apo_down|discopop|sigmoid_norm)$/;

export interface UpdateRow {
  key: string;
  /** TeX of the quantity's name, and the same in words (for screen readers and table headers). */
  tex: string;
  label: string;
  before: number;
  after: number;
}

/**
 * The pair's numbers under the run's loss type(s) (TRL's comma list with loss_weights): h, beta h, the loss
 * and the gradient weight -(1/beta) dloss/dh_w on the chosen log-ratio. NaN for terms the pair alone does
 * not determine (sft's batch NLL, aot's batch sort).
 */
export function pairNumbers(p: PairRecord, lossType: string, beta: number, labelSmoothing: number, weights?: readonly number[] | null) {
  const lc = p.policyChosen - p.referenceChosen;
  const lr = p.policyRejected - p.referenceRejected;
  const Lc = p.tokens?.chosen.ids.length ?? 1;
  const Lr = p.tokens?.rejected.ids.length ?? 1;
  let loss = 0;
  let dc = 0;
  for (const t of lossTerms(lossType, weights)) {
    if (!PAIR_ONLY.test(t.kind)) {
      loss = NaN;
      dc = NaN;
      break;
    }
    const r = dpoPairLoss(t.kind as DpoLossKind, beta, labelSmoothing, lc, lr, Lc, Lr);
    loss += t.weight * r.loss;
    dc += t.weight * r.dc;
  }
  const h = lc - lr;
  const w = -dc / beta;
  return { h, betaH: beta * h, loss, weight: w === 0 ? 0 : w };
}

export function updateRows(before: PairRecord, after: PairRecord, lossType: string, beta: number, labelSmoothing: number, weights?: readonly number[] | null): UpdateRow[] {
  const b = pairNumbers(before, lossType, beta, labelSmoothing, weights);
  const a = pairNumbers(after, lossType, beta, labelSmoothing, weights);
  return [
    { key: 'policyChosen', label: 'log pi(y_w)', tex: '\\log\\pi_\\theta(y_w\\mid x)', before: before.policyChosen, after: after.policyChosen },
    { key: 'policyRejected', label: 'log pi(y_l)', tex: '\\log\\pi_\\theta(y_l\\mid x)', before: before.policyRejected, after: after.policyRejected },
    { key: 'referenceChosen', label: 'log pi_ref(y_w)', tex: '\\log\\pi_{\\text{ref}}(y_w\\mid x)', before: before.referenceChosen, after: after.referenceChosen },
    { key: 'referenceRejected', label: 'log pi_ref(y_l)', tex: '\\log\\pi_{\\text{ref}}(y_l\\mid x)', before: before.referenceRejected, after: after.referenceRejected },
    { key: 'h', label: 'h', tex: 'h', before: b.h, after: a.h },
    { key: 'betaH', label: 'beta h', tex: '\\beta h', before: b.betaH, after: a.betaH },
    { key: 'loss', label: 'loss', tex: '\\ell', before: b.loss, after: a.loss },
    { key: 'weight', label: 'gradient weight w', tex: 'w = -\\tfrac{1}{\\beta}\\,\\partial\\ell/\\partial h', before: b.weight, after: a.weight },
  ];
}
