// CPU float64 reference for the fused DPO loss (src/shaders/dpo_loss.wgsl) and the place where the loss
// kinds are defined. Formulas follow TRL 1.13's DPOTrainer._compute_loss (trl/trainer/dpo_trainer.py):
// with log-ratios lc = pc - rc, lr = pr - rr, rewards rc' = beta lc, rr' = beta lr, f-divergence scores
// sc = f'(lc), sr = f'(lr) (reverse_kl: the log-ratio itself) and z = beta (sc - sr):
//   sigmoid:  -logsig(z)                          hinge:  relu(1 - z)
//   ipo:      (sc/Lc - sr/Lr - 1/(2 beta))^2, L = completion length clamped to >= 1
//   exo_pair: sig(z)(logsig(z) - log(1-e)) + sig(-z)(logsig(-z) - log e)
//   nca_pair: -logsig(rc') - logsig(-rc')/2 - logsig(-rr')/2
//   robust:   (-(1-e) logsig(z) + e logsig(-z)) / (1 - 2e)
//   bco_pair: -logsig(rc') - logsig(-rr')          sppo_hard: (lc - 1/(2 beta))^2 + (lr + 1/(2 beta))^2
//   aot:      cdpo's form on sort(pc - pr) - sort(rc - rr) (sorted over the batch)
//   aot_unpaired: cdpo's form on sort(lc) - sort(lr)
//   apo_zero: 1 - sig(rc') + sig(rr')             apo_down: sig(rc') + 1 - sig(rc' - rr')
//   discopop: m = sig(z/tau): -logsig(z)(1 - m) + exp(-z) m
//   sft:      mean NLL over the batch's chosen completion tokens (the same value for every pair)
//   sigmoid_norm: -logsig(beta (sc/Lc - sr/Lr))
//   cdpo (ours): -(1-e) logsig(z) - e logsig(-z): TRL <= 0.28's "sigmoid" with label smoothing (conservative
//            DPO); TRL 0.29+ ignores label_smoothing for sigmoid, so it is its own kind here.
// Several kinds combine as sum_k weight_k * mean_pairs(loss_k), TRL's loss_type list with loss_weights; with
// use_weighting (WPO) every pair's loss is multiplied by the detached weight w_c * w_r, w = exp(mean over the
// completion's tokens of log p(token) - log sum_v p(v)^2). Rewards are TRL's: beta * (policy - reference) per
// sequence, never length-normalized.

export const TRL_LOSS_TYPES = [
  'sigmoid',
  'hinge',
  'ipo',
  'exo_pair',
  'nca_pair',
  'robust',
  'bco_pair',
  'sppo_hard',
  'aot',
  'aot_unpaired',
  'apo_zero',
  'apo_down',
  'discopop',
  'sft',
  'sigmoid_norm',
] as const;
export type TrlLossType = (typeof TRL_LOSS_TYPES)[number];
/** TRL 1.13's loss types plus ours: cdpo (conservative DPO). */
export type DpoLossKind = TrlLossType | 'cdpo';
export const DPO_LOSS_KINDS: readonly DpoLossKind[] = [...TRL_LOSS_TYPES, 'cdpo'];

export const F_DIVERGENCES = ['reverse_kl', 'forward_kl', 'js_divergence', 'alpha_divergence'] as const;
export type FDivergence = (typeof F_DIVERGENCES)[number];
/** The kinds built on the chosen-rejected score difference (TRL's list): the only ones f-DPO generalises. */
export const F_DIVERGENCE_KINDS: readonly DpoLossKind[] = ['sigmoid', 'sigmoid_norm', 'hinge', 'ipo', 'exo_pair', 'robust', 'discopop', 'sft'];

export interface DpoLossTerm {
  kind: DpoLossKind;
  weight: number;
}

export interface DpoLossOptions {
  N: number;
  beta: number;
  /** One kind (weight 1); ignored when `terms` is given. */
  kind?: DpoLossKind;
  /** TRL's loss_type list with loss_weights. */
  terms?: readonly DpoLossTerm[];
  labelSmoothing: number;
  /** f-DPO (TRL's f_divergence_type); default reverse_kl. */
  fDivergence?: FDivergence;
  /** TRL's f_alpha_divergence_coef; default 0.5. */
  fAlphaCoef?: number;
  /** TRL's discopop_tau; default 0.05. */
  discopopTau?: number;
  /** WPO (TRL's use_weighting): needs the per-sequence aligned log-prob sums and scored lengths. */
  useWeighting?: boolean;
  /** Completion tokens of the batch's chosen sequences (the sft term's denominator). */
  chosenTokens?: number;
  /** reference log-probs treated as 0 */
  referenceFree?: boolean;
  /** multiplies the gradient (e.g. 1 / gradient_accumulation_steps); default 1 */
  gradScale?: number;
}

export function lossTerms(o: Pick<DpoLossOptions, 'kind' | 'terms'>): readonly DpoLossTerm[] {
  return o.terms ?? [{ kind: o.kind ?? 'sigmoid', weight: 1 }];
}

/** Throws a RangeError with a sentence when the options are not usable. */
export function checkDpoLossOptions(o: DpoLossOptions): void {
  if (!Number.isInteger(o.N) || o.N < 1) throw new RangeError(`dpoLoss: the number of pairs N must be a positive integer, got ${o.N}.`);
  const terms = lossTerms(o);
  if (terms.length === 0) throw new RangeError('dpoLoss: at least one loss type is needed.');
  if (terms.length > 8) throw new RangeError(`dpoLoss: at most 8 loss types can be combined, got ${terms.length}.`);
  for (const t of terms) {
    if (!DPO_LOSS_KINDS.includes(t.kind)) {
      throw new RangeError(`dpoLoss: unknown loss kind "${String(t.kind)}"; use one of ${DPO_LOSS_KINDS.join(', ')}.`);
    }
    if (!Number.isFinite(t.weight)) throw new RangeError(`dpoLoss: the weight of loss type ${t.kind} must be a finite number, got ${t.weight}.`);
  }
  if (!(o.beta > 0) || !Number.isFinite(o.beta)) throw new RangeError(`dpoLoss: beta must be a positive finite number, got ${o.beta}.`);
  const e = o.labelSmoothing;
  const has = (k: DpoLossKind) => terms.some((t) => t.kind === k);
  if (has('robust') && !(e >= 0 && e < 0.5)) {
    throw new RangeError(`dpoLoss: the robust loss needs label smoothing in [0, 0.5) (the probability that a label is flipped), got ${e}.`);
  }
  if ((has('cdpo') || has('aot') || has('aot_unpaired')) && !(e >= 0 && e <= 0.5)) {
    throw new RangeError(`dpoLoss: the cdpo and aot losses need label smoothing in [0, 0.5], got ${e}.`);
  }
  if (has('exo_pair') && !(e > 0 && e < 1)) {
    throw new RangeError(`dpoLoss: the exo_pair loss needs label smoothing in (0, 1) (the EXO paper recommends 1e-3), got ${e}.`);
  }
  const f = o.fDivergence ?? 'reverse_kl';
  if (!F_DIVERGENCES.includes(f)) throw new RangeError(`dpoLoss: unknown f_divergence_type "${String(f)}"; use one of ${F_DIVERGENCES.join(', ')}.`);
  if (f !== 'reverse_kl' && !terms.every((t) => F_DIVERGENCE_KINDS.includes(t.kind))) {
    throw new RangeError(`dpoLoss: f_divergence_type ${f} is only defined for ${F_DIVERGENCE_KINDS.join(', ')}.`);
  }
  if (!Number.isFinite(o.fAlphaCoef ?? 0.5)) throw new RangeError(`dpoLoss: f_alpha_divergence_coef must be finite, got ${o.fAlphaCoef}.`);
  const tau = o.discopopTau ?? 0.05;
  if (!(tau > 0) || !Number.isFinite(tau)) throw new RangeError(`dpoLoss: discopop_tau must be a positive finite number, got ${tau}.`);
  if (o.useWeighting && (has('aot') || has('aot_unpaired') || has('sft'))) {
    throw new RangeError('dpoLoss: use_weighting (WPO) cannot be combined with aot, aot_unpaired or sft.');
  }
  const s = o.gradScale ?? 1;
  if (!Number.isFinite(s)) throw new RangeError(`dpoLoss: gradScale must be a finite number, got ${s}.`);
}

const log1pexp = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
/** log(sigmoid(x)) */
export const logSigmoid = (x: number): number => -log1pexp(-x);
export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** f-DPO's score f'(u) of a log-ratio u and its derivative (TRL's clamping for alpha_divergence). */
export function fScore(f: FDivergence, alpha: number, u: number): { s: number; ds: number } {
  switch (f) {
    case 'forward_kl': {
      const e = Math.exp(-u);
      return { s: 1 - e, ds: e };
    }
    case 'js_divergence':
      return { s: Math.LN2 + logSigmoid(u), ds: sigmoid(-u) };
    case 'alpha_divergence': {
      if (Math.abs(alpha - 1) < 1e-6) return { s: u, ds: 1 };
      const t = (alpha - 1) * u;
      if (t >= 80) return { s: (Math.exp(80) - 1) / (alpha - 1), ds: 0 };
      const e = Math.exp(t);
      return { s: (e - 1) / (alpha - 1), ds: e };
    }
    default:
      return { s: u, ds: 1 };
  }
}

/** -(1-e) logsig(x) - e logsig(-x) and its derivative (cdpo, aot, aot_unpaired). */
function smoothed(e: number, x: number): { l: number; d: number } {
  return { l: -(1 - e) * logSigmoid(x) - e * logSigmoid(-x), d: -(1 - e) * sigmoid(-x) + e * sigmoid(x) };
}

export interface PairLossParams {
  beta: number;
  e: number;
  fDivergence?: FDivergence;
  fAlphaCoef?: number;
  discopopTau?: number;
}

/**
 * Loss of one pair for a kind whose value depends on that pair alone (not aot/aot_unpaired, not sft), and its
 * derivatives with respect to the chosen and rejected log-ratios (= policy log-probs).
 */
export function dpoPairLoss(
  kind: DpoLossKind,
  beta: number,
  e: number,
  lc: number, // chosen log-ratio pc - rc
  lr: number, // rejected log-ratio pr - rr
  lenC: number,
  lenR: number,
  p: Omit<PairLossParams, 'beta' | 'e'> = {},
): { loss: number; dc: number; dr: number } {
  const f = p.fDivergence ?? 'reverse_kl';
  const fa = p.fAlphaCoef ?? 0.5;
  const C = fScore(f, fa, lc);
  const R = fScore(f, fa, lr);
  const Lc = Math.max(lenC, 1);
  const Lr = Math.max(lenR, 1);
  // kinds on the score difference: d/d(sc) = beta dz, d/d(sr) = -beta dz, chained through f'
  const onZ = (loss: number, dz: number) => ({ loss, dc: beta * dz * C.ds, dr: -beta * dz * R.ds });
  const z = beta * (C.s - R.s);
  const rc = beta * lc;
  const rr = beta * lr;
  switch (kind) {
    case 'sigmoid':
      return onZ(-logSigmoid(z), -sigmoid(-z));
    case 'cdpo': {
      const s = smoothed(e, z);
      return onZ(s.l, s.d);
    }
    case 'robust':
      return onZ((-(1 - e) * logSigmoid(z) + e * logSigmoid(-z)) / (1 - 2 * e), (-(1 - e) * sigmoid(-z) - e * sigmoid(z)) / (1 - 2 * e));
    case 'hinge':
      return onZ(Math.max(0, 1 - z), z < 1 ? -1 : 0); // torch: relu'(0) = 0
    case 'ipo': {
      const u = C.s / Lc - R.s / Lr - 1 / (2 * beta);
      return { loss: u * u, dc: ((2 * u) / Lc) * C.ds, dr: ((-2 * u) / Lr) * R.ds };
    }
    case 'sigmoid_norm': {
      const x = beta * (C.s / Lc - R.s / Lr);
      const d = -sigmoid(-x) * beta;
      return { loss: -logSigmoid(x), dc: (d / Lc) * C.ds, dr: (-d / Lr) * R.ds };
    }
    case 'exo_pair': {
      const qw = sigmoid(z);
      const ql = sigmoid(-z);
      const a = logSigmoid(z) - Math.log1p(-e);
      const b = logSigmoid(-z) - Math.log(e);
      return onZ(qw * a + ql * b, qw * ql * (a - b));
    }
    case 'discopop': {
      const tau = p.discopopTau ?? 0.05;
      const m = sigmoid(z / tau);
      const dm = (m * (1 - m)) / tau;
      const ez = Math.exp(-z);
      const loss = -logSigmoid(z) * (1 - m) + ez * m;
      const dz = -sigmoid(-z) * (1 - m) + logSigmoid(z) * dm - ez * m + ez * dm;
      return onZ(loss, dz);
    }
    case 'nca_pair':
      return {
        loss: -logSigmoid(rc) - 0.5 * logSigmoid(-rc) - 0.5 * logSigmoid(-rr),
        dc: beta * (-sigmoid(-rc) + 0.5 * sigmoid(rc)),
        dr: beta * 0.5 * sigmoid(rr),
      };
    case 'bco_pair':
      return { loss: -logSigmoid(rc) - logSigmoid(-rr), dc: -beta * sigmoid(-rc), dr: beta * sigmoid(rr) };
    case 'sppo_hard': {
      const a = lc - 0.5 / beta;
      const b = lr + 0.5 / beta;
      return { loss: a * a + b * b, dc: 2 * a, dr: 2 * b };
    }
    case 'apo_zero':
      return { loss: 1 - sigmoid(rc) + sigmoid(rr), dc: -beta * sigmoid(rc) * sigmoid(-rc), dr: beta * sigmoid(rr) * sigmoid(-rr) };
    case 'apo_down': {
      const zz = rc - rr;
      const g = sigmoid(zz) * sigmoid(-zz);
      return { loss: sigmoid(rc) + 1 - sigmoid(zz), dc: beta * (sigmoid(rc) * sigmoid(-rc) - g), dr: beta * g };
    }
    default:
      throw new RangeError(`dpoLoss: the loss kind "${String(kind)}" is not a per-pair loss.`);
  }
}

/** Index order that sorts xs ascending (ties by index), as the rank of each element. */
function ranks(xs: ArrayLike<number>): Int32Array {
  const n = xs.length;
  const r = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let j = 0; j < n; j++) if (xs[j] < xs[i] || (xs[j] === xs[i] && j < i)) k++;
    r[i] = k;
  }
  return r;
}

export interface DpoLossResult {
  /** [N] per-pair losses (all terms, weighted) */
  losses: Float64Array;
  /** mean over pairs (TRL's `loss`) */
  mean: number;
  /** [2N] beta * (policy - reference), chosen then rejected */
  rewards: Float64Array;
  /** [2N] d(gradScale * mean loss) / d policy logp */
  dlogp: Float64Array;
  /** [2N] d(gradScale * mean loss) / d the unweighted chosen log-prob sums (sft's term; rejected half 0) */
  dplain: Float64Array;
  /** [N] WPO weights w_c * w_r (1 without use_weighting) */
  pairWeights: Float64Array;
}

export interface DpoLossInputs {
  /** [2N] sequence log-probs (LD-DPO-weighted when ld_alpha is set) */
  policy: ArrayLike<number>;
  reference?: ArrayLike<number>;
  /** [2N] completion lengths (ipo, sigmoid_norm) */
  lengths?: ArrayLike<number>;
  /** [2N] unweighted completion log-prob sums (sft; chosen half read); default = policy */
  plain?: ArrayLike<number>;
  /** [2N] WPO: sum over scored tokens of log p(token) - log sum_v p(v)^2 */
  wpoSum?: ArrayLike<number>;
  /** [2N] WPO: scored token counts (clamped to >= 1) */
  wpoLen?: ArrayLike<number>;
}

/**
 * The DPO loss in float64. policy/reference/lengths are [2N] (chosen 0..N-1, rejected N..2N-1); reference may
 * be omitted when referenceFree.
 */
export function dpoLossReference(inp: DpoLossInputs, o: DpoLossOptions): DpoLossResult {
  checkDpoLossOptions(o);
  const { N, beta } = o;
  const e = o.labelSmoothing;
  const terms = lossTerms(o);
  const scale = (o.gradScale ?? 1) / N;
  const ref = (i: number): number => (o.referenceFree ? 0 : inp.reference![i]);
  if (!o.referenceFree && !inp.reference) throw new RangeError('dpoLoss: reference log-probs are required unless referenceFree is set.');
  if (terms.some((t) => t.kind === 'ipo' || t.kind === 'sigmoid_norm') && !inp.lengths) throw new RangeError('dpoLoss: the ipo and sigmoid_norm losses need the completion lengths.');
  if (o.useWeighting && !(inp.wpoSum && inp.wpoLen)) throw new RangeError('dpoLoss: use_weighting needs the per-sequence WPO sums and lengths.');
  const losses = new Float64Array(N);
  const rewards = new Float64Array(2 * N);
  const dlogp = new Float64Array(2 * N);
  const dplain = new Float64Array(2 * N);
  const pairWeights = new Float64Array(N).fill(1);
  const lc = new Float64Array(N);
  const lr = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    lc[i] = inp.policy[i] - ref(i);
    lr[i] = inp.policy[N + i] - ref(N + i);
    rewards[i] = beta * lc[i];
    rewards[N + i] = beta * lr[i];
    if (o.useWeighting) {
      const w = (s: number) => Math.exp(inp.wpoSum![s] / Math.max(1, inp.wpoLen![s]));
      pairWeights[i] = w(i) * w(N + i);
    }
  }
  for (const { kind, weight } of terms) {
    if (kind === 'sft') {
      const plain = inp.plain ?? inp.policy;
      const count = Math.max(1, o.chosenTokens ?? 0);
      let sum = 0;
      for (let i = 0; i < N; i++) sum += plain[i];
      for (let i = 0; i < N; i++) {
        losses[i] += weight * (-sum / count);
        dplain[i] += ((o.gradScale ?? 1) * weight * -1) / count;
      }
    } else if (kind === 'aot' || kind === 'aot_unpaired') {
      if (kind === 'aot') {
        const pd = Array.from({ length: N }, (_, i) => inp.policy[i] - inp.policy[N + i]);
        const rd = Array.from({ length: N }, (_, i) => ref(i) - ref(N + i));
        const rp = ranks(pd);
        const rrk = ranks(rd);
        const refAt = new Float64Array(N);
        for (let j = 0; j < N; j++) refAt[rrk[j]] = rd[j];
        for (let i = 0; i < N; i++) {
          const s = smoothed(e, beta * (pd[i] - refAt[rp[i]]));
          losses[i] += weight * s.l;
          dlogp[i] += scale * weight * beta * s.d;
          dlogp[N + i] -= scale * weight * beta * s.d;
        }
      } else {
        const rcK = ranks(lc);
        const rrK = ranks(lr);
        const cAt = new Float64Array(N);
        const rAt = new Float64Array(N);
        for (let j = 0; j < N; j++) {
          cAt[rcK[j]] = lc[j];
          rAt[rrK[j]] = lr[j];
        }
        // pair i reports the loss of the sorted position its chosen log-ratio lands on (a permutation of
        // TRL's per-position losses: the mean, which is what TRL uses, is the same)
        for (let i = 0; i < N; i++) {
          const sc = smoothed(e, beta * (lc[i] - rAt[rcK[i]]));
          const sr = smoothed(e, beta * (cAt[rrK[i]] - lr[i]));
          losses[i] += weight * sc.l;
          dlogp[i] += scale * weight * beta * sc.d;
          dlogp[N + i] -= scale * weight * beta * sr.d;
        }
      }
    } else {
      for (let i = 0; i < N; i++) {
        const r = dpoPairLoss(kind, beta, e, lc[i], lr[i], inp.lengths?.[i] ?? 1, inp.lengths?.[N + i] ?? 1, o);
        const w = weight * pairWeights[i];
        losses[i] += w * r.loss;
        dlogp[i] += scale * w * r.dc;
        dlogp[N + i] += scale * w * r.dr;
      }
    }
  }
  let sum = 0;
  for (let i = 0; i < N; i++) sum += losses[i];
  return { losses, mean: sum / N, rewards, dlogp, dplain, pairWeights };
}
