// The hyperparameter form's fields: TRL's names and defaults, the ranges the field recommends, and a
// sentence on what each does. Pure data + validation, no React (tested in test/ui-params.test.tsx).
import { defaultTrainerArgs, type TrainerArgs } from '../dpo/trainer';
import { validateLoraConfig, type LoraConfig } from '../model/lora';
import { DPO_LOSS_KINDS, F_DIVERGENCES, type DpoLossKind } from '../gpu/reference/dpo_loss';
import { TRAINER_KINDS, type TrainerKind } from '../dpo/preference-trainer';

export type FieldKind = 'float' | 'int' | 'select' | 'bool' | 'nullable-int' | 'nullable-float' | 'loss-list' | 'float-list';

/**
 * The form's validation sentences in English, by code ({{name}} placeholders); en.ts has them as
 * `param.error.<code>` and ko.ts their Korean, so the page says a field's error in its language.
 */
export const PARAM_ERRORS = {
  'loss-none': 'Choose at least one loss type.',
  'loss-unknown': '{{kind}} is not a loss type; use {{options}}.',
  'loss-twice': 'Each loss type can appear once.',
  numbers: '{{name}} needs comma-separated numbers, not "{{value}}".',
  'one-of': '{{name}} must be one of {{options}}.',
  number: '{{name}} needs a number, not "{{value}}".',
  whole: '{{name}} must be a whole number (got {{value}}).',
  'at-least': '{{name}} must be at least {{min}} (got {{value}}).',
  'at-most': '{{name}} must be at most {{max}} (got {{value}}).',
  'max-steps': 'max_steps must be -1 (use epochs) or a positive number of steps.',
  'lora-r': 'LoRA r must be a positive whole number (got {{value}}); 8 or 16 are common.',
  'lora-alpha': "lora_alpha must be a positive number (got {{value}}); PEFT's default is 8.",
  'lora-targets': 'target_modules must name at least one module (e.g. q_proj, v_proj), or be "all-linear".',
} as const;
export type ParamErrorCode = keyof typeof PARAM_ERRORS;
/** A field's error: the English sentence, and its code and params for the page's language. */
export interface ParamError {
  error: string;
  code?: ParamErrorCode;
  params?: Record<string, string | number>;
}
const paramError = (code: ParamErrorCode, params: Record<string, string | number> = {}): ParamError => ({
  error: PARAM_ERRORS[code].replace(/\{\{(\w+)\}\}/g, (_m, k: string) => String(params[k] ?? '')),
  code,
  params,
});

export interface ParamField {
  name: keyof TrainerArgs;
  kind: FieldKind;
  options?: readonly string[];
  /** The recommended range, as shown next to the field. */
  hint: string;
  help: string;
  advanced?: boolean;
  /** Drawn by its own control (the loss selector), not as a plain field. */
  custom?: boolean;
  min?: number;
  max?: number;
  step?: number;
}

export const PARAM_FIELDS: readonly ParamField[] = [
  { name: 'trainer', kind: 'select', options: TRAINER_KINDS, custom: true, hint: 'dpo', help: 'Which TRL trainer: DPO, CPO (SimPO is its loss_type simpo), ORPO or KTO. CPO, SimPO and ORPO hold no reference model.' },
  { name: 'beta', kind: 'float', hint: '0.1 - 0.5', min: 0, step: 0.05, help: 'Strength of the KL leash to the reference: small beta lets the policy drift further for the same preference.' },
  { name: 'loss_type', kind: 'loss-list', options: [...DPO_LOSS_KINDS, 'simpo'], custom: true, hint: 'sigmoid = DPO; several = a weighted sum', help: 'TRL\'s loss_type list: one kind, or several combined with loss_weights (MPO: sigmoid, bco_pair, sft with 0.8, 0.2, 1.0).' },
  { name: 'loss_weights', kind: 'float-list', custom: true, hint: 'empty = 1 each', help: 'One weight per loss type, comma-separated; the loss is the weighted sum of the kinds\' batch means.' },
  { name: 'learning_rate', kind: 'float', hint: '5e-7 - 5e-6 (pretrained)', min: 0, step: 1e-7, help: 'Peak learning rate of AdamW. Pretrained LMs want ~1e-6; the tiny demo model tolerates much more.' },
  { name: 'max_steps', kind: 'int', hint: '-1 = use epochs', step: 1, help: 'Optimizer steps to run; -1 trains for num_train_epochs.' },
  { name: 'num_train_epochs', kind: 'float', hint: '1 - 3', min: 0, step: 1, help: 'Passes over the training pairs (used when max_steps is -1).' },
  { name: 'per_device_train_batch_size', kind: 'int', hint: '2 - 16', min: 1, step: 1, help: 'Pairs per micro-batch (each pair is two sequences: chosen and rejected).' },
  { name: 'gradient_accumulation_steps', kind: 'int', hint: '1 - 16', min: 1, step: 1, help: 'Micro-batches summed into one optimizer step: a larger effective batch without more memory.' },
  { name: 'max_length', kind: 'nullable-int', hint: '128 - 1024', min: 1, step: 1, help: 'Longest prompt + completion in tokens; longer sequences are truncated (TRL default 1024). Empty = no limit.' },
  { name: 'precompute_ref_log_probs', kind: 'bool', hint: 'saves memory', help: 'Compute the reference log-probs once before training and drop the reference model from the GPU.' },
  { name: 'gradient_checkpointing', kind: 'bool', hint: 'saves memory', help: 'Keep only each block\'s input in the forward and recompute the block in backward: activations shrink to about one layer\'s, for ~1/3 more compute.' },
  { name: 'eval_steps', kind: 'int', hint: '5 - 50', min: 0, step: 1, help: 'Evaluate on the held-out pairs every N steps (0 = only at the end).' },
  { name: 'label_smoothing', kind: 'float', hint: '0 - 0.2 (robust, cdpo, aot); 1e-3 (exo_pair)', min: 0, max: 0.99, step: 0.05, advanced: true, help: 'robust, cdpo, aot, aot_unpaired: the probability that a label is flipped (< 0.5); exo_pair: EXO\'s epsilon (> 0, the paper uses 1e-3). The other kinds ignore it.' },
  { name: 'f_divergence_type', kind: 'select', options: F_DIVERGENCES, hint: 'reverse_kl = DPO', advanced: true, help: 'f-DPO: the divergence that keeps the policy near the reference. Only sigmoid, sigmoid_norm, hinge, ipo, exo_pair, robust, discopop and sft accept another than reverse_kl.' },
  { name: 'f_alpha_divergence_coef', kind: 'float', hint: '0.5 (alpha_divergence)', step: 0.1, advanced: true, help: 'alpha of the alpha-divergence (used with f_divergence_type alpha_divergence only); 1 falls back to reverse_kl.' },
  { name: 'use_weighting', kind: 'bool', hint: 'off (WPO)', advanced: true, help: 'WPO: weight each pair by how likely the policy finds both completions (length-normalised), so off-policy pairs count less. Not with aot or sft.' },
  { name: 'ld_alpha', kind: 'nullable-float', hint: 'empty, or 0.3 - 0.7 (LD-DPO)', min: 0, max: 1, step: 0.1, advanced: true, help: 'LD-DPO: tokens past the shorter completion\'s length count ld_alpha times in the log-probs, so DPO cannot win by length alone; empty = off, 1 = no weighting.' },
  { name: 'discopop_tau', kind: 'float', hint: '0.05 (discopop)', min: 0, step: 0.01, advanced: true, help: 'DiscoPOP\'s temperature: how sharply the loss blends from logistic to exponential as the margin grows.' },
  { name: 'sync_ref_model', kind: 'bool', hint: 'off (TR-DPO)', advanced: true, help: 'TR-DPO: every ref_model_sync_steps steps the reference moves toward the policy (mixup alpha). Not with LoRA or precomputed reference log-probs.' },
  { name: 'ref_model_mixup_alpha', kind: 'float', hint: '0.6 (TR-DPO)', min: 0, max: 1, step: 0.1, advanced: true, help: 'reference = alpha x policy + (1 - alpha) x reference at each sync.' },
  { name: 'ref_model_sync_steps', kind: 'int', hint: '512 (TR-DPO)', min: 1, step: 1, advanced: true, help: 'Optimizer steps between two reference syncs.' },
  { name: 'precompute_ref_batch_size', kind: 'nullable-int', hint: 'empty = batch size', min: 1, step: 1, advanced: true, help: 'Pairs per batch while precomputing the reference log-probs (empty: the train / eval batch size).' },
  { name: 'cpo_alpha', kind: 'float', hint: '1 (CPO); 0 (SimPO)', min: 0, step: 0.1, advanced: true, help: 'CPO: weight of the NLL of the chosen completion added to the preference loss (behaviour cloning); SimPO uses 0.' },
  { name: 'simpo_gamma', kind: 'float', hint: '0.5 (SimPO)', step: 0.1, advanced: true, help: 'SimPO: the target margin of average log-probs, gamma / beta, the chosen answer must beat the rejected one by.' },
  { name: 'desirable_weight', kind: 'float', hint: '1 (KTO)', min: 0, step: 0.1, advanced: true, help: 'KTO: weight of the desirable (chosen) examples\' loss; raise it when they are fewer than the undesirable ones.' },
  { name: 'undesirable_weight', kind: 'float', hint: '1 (KTO)', min: 0, step: 0.1, advanced: true, help: 'KTO: weight of the undesirable (rejected) examples\' loss.' },
  { name: 'warmup_ratio', kind: 'float', hint: '0 - 0.1', min: 0, max: 1, step: 0.01, advanced: true, help: 'Fraction of the steps over which the learning rate ramps up from 0.' },
  { name: 'lr_scheduler_type', kind: 'select', options: ['linear', 'cosine', 'constant', 'constant_with_warmup'], hint: 'linear', advanced: true, help: 'How the learning rate decays after warmup.' },
  { name: 'max_grad_norm', kind: 'float', hint: '1.0', min: 0, step: 0.1, advanced: true, help: 'Gradients are clipped to this global norm (0 = no clipping).' },
  { name: 'weight_decay', kind: 'float', hint: '0 - 0.1', min: 0, step: 0.01, advanced: true, help: 'AdamW decoupled weight decay (not on biases and norms).' },
  { name: 'per_device_eval_batch_size', kind: 'int', hint: '8', min: 1, step: 1, advanced: true, help: 'Pairs per batch during evaluation.' },
  { name: 'rpo_alpha', kind: 'nullable-float', hint: 'empty, or ~1.0 (RPO)', min: 0, step: 0.1, advanced: true, help: 'Adds alpha x NLL of the chosen completion (RPO); empty = off.' },
  { name: 'reference_free', kind: 'bool', hint: 'off', advanced: true, help: 'Ignore the reference (its log-probs are 0): the loss only compares chosen and rejected.' },
  { name: 'seed', kind: 'int', hint: '42', min: 0, step: 1, advanced: true, help: 'Seed of the shuffling.' },
  { name: 'adam_beta1', kind: 'float', hint: '0.9', min: 0, max: 0.9999, step: 0.01, advanced: true, help: 'AdamW first-moment decay.' },
  { name: 'adam_beta2', kind: 'float', hint: '0.999', min: 0, max: 0.99999, step: 0.001, advanced: true, help: 'AdamW second-moment decay.' },
  { name: 'adam_epsilon', kind: 'float', hint: '1e-8', min: 0, step: 1e-9, advanced: true, help: 'AdamW epsilon.' },
  { name: 'truncation_mode', kind: 'select', options: ['keep_start', 'keep_end'], hint: 'keep_start', advanced: true, help: 'Which end of a too-long sequence is kept.' },
];

/** The LoRA part of the form, as typed (PEFT's LoraConfig names); `enabled` is 'true' or 'false'. */
export interface LoraForm {
  enabled: string;
  r: string;
  lora_alpha: string;
  target_modules: string;
}

export const LORA_FORM_DEFAULT: LoraForm = { enabled: 'false', r: '16', lora_alpha: '32', target_modules: 'all-linear' };

/** The form's text: what was typed (argText keys `lora.<field>`), else the current config, else the defaults. */
export function loraFormOf(lora: LoraConfig | null, text: Record<string, string>): LoraForm {
  const base: LoraForm = lora
    ? { enabled: 'true', r: String(lora.r), lora_alpha: String(lora.lora_alpha), target_modules: Array.isArray(lora.target_modules) ? lora.target_modules.join(', ') : lora.target_modules }
    : LORA_FORM_DEFAULT;
  return {
    enabled: text['lora.enabled'] ?? base.enabled,
    r: text['lora.r'] ?? base.r,
    lora_alpha: text['lora.lora_alpha'] ?? base.lora_alpha,
    target_modules: text['lora.target_modules'] ?? base.target_modules,
  };
}

/** The form -> PEFT's LoraConfig (null when off), or a sentence saying what is wrong. */
export function parseLoraForm(f: LoraForm): { value: LoraConfig | null } | ParamError {
  if (f.enabled !== 'true') return { value: null };
  const num = (s: string) => (s.trim() === '' ? NaN : Number(s));
  const t = f.target_modules.trim();
  const lora: LoraConfig = { r: num(f.r), lora_alpha: num(f.lora_alpha), target_modules: t === 'all-linear' ? t : t.split(/[\s,]+/).filter(Boolean) };
  // the form's own mistakes, with codes (the same sentences as validateLoraConfig's, which checks the rest)
  if (!Number.isInteger(lora.r) || lora.r < 1) return paramError('lora-r', { value: String(lora.r) });
  if (!(lora.lora_alpha > 0) || !Number.isFinite(lora.lora_alpha)) return paramError('lora-alpha', { value: String(lora.lora_alpha) });
  if (lora.target_modules !== 'all-linear' && lora.target_modules.length === 0) return paramError('lora-targets');
  try {
    validateLoraConfig(lora);
  } catch (e) {
    return { error: (e as Error).message };
  }
  return { value: lora };
}

/** The page's defaults: TRL's, plus an evaluation every 10 steps so the per-pair view fills in. */
export const pageDefaultArgs: TrainerArgs = { ...defaultTrainerArgs, eval_steps: 10 };

/** Parses a form value into the field's type, or returns a sentence saying why it is not valid. */
export function parseField(f: ParamField, raw: string | boolean): { value: TrainerArgs[keyof TrainerArgs] } | ParamError {
  if (f.kind === 'bool') return { value: Boolean(raw) };
  const s = String(raw).trim();
  if (f.kind === 'loss-list') {
    const kinds = s.split(',').map((x) => x.trim()).filter(Boolean);
    if (kinds.length === 0) return paramError('loss-none');
    const badKind = kinds.find((k) => !f.options!.includes(k));
    if (badKind) return paramError('loss-unknown', { kind: badKind, options: f.options!.join(', ') });
    if (new Set(kinds).size !== kinds.length) return paramError('loss-twice');
    return { value: kinds.join(',') as never };
  }
  if (f.kind === 'float-list') {
    if (s === '' || s === 'None' || s === 'null') return { value: null };
    const xs = s.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
    if (!xs.every(Number.isFinite)) return paramError('numbers', { name: f.name, value: s });
    return { value: xs as never };
  }
  if (f.kind === 'select') {
    if (!f.options!.includes(s)) return paramError('one-of', { name: f.name, options: f.options!.join(', ') });
    return { value: s as never };
  }
  if ((f.kind === 'nullable-int' || f.kind === 'nullable-float') && (s === '' || s === 'None' || s === 'null')) return { value: null };
  const n = Number(s);
  if (s === '' || !Number.isFinite(n)) return paramError('number', { name: f.name, value: s });
  if ((f.kind === 'int' || f.kind === 'nullable-int') && !Number.isInteger(n)) return paramError('whole', { name: f.name, value: s });
  if (f.min !== undefined && n < f.min && !(f.name === 'max_steps')) return paramError('at-least', { name: f.name, min: f.min, value: s });
  if (f.max !== undefined && n > f.max) return paramError('at-most', { name: f.name, max: f.max, value: s });
  if (f.name === 'max_steps' && (n === 0 || n < -1)) return paramError('max-steps');
  return { value: n };
}

/** A warning (not an error) when a value is outside the recommended range. */
export function rangeWarning(name: keyof TrainerArgs, v: unknown, pretrained: boolean): string | null {
  if (name === 'beta' && typeof v === 'number' && (v < 0.05 || v > 1)) return 'DPO usually uses beta between 0.1 and 0.5.';
  if (name === 'learning_rate' && typeof v === 'number' && pretrained && v > 2e-5) return 'Above ~5e-6 a pretrained model often collapses under DPO; lower it unless this is a toy model.';
  return null;
}

export const formatValue = (v: unknown): string => (v === null || v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v));

/** One line per loss kind: what it does and the paper it comes from (the loss selector). */
export const LOSS_INFO: Record<DpoLossKind, { what: string; paper: string; url: string }> = {
  sigmoid: { what: 'DPO: -log sigma(beta h); pushes the chosen log-ratio above the rejected one.', paper: 'Rafailov et al. 2023, DPO', url: 'https://huggingface.co/papers/2305.18290' },
  hinge: { what: 'SLiC: relu(1 - beta h); stops pushing once the margin passes 1/beta.', paper: 'Zhao et al. 2023, SLiC-HF', url: 'https://huggingface.co/papers/2305.10425' },
  ipo: { what: 'IPO: (h/len - 1/(2 beta))^2; regresses the per-token margin to a target, so it cannot run away.', paper: 'Azar et al. 2023, IPO', url: 'https://huggingface.co/papers/2310.12036' },
  exo_pair: { what: 'EXO: reverse KL between the model\'s and the (label-smoothed) preference distribution over the pair.', paper: 'Ji et al. 2024, EXO', url: 'https://huggingface.co/papers/2402.00856' },
  nca_pair: { what: 'NCA: scores each answer against the reference on its own; raises the chosen likelihood instead of only the gap.', paper: 'Chen et al. 2024, NCA', url: 'https://huggingface.co/papers/2402.05369' },
  robust: { what: 'Robust DPO: unbiased under labels flipped with probability label_smoothing.', paper: 'Chowdhury et al. 2024, rDPO', url: 'https://huggingface.co/papers/2403.00409' },
  bco_pair: { what: 'BCO: a binary classifier per answer (chosen reward up, rejected down) instead of their difference.', paper: 'Jung et al. 2024, BCO', url: 'https://huggingface.co/papers/2404.04656' },
  sppo_hard: { what: 'SPPO (hard labels): regresses the chosen log-ratio to +1/(2 beta) and the rejected to -1/(2 beta).', paper: 'Wu et al. 2024, SPPO', url: 'https://huggingface.co/papers/2405.00675' },
  aot: { what: 'AOT: DPO on the sorted batch of margins vs the sorted reference margins (distributional alignment).', paper: 'Melnyk et al. 2024, AOT', url: 'https://huggingface.co/papers/2406.05882' },
  aot_unpaired: { what: 'AOT unpaired: sorted chosen log-ratios against sorted rejected ones; the pairing is not used.', paper: 'Melnyk et al. 2024, AOT', url: 'https://huggingface.co/papers/2406.05882' },
  apo_zero: { what: 'APO-zero: chosen likelihood up, rejected down; for chosen answers better than the model\'s own.', paper: "D'Oosterlinck et al. 2024, APO", url: 'https://huggingface.co/papers/2408.06266' },
  apo_down: { what: 'APO-down: both likelihoods down, the rejected one more; for chosen answers worse than the model\'s own.', paper: "D'Oosterlinck et al. 2024, APO", url: 'https://huggingface.co/papers/2408.06266' },
  discopop: { what: 'DiscoPOP: blends logistic and exponential losses by the margin (discopop_tau); found by an LLM search.', paper: 'Chris Lu et al. 2024, DiscoPOP', url: 'https://huggingface.co/papers/2406.08414' },
  sft: { what: 'SFT: NLL of the chosen answer (RPO / MPO add it to keep the chosen likelihood up).', paper: 'RPO (Pang et al. 2024); MPO (Wang et al. 2024)', url: 'https://huggingface.co/papers/2411.10442' },
  sigmoid_norm: { what: 'Length-normalised DPO: -log sigma(beta h / len); the margin per token, so length does not pay.', paper: 'length-normalised DPO, cf. SimPO (Meng et al. 2024)', url: 'https://huggingface.co/papers/2405.14734' },
  cdpo: { what: 'Conservative DPO (ours): DPO with label smoothing, as TRL <= 0.28 ran sigmoid with label_smoothing.', paper: 'Mitchell 2023, cDPO note', url: 'https://ericmitchell.ai/cdpo.pdf' },
};

/** One line per trainer (the method selector): what it optimises and its paper. */
export const TRAINER_INFO: Record<TrainerKind, { what: string; paper: string; url: string }> = {
  dpo: { what: 'DPO: the policy\'s log-ratio to a frozen reference, chosen above rejected (holds a reference).', paper: 'Rafailov et al. 2023, DPO', url: 'https://huggingface.co/papers/2305.18290' },
  cpo: { what: 'CPO: the policy\'s own log-probs, chosen above rejected, plus the chosen NLL; loss_type simpo is SimPO (length-averaged, a margin gamma). No reference.', paper: 'Xu et al. 2024, CPO; Meng et al. 2024, SimPO', url: 'https://huggingface.co/papers/2405.14734' },
  orpo: { what: 'ORPO: NLL of the chosen answer minus beta x log sigma of the odds ratio of chosen to rejected. No reference.', paper: 'Hong et al. 2024, ORPO', url: 'https://huggingface.co/papers/2403.07691' },
  kto: { what: 'KTO: each answer alone, desirable or not, against a KL reference point estimated from mismatched answers (holds a reference; pairs are unpaired).', paper: 'Ethayarajh et al. 2024, KTO', url: 'https://huggingface.co/papers/2402.01306' },
};
