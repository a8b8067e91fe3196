// The hyperparameter form's fields: TRL's names and defaults, the ranges the field recommends, and a
// sentence on what each does. Pure data + validation, no React (tested in test/ui-params.test.tsx).
import { defaultTrainerArgs, type TrainerArgs } from '../dpo/trainer';
import { validateLoraConfig, type LoraConfig } from '../model/lora';

export type FieldKind = 'float' | 'int' | 'select' | 'bool' | 'nullable-int' | 'nullable-float';

export interface ParamField {
  name: keyof TrainerArgs;
  kind: FieldKind;
  options?: readonly string[];
  /** The recommended range, as shown next to the field. */
  hint: string;
  help: string;
  advanced?: boolean;
  min?: number;
  max?: number;
  step?: number;
}

export const PARAM_FIELDS: readonly ParamField[] = [
  { name: 'beta', kind: 'float', hint: '0.1 - 0.5', min: 0, step: 0.05, help: 'Strength of the KL leash to the reference: small beta lets the policy drift further for the same preference.' },
  { name: 'loss_type', kind: 'select', options: ['sigmoid', 'cdpo', 'robust', 'hinge', 'ipo'], hint: 'sigmoid = DPO', help: 'sigmoid is the DPO paper; cdpo/robust use label_smoothing; hinge is SLiC; ipo is identity preference optimisation.' },
  { name: 'learning_rate', kind: 'float', hint: '5e-7 - 5e-6 (pretrained)', min: 0, step: 1e-7, help: 'Peak learning rate of AdamW. Pretrained LMs want ~1e-6; the tiny demo model tolerates much more.' },
  { name: 'max_steps', kind: 'int', hint: '-1 = use epochs', step: 1, help: 'Optimizer steps to run; -1 trains for num_train_epochs.' },
  { name: 'num_train_epochs', kind: 'float', hint: '1 - 3', min: 0, step: 1, help: 'Passes over the training pairs (used when max_steps is -1).' },
  { name: 'per_device_train_batch_size', kind: 'int', hint: '2 - 16', min: 1, step: 1, help: 'Pairs per micro-batch (each pair is two sequences: chosen and rejected).' },
  { name: 'gradient_accumulation_steps', kind: 'int', hint: '1 - 16', min: 1, step: 1, help: 'Micro-batches summed into one optimizer step: a larger effective batch without more memory.' },
  { name: 'max_length', kind: 'nullable-int', hint: '128 - 1024', min: 1, step: 1, help: 'Longest prompt + completion in tokens; longer sequences are truncated (TRL default 1024). Empty = no limit.' },
  { name: 'precompute_ref_log_probs', kind: 'bool', hint: 'saves memory', help: 'Compute the reference log-probs once before training and drop the reference model from the GPU.' },
  { name: 'gradient_checkpointing', kind: 'bool', hint: 'saves memory', help: 'Keep only each block\'s input in the forward and recompute the block in backward: activations shrink to about one layer\'s, for ~1/3 more compute.' },
  { name: 'eval_steps', kind: 'int', hint: '5 - 50', min: 0, step: 1, help: 'Evaluate on the held-out pairs every N steps (0 = only at the end).' },
  { name: 'label_smoothing', kind: 'float', hint: '0 - 0.2 (cdpo, robust)', min: 0, max: 0.49, step: 0.05, advanced: true, help: 'Probability that a label is flipped; only cdpo and robust use it.' },
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
export function parseLoraForm(f: LoraForm): { value: LoraConfig | null } | { error: string } {
  if (f.enabled !== 'true') return { value: null };
  const num = (s: string) => (s.trim() === '' ? NaN : Number(s));
  const t = f.target_modules.trim();
  const lora: LoraConfig = { r: num(f.r), lora_alpha: num(f.lora_alpha), target_modules: t === 'all-linear' ? t : t.split(/[\s,]+/).filter(Boolean) };
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
export function parseField(f: ParamField, raw: string | boolean): { value: TrainerArgs[keyof TrainerArgs] } | { error: string } {
  if (f.kind === 'bool') return { value: Boolean(raw) };
  const s = String(raw).trim();
  if (f.kind === 'select') {
    if (!f.options!.includes(s)) return { error: `${f.name} must be one of ${f.options!.join(', ')}.` };
    return { value: s as never };
  }
  if ((f.kind === 'nullable-int' || f.kind === 'nullable-float') && (s === '' || s === 'None' || s === 'null')) return { value: null };
  const n = Number(s);
  if (s === '' || !Number.isFinite(n)) return { error: `${f.name} needs a number, not "${s}".` };
  if ((f.kind === 'int' || f.kind === 'nullable-int') && !Number.isInteger(n)) return { error: `${f.name} must be a whole number (got ${s}).` };
  if (f.min !== undefined && n < f.min && !(f.name === 'max_steps')) return { error: `${f.name} must be at least ${f.min} (got ${s}).` };
  if (f.max !== undefined && n > f.max) return { error: `${f.name} must be at most ${f.max} (got ${s}).` };
  if (f.name === 'max_steps' && (n === 0 || n < -1)) return { error: 'max_steps must be -1 (use epochs) or a positive number of steps.' };
  return { value: n };
}

/** A warning (not an error) when a value is outside the recommended range. */
export function rangeWarning(name: keyof TrainerArgs, v: unknown, pretrained: boolean): string | null {
  if (name === 'beta' && typeof v === 'number' && (v < 0.05 || v > 1)) return 'DPO usually uses beta between 0.1 and 0.5.';
  if (name === 'learning_rate' && typeof v === 'number' && pretrained && v > 2e-5) return 'Above ~5e-6 a pretrained model often collapses under DPO; lower it unless this is a toy model.';
  return null;
}

export const formatValue = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
