// The `trainer` choice beside DPO (TRL 1.13): CPO / SimPO (trl.experimental.cpo.CPOTrainer), ORPO
// (trl.experimental.orpo.ORPOTrainer) and KTO (trl.KTOTrainer). Their config names and defaults, the checks
// TRL makes (with TRL's sentences where it has one), and the fused-loss options of a run. The trainer loop
// (src/dpo/trainer.ts) calls these; the micro-step is src/dpo/preference-step.ts.
import type { PreferenceKind } from './preference-loss';

export type TrainerKind = 'dpo' | 'cpo' | 'orpo' | 'kto';
export const TRAINER_KINDS: readonly TrainerKind[] = ['dpo', 'cpo', 'orpo', 'kto'];
export const CPO_LOSS_TYPES = ['sigmoid', 'hinge', 'ipo', 'simpo'] as const;

/** The options these trainers add to TrainerArgs (TRL's names). */
export interface PreferenceArgs {
  /** Which TRL trainer: dpo (DPOTrainer), cpo (CPOTrainer; SimPO is its loss_type simpo), orpo, kto. */
  trainer: TrainerKind;
  /** CPOConfig.cpo_alpha: weight of the NLL (behaviour cloning) term; 0 for SimPO as its paper. */
  cpo_alpha: number;
  /** CPOConfig.simpo_gamma: SimPO's target reward margin (loss_type simpo only). */
  simpo_gamma: number;
  /** KTOConfig.desirable_weight / undesirable_weight: the two classes' loss weights. */
  desirable_weight: number;
  undesirable_weight: number;
}

/** TRL 1.13's defaults (CPOConfig, KTOConfig); the shared ones (beta 0.1, max_length 1024, lr 1e-6) are DPO's too. */
export const PREFERENCE_ARG_DEFAULTS: PreferenceArgs = {
  trainer: 'dpo',
  cpo_alpha: 1,
  simpo_gamma: 0.5,
  desirable_weight: 1,
  undesirable_weight: 1,
};

/** What the checks read besides PreferenceArgs. */
interface CheckedArgs extends Partial<PreferenceArgs> {
  loss_type: string | readonly string[];
  label_smoothing: number;
  per_device_train_batch_size: number;
  loss_weights: readonly number[] | null;
  rpo_alpha: number | null;
  reference_free: boolean;
  precompute_ref_log_probs: boolean;
  sync_ref_model?: boolean;
  use_weighting?: boolean;
  ld_alpha?: number | null;
  f_divergence_type?: string;
  truncation_mode?: string;
}

const NAMES: Record<TrainerKind, string> = { dpo: 'DPO', cpo: 'CPO', orpo: 'ORPO', kto: 'KTO' };

/** The run's trainer (runs saved before the choice existed are DPO). */
export const trainerOf = (a: Partial<PreferenceArgs>): TrainerKind => a.trainer ?? 'dpo';

/** Whether the trainer holds a reference model: DPO (unless reference-free) and KTO do; CPO / SimPO and ORPO never. */
export const trainerNeedsReference = (a: Partial<PreferenceArgs> & { reference_free?: boolean }): boolean => {
  const t = trainerOf(a);
  return t === 'kto' || (t === 'dpo' && !a.reference_free);
};

const lossName = (t: string | readonly string[]) => (typeof t === 'string' ? t : t.join(',')).trim();

/** The fused loss kind of a CPO / ORPO / KTO run. */
export function preferenceKind(a: CheckedArgs): PreferenceKind {
  const t = trainerOf(a);
  if (t === 'orpo') return 'orpo';
  if (t === 'kto') return 'kto';
  return `cpo_${lossName(a.loss_type)}` as PreferenceKind;
}

/** Calls bad(sentence) for options TRL refuses for these trainers, or that do not apply to them. */
export function validatePreferenceArgs(a: CheckedArgs, bad: (msg: string, code?: string, params?: Record<string, string | number>) => never): void {
  const t = trainerOf(a);
  if (!TRAINER_KINDS.includes(t)) bad(`Unknown trainer: ${t}. Choose one of dpo, cpo, orpo, kto.`, 'trainer.unknown', { got: String(t) });
  if (t === 'dpo') return;
  const name = NAMES[t];
  const lt = lossName(a.loss_type);
  if (t === 'cpo') {
    if (lt === 'alphapo') bad('loss_type alphapo (SimPO with AlphaPO\'s reward shape) is not supported here; use loss_type simpo with cpo_alpha 0.', 'trainer.alphapo');
    if (!(CPO_LOSS_TYPES as readonly string[]).includes(lt)) bad(`Unknown loss type: ${lt}. Should be one of ['sigmoid', 'hinge', 'ipo', 'simpo']`, 'trainer.loss-unknown', { loss: lt, choices: "['sigmoid', 'hinge', 'ipo', 'simpo']" });
    if (!Number.isFinite(a.cpo_alpha ?? 1) || (a.cpo_alpha ?? 1) < 0) bad(`cpo_alpha must be a number >= 0 (got ${a.cpo_alpha}).`, 'trainer.min', { option: 'cpo_alpha', min: '0', got: String(a.cpo_alpha) });
    if (!Number.isFinite(a.simpo_gamma ?? 0.5)) bad(`simpo_gamma must be a finite number (got ${a.simpo_gamma}).`, 'trainer.finite', { option: 'simpo_gamma', got: String(a.simpo_gamma) });
  } else if (t === 'orpo') {
    // ORPOConfig has no loss_type: the shared default (sigmoid) is the only value that means "none given"
    if (lt !== 'sigmoid' && lt !== 'orpo') bad(`ORPO has no loss_type (got ${lt}); its beta is the odds-ratio weight (the paper's lambda).`, 'trainer.orpo-loss', { got: lt });
  } else {
    if (lt === 'apo_zero_unpaired') bad("KTO's loss_type apo_zero_unpaired is not supported here; use loss_type kto.", 'trainer.kto-apo-zero');
    if (lt !== 'kto' && lt !== 'sigmoid') bad(`Unknown KTO loss type: ${lt}. Should be one of ['kto', 'apo_zero_unpaired'].`, 'trainer.loss-unknown', { loss: lt, choices: "['kto', 'apo_zero_unpaired']" });
    if (a.per_device_train_batch_size <= 1) {
      bad('Actual (not effective) batch size must be > 1. KTO will not work properly because the KL term will be equivalent to the implied reward.', 'trainer.kto-batch', { got: a.per_device_train_batch_size });
    }
    for (const k of ['desirable_weight', 'undesirable_weight'] as const) {
      const v = a[k] ?? 1;
      if (!(v > 0) || !Number.isFinite(v)) bad(`${k} must be a positive number (got ${a[k]}).`, 'trainer.positive', { option: k, got: String(a[k]) });
    }
    if (a.precompute_ref_log_probs) bad('precompute_ref_log_probs is not supported for KTO here yet: its reference scores the KL completions too. Turn it off.', 'trainer.kto-precompute');
    // KTOConfig has no truncation_mode: its collator keeps the first max_length tokens of every sequence
    if ((a.truncation_mode ?? 'keep_start') !== 'keep_start') {
      bad(`KTO has no truncation_mode (got ${a.truncation_mode}): KTOTrainer keeps the first max_length tokens of every sequence (keep_start). Remove it or use --trainer dpo.`, 'trainer.kto-truncation', { got: String(a.truncation_mode) });
    }
  }
  if (a.label_smoothing !== 0 && !(a.label_smoothing >= 0 && a.label_smoothing < 0.5)) bad(`label_smoothing must be in [0, 0.5) (got ${a.label_smoothing}).`, 'trainer.range', { option: 'label_smoothing', range: '[0, 0.5)', got: String(a.label_smoothing) });
  if (t !== 'cpo' && a.label_smoothing !== 0) bad(`${name} has no label_smoothing (got ${a.label_smoothing}); it is a CPO / DPO option.`, 'trainer.no-smoothing', { name, got: String(a.label_smoothing) });
  if (t !== 'kto' && a.precompute_ref_log_probs) bad(`${name} holds no reference model, so precompute_ref_log_probs does not apply. Turn it off.`, 'trainer.no-reference-precompute', { name });
  if (a.reference_free) bad(`reference_free is a DPO option; ${name} ${t === 'kto' ? 'needs its reference' : 'is reference-free by construction'}.`, t === 'kto' ? 'trainer.reference-free-needs' : 'trainer.reference-free-none', {
      name,
    });
  const dpoOnly: [string, boolean][] = [
    ['loss_weights', a.loss_weights != null],
    ['rpo_alpha', a.rpo_alpha != null && a.rpo_alpha !== 0],
    ['sync_ref_model', !!a.sync_ref_model],
    ['use_weighting', !!a.use_weighting],
    ['ld_alpha', a.ld_alpha != null],
    ['f_divergence_type', (a.f_divergence_type ?? 'reverse_kl') !== 'reverse_kl'],
  ];
  for (const [k, set] of dpoOnly) if (set) bad(`${k} is a DPOTrainer option; ${name}Trainer has none. Remove it or use --trainer dpo.`, 'trainer.dpo-only', { option: k, name });
}
