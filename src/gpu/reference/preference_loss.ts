// Float64 reference of the fused loss of TRL 1.13's trainers beside DPO (src/shaders/preference_loss.wgsl):
//   CPO (trl.experimental.cpo, CPOTrainer.cpo_loss): loss_type sigmoid / hinge / ipo / simpo on the policy's
//     sequence log-probs alone (no reference), averaged over completion tokens for ipo and simpo
//     (average_log_prob), plus cpo_alpha * the chosen completions' token-mean NLL;
//   ORPO (trl.experimental.orpo, odds_ratio_loss): nll - beta * mean log sigma(log odds ratio), log-probs
//     averaged over completion tokens, the NLL over the chosen prompt AND completion tokens;
//   KTO (trl.KTOTrainer, loss_type "kto"): desirable_weight * (1 - sigma(beta (logratio - z))) or
//     undesirable_weight * (1 - sigma(beta (z - logratio))), z = max(0, mean(KL log-ratios)) of the batch's
//     mismatched completions, detached (no gradient through z).
// Layout: [2N] inputs, chosen 0..N-1 and rejected N..2N-1 (for KTO: the batch's completions 0..N-1 and their
// mismatched KL completions N..2N-1, with labels [N]). Gradients are d(gradScale * TRL's loss) / d(sequence
// log-prob sums), so the token-level backward is the same sequence-sum backward as DPO's.

export type PreferenceKind = 'cpo_sigmoid' | 'cpo_hinge' | 'cpo_ipo' | 'cpo_simpo' | 'orpo' | 'kto';
export const PREFERENCE_KINDS: readonly PreferenceKind[] = ['cpo_sigmoid', 'cpo_hinge', 'cpo_ipo', 'cpo_simpo', 'orpo', 'kto'];

export interface PreferenceLossOptions {
  N: number;
  kind: PreferenceKind;
  beta: number;
  /** CPO sigmoid / simpo (TRL ignores it for hinge and ipo). */
  labelSmoothing?: number;
  /** CPO: weight of the NLL (behaviour cloning) term; ORPO's NLL weight is 1. */
  cpoAlpha?: number;
  simpoGamma?: number;
  desirableWeight?: number;
  undesirableWeight?: number;
  /** Tokens the NLL is a mean over (CPO: chosen completion tokens; ORPO: chosen prompt+completion targets). */
  nllTokens?: number;
  gradScale?: number;
}

export interface PreferenceLossInputs {
  /** [2N] policy sequence log-prob sums over the completion tokens. */
  policy: ArrayLike<number>;
  /** [2N] reference sums (KTO only). */
  reference?: ArrayLike<number>;
  /** [2N] completion token counts. */
  lengths: ArrayLike<number>;
  /** [N] the chosen sequences' log-prob sums over the NLL's tokens. */
  nll?: ArrayLike<number>;
  /** [N] KTO: 1 desirable, 0 undesirable. */
  labels?: ArrayLike<number>;
}

export interface PreferenceLossOutputs {
  /** [N] per-row loss, the batch's NLL term included (mean = TRL's loss). */
  losses: Float64Array;
  /** [2N] TRL's rewards: beta * (averaged) log-probs; KTO: beta * log-ratio (second half 0). */
  rewards: Float64Array;
  /** [2N] d(gradScale * loss) / d policy sums. */
  dlogp: Float64Array;
  /** [N] d(gradScale * loss) / d nll sums. */
  dnll: Float64Array;
  /** ORPO: [mean log sigma(log odds), mean log odds, nll]; KTO: [z, 0, 0]; CPO: [nll, 0, nll]. */
  stats: [number, number, number];
  /** The NLL term's value (CPO / ORPO's nll_loss). */
  nllLoss: number;
}

export class PreferenceLossError extends RangeError {
  override name = 'PreferenceLossError';
}

export function checkPreferenceLossOptions(o: PreferenceLossOptions): void {
  if (!PREFERENCE_KINDS.includes(o.kind)) throw new PreferenceLossError(`Unknown preference loss kind: ${o.kind}.`);
  if (!(Number.isInteger(o.N) && o.N > 0)) throw new PreferenceLossError(`N must be a positive integer (got ${o.N}).`);
  if (!(o.beta > 0)) throw new PreferenceLossError(`beta must be positive (got ${o.beta}).`);
}

const logsig = (x: number) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** log(1 - exp(x)) for x < 0, TRL's log1mexp (branch at -ln 2). */
export const log1mexp = (x: number) => (x < -Math.LN2 ? Math.log1p(-Math.exp(x)) : Math.log(-Math.expm1(x)));

/** Whether the kind's log-probs are averaged over the completion tokens (TRL's average_log_prob). */
export const averagesLogps = (k: PreferenceKind) => k === 'cpo_ipo' || k === 'cpo_simpo' || k === 'orpo';

export function preferenceLossReference(inp: PreferenceLossInputs, o: PreferenceLossOptions): PreferenceLossOutputs {
  checkPreferenceLossOptions(o);
  const { N, beta, kind } = o;
  const g = o.gradScale ?? 1;
  const eps = o.labelSmoothing ?? 0;
  const losses = new Float64Array(N);
  const rewards = new Float64Array(2 * N);
  const dlogp = new Float64Array(2 * N);
  const dnll = new Float64Array(N);
  const stats: [number, number, number] = [0, 0, 0];
  const len = (s: number) => Math.max(inp.lengths[s], 1);
  const avg = averagesLogps(kind);
  const x = (s: number) => (avg ? inp.policy[s] / len(s) : inp.policy[s]);

  // the NLL term: a batch mean over nllTokens, added to every row (so the mean of losses is TRL's loss)
  const alpha = kind === 'orpo' ? 1 : kind === 'kto' ? 0 : (o.cpoAlpha ?? 1);
  let nllLoss = 0;
  if (alpha !== 0) {
    const count = Math.max(o.nllTokens ?? 0, 1);
    let sum = 0;
    for (let i = 0; i < N; i++) sum += inp.nll![i];
    nllLoss = -sum / count;
    stats[2] = nllLoss;
    for (let i = 0; i < N; i++) dnll[i] = (-g * alpha) / count;
  }

  if (kind === 'kto') {
    const ref = inp.reference!;
    let kl = 0;
    for (let i = 0; i < N; i++) kl += inp.policy[N + i] - ref[N + i];
    const z = Math.max(kl / N, 0);
    stats[0] = z;
    for (let i = 0; i < N; i++) {
      const lr = inp.policy[i] - ref[i];
      rewards[i] = beta * lr;
      if (inp.labels![i] > 0) {
        const w = o.desirableWeight ?? 1;
        const s = sigmoid(beta * (lr - z));
        losses[i] = w * (1 - s);
        dlogp[i] = ((g * -w * beta * s * (1 - s)) / N);
      } else {
        const w = o.undesirableWeight ?? 1;
        const s = sigmoid(beta * (z - lr));
        losses[i] = w * (1 - s);
        dlogp[i] = (g * w * beta * s * (1 - s)) / N;
      }
    }
    return { losses, rewards, dlogp, dnll, stats, nllLoss: 0 };
  }

  for (let i = 0; i < N; i++) {
    const xc = x(i);
    const xr = x(N + i);
    rewards[i] = beta * xc;
    rewards[N + i] = beta * xr;
    let l: number;
    let dc: number; // d l / d xc
    let dr: number;
    if (kind === 'orpo') {
      const lo = xc - xr - (log1mexp(xc) - log1mexp(xr));
      const ratio = logsig(lo);
      stats[0] += ratio / N;
      stats[1] += lo / N;
      l = -beta * ratio;
      const dlo = -beta * sigmoid(-lo);
      dc = dlo * (-1 / Math.expm1(xc));
      dr = dlo * (1 / Math.expm1(xr));
    } else {
      const u = xc - xr - (kind === 'cpo_simpo' ? (o.simpoGamma ?? 0.5) / beta : 0);
      let du: number;
      if (kind === 'cpo_sigmoid' || kind === 'cpo_simpo') {
        l = -(1 - eps) * logsig(beta * u) - eps * logsig(-beta * u);
        du = beta * (-(1 - eps) * sigmoid(-beta * u) + eps * sigmoid(beta * u));
      } else if (kind === 'cpo_hinge') {
        l = Math.max(0, 1 - beta * u);
        du = 1 - beta * u > 0 ? -beta : 0;
      } else {
        const d = u - 1 / (2 * beta);
        l = d * d;
        du = 2 * d;
      }
      dc = du;
      dr = -du;
    }
    losses[i] = l + alpha * nllLoss;
    dlogp[i] = ((g * dc) / N) * (avg ? 1 / len(i) : 1);
    dlogp[N + i] = ((g * dr) / N) * (avg ? 1 / len(N + i) : 1);
  }
  if (kind !== 'orpo') stats[0] = nllLoss;
  return { losses, rewards, dlogp, dnll, stats, nllLoss };
}
