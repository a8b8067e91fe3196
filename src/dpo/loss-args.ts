// The DPOConfig loss options (TRL 1.13 names) of a run: checked with TRL's own sentences where TRL refuses a
// combination, and turned into the options of the fused loss (src/dpo/step.ts, src/dpo/loss.ts).
import { DPO_LOSS_KINDS, F_DIVERGENCE_KINDS, F_DIVERGENCES, TRL_LOSS_TYPES, type DpoLossKind, type DpoLossTerm, type FDivergence } from './loss';
import type { DpoLossOptions } from './step';

/** What the loss reads of the trainer's arguments (TrainerArgs extends it). */
export interface LossArgs {
  beta: number;
  loss_type: string | readonly string[];
  loss_weights: readonly number[] | null;
  label_smoothing: number;
  /** f-DPO: reverse_kl (DPO), forward_kl, js_divergence, alpha_divergence (with f_alpha_divergence_coef). */
  f_divergence_type: FDivergence;
  f_alpha_divergence_coef: number;
  /** WPO: weight each pair by its completions' length-normalised probabilities under the policy. */
  use_weighting: boolean;
  /** LD-DPO: tokens past the shorter completion's length count ld_alpha times (null = off). */
  ld_alpha: number | null;
  discopop_tau: number;
  reference_free: boolean;
  rpo_alpha: number | null;
  /** TR-DPO: every ref_model_sync_steps steps, reference = mixup_alpha * policy + (1 - mixup_alpha) * reference. */
  sync_ref_model: boolean;
  ref_model_mixup_alpha: number;
  ref_model_sync_steps: number;
  precompute_ref_log_probs: boolean;
  /** Batch size of the reference precompute (null = per_device_train/eval_batch_size, as TRL). */
  precompute_ref_batch_size: number | null;
  lora: unknown;
}

/** TRL's defaults of the loss options: filled in where a run's arguments lack them (a run saved before they existed). */
export const LOSS_ARG_DEFAULTS = {
  loss_weights: null,
  f_divergence_type: 'reverse_kl',
  f_alpha_divergence_coef: 0.5,
  use_weighting: false,
  ld_alpha: null,
  discopop_tau: 0.05,
  sync_ref_model: false,
  ref_model_mixup_alpha: 0.6,
  ref_model_sync_steps: 512,
  precompute_ref_batch_size: null,
} as const satisfies Partial<LossArgs>;

function withDefaults<T extends LossArgs>(a: T): T {
  const out = { ...a } as Record<string, unknown>;
  for (const [k, v] of Object.entries(LOSS_ARG_DEFAULTS)) if (out[k] === undefined) out[k] = v;
  return out as T;
}

/** Python's repr of a list of strings, as TRL's messages print them. */
const pyList = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

/** loss_type as a list: TRL accepts one name or a list; we also take "a,b,c". */
export function lossTypes(t: string | readonly string[]): string[] {
  const xs = typeof t === 'string' ? t.split(',') : [...t];
  return xs.map((x) => x.trim()).filter((x) => x.length > 0);
}

/** The weighted loss terms of a run (TRL: loss_weights or 1.0 each). */
export function lossTermsOf(a: Pick<LossArgs, 'loss_type' | 'loss_weights'>): DpoLossTerm[] {
  const kinds = lossTypes(a.loss_type);
  return kinds.map((kind, i) => ({ kind: kind as DpoLossKind, weight: a.loss_weights?.[i] ?? 1 }));
}

/** Calls bad(sentence) for options TRL refuses (TRL's sentences) or that our engine cannot run. */
export function validateLossArgs(a0: LossArgs, bad: (msg: string, code?: string, params?: Record<string, string | number>) => never): void {
  const a = withDefaults(a0);
  const kinds = lossTypes(a.loss_type);
  if (kinds.length === 0) bad('loss_type is empty: give at least one loss type, e.g. sigmoid.', 'trainer.loss-empty');
  for (const k of kinds) {
    if (!DPO_LOSS_KINDS.includes(k as DpoLossKind)) {
      bad(`Unknown loss type: ${k}. Should be one of ${pyList(TRL_LOSS_TYPES)} (or cdpo, this playground's conservative DPO).`, 'trainer.dpo-loss-unknown', { loss: k, choices: pyList(TRL_LOSS_TYPES) });
    }
  }
  if (kinds.length > 8) bad(`At most 8 loss types can be combined; got ${kinds.length}.`, 'trainer.loss-many', { count: kinds.length });
  if (a.loss_weights != null) {
    if (a.loss_weights.length !== kinds.length) {
      bad(`\`loss_weights\` must have the same length as \`loss_type\` when combining multiple losses. Got ${a.loss_weights.length} weights for ${kinds.length} loss types.`, 'trainer.loss-weights-length', {
        weights: a.loss_weights.length,
        kinds: kinds.length,
      });
    }
    if (!a.loss_weights.every(Number.isFinite)) bad(`loss_weights must be finite numbers (got ${a.loss_weights.join(', ')}).`, 'trainer.finite', { option: 'loss_weights', got: a.loss_weights.join(', ') });
  }
  const ls = a.label_smoothing;
  if (!(ls >= 0 && ls < 1)) bad(`label_smoothing must be in [0, 1) (got ${ls}).`, 'trainer.range', { option: 'label_smoothing', range: '[0, 1)', got: String(ls) });
  if (kinds.includes('robust') && !(ls >= 0 && ls < 0.5)) {
    bad(`The \`label_smoothing\` parameter should lie in [0.0, 0.5) for the 'robust' loss. You provided ${ls}.`, 'trainer.robust-smoothing', { got: String(ls) });
  }
  if ((kinds.includes('cdpo') || kinds.includes('aot') || kinds.includes('aot_unpaired')) && ls > 0.5) {
    bad(`label_smoothing must be at most 0.5 for cdpo, aot and aot_unpaired (got ${ls}): above it the loss prefers the rejected answer.`, 'trainer.smoothing-half', { got: String(ls) });
  }
  if (kinds.includes('exo_pair') && ls === 0) {
    bad("Label smoothing must be greater than 0.0 when using 'exo_pair' loss. The EXO paper recommends a value of 1e-3.", 'trainer.exo-smoothing');
  }
  const f = a.f_divergence_type;
  if (!F_DIVERGENCES.includes(f)) bad(`Unknown f_divergence_type: ${f}`, 'trainer.f-divergence-unknown', { got: String(f) });
  if (f !== 'reverse_kl' && !kinds.every((k) => F_DIVERGENCE_KINDS.includes(k as DpoLossKind))) {
    bad(
      `\`f_divergence_type='${f}'\` is only supported for the following loss types: ${pyList([...F_DIVERGENCE_KINDS].sort())}. ` +
        `You provided ${pyList(kinds)}. Use the default \`f_divergence_type='reverse_kl'\` with these losses.`,
      'trainer.f-divergence-losses',
      { f, supported: pyList([...F_DIVERGENCE_KINDS].sort()), given: pyList(kinds) },
    );
  }
  if (!Number.isFinite(a.f_alpha_divergence_coef)) bad(`f_alpha_divergence_coef must be a finite number (got ${a.f_alpha_divergence_coef}).`, 'trainer.finite', { option: 'f_alpha_divergence_coef', got: String(a.f_alpha_divergence_coef) });
  if (a.use_weighting && kinds.some((k) => k === 'aot' || k === 'aot_unpaired')) {
    bad("WPO-style weighting (use_weighting) cannot be used with 'aot' or 'aot_unpaired': those losses sort samples, which would misalign per-pair weights (TRL 1.13 refuses it too).", 'trainer.wpo-aot');
  }
  if (a.use_weighting && (kinds.includes('sft') || a.rpo_alpha)) {
    bad(
      "use_weighting cannot be combined with the 'sft' loss (or rpo_alpha): TRL 1.13's DPOTrainer fails on it (\"unsupported operation: more than one " +
        'element of the written-to tensor refers to a single memory location"). Drop one of them.',
      'trainer.wpo-sft',
    );
  }
  if (a.ld_alpha != null && !(a.ld_alpha >= 0 && a.ld_alpha <= 1)) {
    bad(`ld_alpha must be in [0.0, 1.0] (got ${a.ld_alpha}): 1.0 applies no weighting, 0.0 masks the tokens beyond the shared length.`, 'trainer.ld-alpha', { got: String(a.ld_alpha) });
  }
  if (!(a.discopop_tau > 0) || !Number.isFinite(a.discopop_tau)) bad(`discopop_tau must be a positive number (got ${a.discopop_tau}); the DiscoPOP paper uses 0.05.`, 'trainer.discopop-tau', { got: String(a.discopop_tau) });
  if (a.precompute_ref_batch_size != null && !(Number.isInteger(a.precompute_ref_batch_size) && a.precompute_ref_batch_size > 0)) {
    bad(`precompute_ref_batch_size must be a positive integer or empty (got ${a.precompute_ref_batch_size}).`, 'trainer.precompute-batch', { got: String(a.precompute_ref_batch_size) });
  }
  if (a.sync_ref_model) {
    if (a.lora) {
      bad(
        'You passed `sync_ref_model=True` while using a PEFT model, which is currently not supported. With PEFT, DPOTrainer does not keep a separate ' +
          'reference model in memory; instead, it recovers reference behavior by temporarily disabling the adapter. As a result, there is no standalone ' +
          '`ref_model` instance to synchronize. Use `sync_ref_model=False`, or opt for full fine-tuning if you need a synced reference model.',
        'trainer.sync-peft',
      );
    }
    if (a.precompute_ref_log_probs) {
      bad(
        'You cannot use `sync_ref_model=True` together with `precompute_ref_log_probs=True`. `precompute_ref_log_probs=True` assumes a fixed reference ' +
          'model, but with `sync_ref_model=True` the reference model is periodically updated during training, making any precomputed reference ' +
          'log-probs stale. Set `precompute_ref_log_probs=False` or disable `sync_ref_model`.',
        'trainer.sync-precompute',
      );
    }
    if (a.reference_free) bad('sync_ref_model needs a reference model; a reference-free run has none. Turn one of them off.', 'trainer.sync-reference-free');
    if (!(a.ref_model_mixup_alpha >= 0 && a.ref_model_mixup_alpha <= 1)) bad(`ref_model_mixup_alpha must be in [0, 1] (got ${a.ref_model_mixup_alpha}).`, 'trainer.range', { option: 'ref_model_mixup_alpha', range: '[0, 1]', got: String(a.ref_model_mixup_alpha) });
    if (!(Number.isInteger(a.ref_model_sync_steps) && a.ref_model_sync_steps > 0)) bad(`ref_model_sync_steps must be a positive integer (got ${a.ref_model_sync_steps}).`, 'trainer.positive-int', { option: 'ref_model_sync_steps', got: String(a.ref_model_sync_steps) });
  }
}

/** The fused loss's options for a run (rpo_alpha becomes an sft term in step.ts). */
export function trainerLossOptions(a0: LossArgs): Omit<DpoLossOptions, 'gradScale'> {
  const a = withDefaults(a0);
  return {
    beta: a.beta,
    terms: lossTermsOf(a),
    labelSmoothing: a.label_smoothing,
    referenceFree: a.reference_free,
    rpoAlpha: a.rpo_alpha ?? 0,
    fDivergence: a.f_divergence_type,
    fAlphaCoef: a.f_alpha_divergence_coef,
    discopopTau: a.discopop_tau,
    useWeighting: a.use_weighting,
    ldAlpha: a.ld_alpha,
  };
}
