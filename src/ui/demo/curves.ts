// The "what is DPO doing" panel's math: the per-pair loss and its gradient weight as functions of the
// log-ratio margin h = (log pi(y_w) - log pi_ref(y_w)) - (log pi(y_l) - log pi_ref(y_l)), for one beta and
// loss type. The formulas are the engine's CPU reference (src/gpu/reference/dpo_loss.ts), so the curves
// are exactly what the trainer computes. Pure functions, no React (tested in test/ui-demo.test.tsx).
import { dpoPairLoss, logSigmoid, sigmoid, type DpoLossKind, type DpoLossTerm, type FDivergence } from '../../gpu/reference/dpo_loss';
import type { PairRecord } from '../../dpo/trainer';

export class CurveError extends Error {
  override name = 'CurveError';
}

/** What the curves draw: a run's loss (TRL's loss_type list with weights and the options that shape it). */
export interface LossSpec {
  terms: readonly DpoLossTerm[];
  fDivergence?: FDivergence;
  fAlphaCoef?: number;
  discopopTau?: number;
}

/** The curves' loss of a run's arguments (loss_type "a,b" with loss_weights; rpo_alpha adds an sft term). */
export function lossSpecOf(a: {
  loss_type: string;
  loss_weights?: readonly number[] | null;
  rpo_alpha?: number | null;
  f_divergence_type?: FDivergence;
  f_alpha_divergence_coef?: number;
  discopop_tau?: number;
}): LossSpec {
  const kinds = a.loss_type
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean) as DpoLossKind[];
  const terms: DpoLossTerm[] = kinds.map((kind, i) => ({ kind, weight: a.loss_weights?.[i] ?? 1 }));
  if (a.rpo_alpha) terms.push({ kind: 'sft', weight: a.rpo_alpha });
  return { terms, fDivergence: a.f_divergence_type, fAlphaCoef: a.f_alpha_divergence_coef, discopopTau: a.discopop_tau };
}

const specOf = (k: DpoLossKind | LossSpec): LossSpec => (typeof k === 'string' ? { terms: [{ kind: k, weight: 1 }] } : k);

/**
 * Loss of one pair at margin h and its derivatives with respect to the chosen and rejected log-ratios, the pair
 * moving symmetrically (chosen log-ratio h/2, rejected -h/2; the kinds on h alone do not care). Batch-wide kinds
 * are drawn for one pair: aot and aot_unpaired are then cdpo's form on h, and sft's NLL does not depend on h
 * (drawn as 0, with no gradient along h).
 */
export function pairLossAt(k: DpoLossKind | LossSpec, beta: number, eps: number, h: number): { loss: number; dc: number; dr: number } {
  const spec = specOf(k);
  let loss = 0;
  let dc = 0;
  let dr = 0;
  for (const { kind, weight } of spec.terms) {
    if (kind === 'sft') continue;
    if (kind === 'aot' || kind === 'aot_unpaired') {
      const z = beta * h;
      loss += weight * (-(1 - eps) * logSigmoid(z) - eps * logSigmoid(-z));
      const d = -(1 - eps) * sigmoid(-z) + eps * sigmoid(z);
      dc += weight * beta * d;
      dr -= weight * beta * d;
      continue;
    }
    const r = dpoPairLoss(kind, beta, eps, h / 2, -h / 2, 1, 1, spec);
    loss += weight * r.loss;
    dc += weight * r.dc;
    dr += weight * r.dr;
  }
  return { loss, dc, dr };
}

/** Loss of a pair with margin h (ipo reads h as the length-averaged margin). */
export function pairLoss(kind: DpoLossKind | LossSpec, beta: number, eps: number, h: number): number {
  return pairLossAt(kind, beta, eps, h).loss;
}

/**
 * The pair's gradient weight: -(1/beta) dLoss/dh along the margin, -(dL/dlc - dL/dlr) / (2 beta), as the
 * trainer's PairRecord.weight (src/dpo/metrics.ts gradientWeights). For sigmoid DPO it is sigma(-beta h) =
 * sigma(r_l - r_w), large where the pair is ordered wrongly.
 */
export function gradWeight(kind: DpoLossKind | LossSpec, beta: number, eps: number, h: number): number {
  const r = pairLossAt(kind, beta, eps, h);
  const w = -(r.dc - r.dr) / (2 * beta);
  return w === 0 ? 0 : w; // no -0 in the text alternative
}

/** The sentence the loss chart shows: what the loss is when the policy equals the reference (h = 0). */
export function lossStartText(a: Parameters<typeof lossSpecOf>[0] & { beta: number; label_smoothing: number }): string {
  const spec = lossSpecOf(a);
  if (spec.terms.length === 0) return 'Loss of the run.';
  const l0 = pairLoss(spec, a.beta, a.label_smoothing, 0);
  const sft = spec.terms.filter((t) => t.kind === 'sft');
  const single = spec.terms.length === 1 ? spec.terms[0].kind : null;
  const named = single === 'sigmoid' ? `log 2 = ${l0.toFixed(3)}` : l0.toPrecision(4);
  const name = spec.terms.map((t) => (spec.terms.length > 1 ? `${t.weight} x ${t.kind}` : t.kind)).join(' + ');
  if (single === 'sft') return 'sft loss: the NLL per token of the chosen answers (it starts at the model\'s own NLL).';
  const tail = sft.length ? ` plus ${sft.map((t) => t.weight).join(' + ')} x the chosen answers' NLL per token (the sft term)` : '';
  return `${name} loss; starts at ${named}${tail} when the policy equals the reference.`;
}

export interface CurvePoint {
  h: number;
  loss: number;
  weight: number;
}

/** Range of h to draw: a few 1/beta widths around 0, wide enough for every dot. */
export function curveRange(beta: number, dots: readonly number[] = []): [number, number] {
  let lo = -6 / beta;
  let hi = 6 / beta;
  for (const d of dots) {
    if (Number.isFinite(d)) {
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
  }
  const pad = 0.05 * (hi - lo);
  return [lo - pad, hi + pad];
}

/** `n` evenly spaced samples of loss and weight over [lo, hi]. */
export function curvePoints(kind: DpoLossKind | LossSpec, beta: number, eps: number, lo: number, hi: number, n = 121): CurvePoint[] {
  if (!(beta > 0) || !Number.isFinite(beta)) throw new CurveError(`beta must be a positive number to draw the loss, not ${beta}.`);
  if (!(hi > lo)) throw new CurveError(`The margin range is empty (${lo} to ${hi}).`);
  const out: CurvePoint[] = [];
  for (let i = 0; i < n; i++) {
    const h = lo + ((hi - lo) * i) / (n - 1);
    out.push({ h, loss: pairLoss(kind, beta, eps, h), weight: gradWeight(kind, beta, eps, h) });
  }
  return out;
}

export interface PairDot extends CurvePoint {
  index: number;
  /** the pair's reward margin r_w - r_l under the run's beta */
  margin: number;
  /** ordered right by the implicit reward */
  right: boolean;
}

/**
 * The pairs as dots on the curves: h = margin / runBeta (PairRecord.margin is beta * h under the
 * run's beta), and loss and weight under the panel's beta (which may differ: "what if beta were...").
 */
export function pairDots(pairs: readonly PairRecord[], runBeta: number, kind: DpoLossKind | LossSpec, beta: number, eps: number): PairDot[] {
  if (!(runBeta > 0)) return [];
  return pairs.map((p) => {
    const h = p.margin / runBeta;
    return { index: p.index, margin: p.margin, right: p.margin > 0, h, loss: pairLoss(kind, beta, eps, h), weight: gradWeight(kind, beta, eps, h) };
  });
}

/** Mean loss and weight of the dots, and how many are ordered right (for the text alternative). */
export function dotSummary(dots: readonly PairDot[]): { n: number; right: number; meanLoss: number; meanWeight: number; meanH: number } {
  const n = dots.length;
  if (n === 0) return { n: 0, right: 0, meanLoss: NaN, meanWeight: NaN, meanH: NaN };
  const sum = (f: (d: PairDot) => number) => dots.reduce((a, d) => a + f(d), 0);
  return { n, right: dots.filter((d) => d.right).length, meanLoss: sum((d) => d.loss) / n, meanWeight: sum((d) => d.weight) / n, meanH: sum((d) => d.h) / n };
}

/** About `count` round tick values (1, 2, 5 or 10 times a power of ten apart) inside [lo, hi], 0 included when inside. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const e = raw / p;
  const step = (e >= 7.5 ? 10 : e >= 3.5 ? 5 : e >= 1.5 ? 2 : 1) * p;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) out.push(Number(t.toPrecision(12)) || 0);
  return out;
}
