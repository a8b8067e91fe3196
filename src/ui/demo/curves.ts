// The "what is DPO doing" panel's math: the per-pair loss and its gradient weight as functions of the
// log-ratio margin h = (log pi(y_w) - log pi_ref(y_w)) - (log pi(y_l) - log pi_ref(y_l)), for one beta and
// loss type. The formulas are the engine's CPU reference (src/gpu/reference/dpo_loss.ts), so the curves
// are exactly what the trainer computes. Pure functions, no React (tested in test/ui-demo.test.tsx).
import { dpoPairLoss, type DpoLossKind } from '../../gpu/reference/dpo_loss';
import type { PairRecord } from '../../dpo/trainer';

export class CurveError extends Error {
  override name = 'CurveError';
}

/** Loss of a pair with margin h (ipo reads h as the length-averaged margin). */
export function pairLoss(kind: DpoLossKind, beta: number, eps: number, h: number): number {
  return dpoPairLoss(kind, beta, eps, h, 0, 1, 1).loss;
}

/**
 * The pair's gradient weight: -(1/beta) dLoss/dh, so that the gradient on the policy is
 * -beta * weight * (grad log pi(y_w) - grad log pi(y_l)). For sigmoid DPO it is sigma(-beta h) =
 * sigma(r_l - r_w), the trainer's PairRecord.weight; large where the pair is ordered wrongly.
 */
export function gradWeight(kind: DpoLossKind, beta: number, eps: number, h: number): number {
  const w = -dpoPairLoss(kind, beta, eps, h, 0, 1, 1).dc / beta;
  return w === 0 ? 0 : w; // no -0 in the text alternative
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
export function curvePoints(kind: DpoLossKind, beta: number, eps: number, lo: number, hi: number, n = 121): CurvePoint[] {
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
export function pairDots(pairs: readonly PairRecord[], runBeta: number, kind: DpoLossKind, beta: number, eps: number): PairDot[] {
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
