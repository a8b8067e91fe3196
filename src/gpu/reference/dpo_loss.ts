// CPU float64 reference for the fused DPO loss (src/shaders/dpo_loss.wgsl) and the place where the loss
// kinds are defined. Formulas follow TRL's DPOTrainer (trl/trainer/dpo_trainer.py, 2026):
//   sigmoid: -logsig(beta h)                     hinge: relu(1 - beta h)
//   robust:  (-(1-e) logsig(beta h) + e logsig(-beta h)) / (1 - 2e)
//   ipo:     (h' - 1/(2 beta))^2 where h' uses log-ratios divided by the completion length (clamped to >= 1)
//   cdpo:    -(1-e) logsig(beta h) - e logsig(-beta h): TRL <= 0.28's "sigmoid" with label_smoothing
//            (conservative DPO); TRL 0.29+ ignores label_smoothing for sigmoid, so it is its own kind here.
// with h = (pc - rc) - (pr - rr). Rewards are TRL's: beta * (policy - reference) per sequence, NOT length
// normalized even for ipo (current TRL normalizes only inside the ipo loss; TRL < 0.20-era code divided the
// logps themselves, so its ipo rewards were per-token).

export type DpoLossKind = 'sigmoid' | 'cdpo' | 'robust' | 'hinge' | 'ipo';
export const DPO_LOSS_KINDS: readonly DpoLossKind[] = ['sigmoid', 'cdpo', 'robust', 'hinge', 'ipo'];

export interface DpoLossOptions {
  N: number;
  beta: number;
  kind: DpoLossKind;
  labelSmoothing: number;
  /** reference log-probs treated as 0 */
  referenceFree?: boolean;
  /** multiplies the gradient (e.g. 1 / gradient_accumulation_steps); default 1 */
  gradScale?: number;
}

/** Throws a RangeError with a sentence when the options are not usable. */
export function checkDpoLossOptions(o: DpoLossOptions): void {
  if (!Number.isInteger(o.N) || o.N < 1) throw new RangeError(`dpoLoss: the number of pairs N must be a positive integer, got ${o.N}.`);
  if (!DPO_LOSS_KINDS.includes(o.kind)) {
    throw new RangeError(`dpoLoss: unknown loss kind "${String(o.kind)}"; use one of ${DPO_LOSS_KINDS.join(', ')}.`);
  }
  if (!(o.beta > 0) || !Number.isFinite(o.beta)) throw new RangeError(`dpoLoss: beta must be a positive finite number, got ${o.beta}.`);
  const e = o.labelSmoothing;
  if (o.kind === 'robust' && !(e >= 0 && e < 0.5)) {
    throw new RangeError(`dpoLoss: the robust loss needs label smoothing in [0, 0.5) (the probability that a label is flipped), got ${e}.`);
  }
  if (o.kind === 'cdpo' && !(e >= 0 && e <= 0.5)) {
    throw new RangeError(`dpoLoss: the cdpo loss needs label smoothing in [0, 0.5], got ${e}.`);
  }
  const s = o.gradScale ?? 1;
  if (!Number.isFinite(s)) throw new RangeError(`dpoLoss: gradScale must be a finite number, got ${s}.`);
}

const log1pexp = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
/** log(sigmoid(x)) */
export const logSigmoid = (x: number): number => -log1pexp(-x);
export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

export interface DpoLossResult {
  /** [N] per-pair losses */
  losses: Float64Array;
  /** mean over pairs (TRL's `loss`) */
  mean: number;
  /** [2N] beta * (policy - reference), chosen then rejected */
  rewards: Float64Array;
  /** [2N] d(gradScale * mean loss) / d policy logp */
  dlogp: Float64Array;
}

/** Loss of one pair and its derivatives with respect to the policy's chosen and rejected log-probs. */
export function dpoPairLoss(
  kind: DpoLossKind,
  beta: number,
  e: number,
  lc: number, // chosen log-ratio pc - rc
  lr: number, // rejected log-ratio pr - rr
  lenC: number,
  lenR: number,
): { loss: number; dc: number; dr: number } {
  if (kind === 'ipo') {
    const Lc = Math.max(lenC, 1);
    const Lr = Math.max(lenR, 1);
    const u = lc / Lc - lr / Lr - 1 / (2 * beta);
    return { loss: u * u, dc: (2 * u) / Lc, dr: (-2 * u) / Lr };
  }
  const z = beta * (lc - lr);
  let loss: number;
  let dz: number;
  switch (kind) {
    case 'sigmoid':
      loss = -logSigmoid(z);
      dz = -sigmoid(-z);
      break;
    case 'cdpo':
      loss = -(1 - e) * logSigmoid(z) - e * logSigmoid(-z);
      dz = -(1 - e) * sigmoid(-z) + e * sigmoid(z);
      break;
    case 'robust':
      loss = (-(1 - e) * logSigmoid(z) + e * logSigmoid(-z)) / (1 - 2 * e);
      dz = (-(1 - e) * sigmoid(-z) - e * sigmoid(z)) / (1 - 2 * e);
      break;
    case 'hinge':
      loss = Math.max(0, 1 - z);
      dz = z < 1 ? -1 : 0;
      break;
    default:
      throw new RangeError(`dpoLoss: unknown loss kind "${String(kind)}".`);
  }
  return { loss, dc: beta * dz, dr: -beta * dz };
}

/**
 * The DPO loss in float64. policy/reference/lengths are [2N] (chosen 0..N-1, rejected N..2N-1); lengths are
 * completion token counts (used by ipo only); reference may be omitted when referenceFree.
 */
export function dpoLossReference(
  inp: { policy: ArrayLike<number>; reference?: ArrayLike<number>; lengths?: ArrayLike<number> },
  o: DpoLossOptions,
): DpoLossResult {
  checkDpoLossOptions(o);
  const { N, beta, kind } = o;
  const e = o.labelSmoothing;
  const scale = (o.gradScale ?? 1) / N;
  const ref = (i: number): number => (o.referenceFree ? 0 : inp.reference![i]);
  if (!o.referenceFree && !inp.reference) throw new RangeError('dpoLoss: reference log-probs are required unless referenceFree is set.');
  if (kind === 'ipo' && !inp.lengths) throw new RangeError('dpoLoss: the ipo loss needs the completion lengths.');
  const losses = new Float64Array(N);
  const rewards = new Float64Array(2 * N);
  const dlogp = new Float64Array(2 * N);
  let sum = 0;
  for (let i = 0; i < N; i++) {
    const lc = inp.policy[i] - ref(i);
    const lr = inp.policy[N + i] - ref(N + i);
    rewards[i] = beta * lc;
    rewards[N + i] = beta * lr;
    const r = dpoPairLoss(kind, beta, e, lc, lr, inp.lengths?.[i] ?? 1, inp.lengths?.[N + i] ?? 1);
    losses[i] = r.loss;
    sum += r.loss;
    dlogp[i] = scale * r.dc;
    dlogp[N + i] = scale * r.dr;
  }
  return { losses, mean: sum / N, rewards, dlogp };
}
