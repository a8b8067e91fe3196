// The trainer's options: TRL's DPOConfig names and defaults (and the trainers beside DPO, whose options live
// in src/dpo/preference-trainer.ts), Hugging Face TrainingArguments' step options, and their checks.
import type { LoraConfig } from '../model/lora';
import { validateLoraConfig } from '../model/lora';
import { LOSS_ARG_DEFAULTS, validateLossArgs, type LossArgs } from './loss-args';
import { PREFERENCE_ARG_DEFAULTS, trainerOf, validatePreferenceArgs, type PreferenceArgs } from './preference-trainer';
import type { LrSchedulerType } from './schedule';
import { TRL_DEFAULT_MAX_LENGTH, type TruncationMode } from './tokenize';

/** TrainerArgs also holds the trainer choice beside DPO (trainer, cpo_alpha, simpo_gamma, desirable/undesirable_weight). */
export interface TrainerArgs extends PreferenceArgs, LossArgs {
  /** 'dpo' (preference optimisation) or 'sft' (NLL on the chosen completions, to make a reference). */
  mode: 'dpo' | 'sft';
  /** TRL's loss_type list, comma-separated ("sigmoid" or "sigmoid,bco_pair,sft"); cdpo is ours. */
  loss_type: string;
  /** TRL's loss_weights, one per loss type; null = 1 each. */
  loss_weights: number[] | null;
  learning_rate: number;
  per_device_train_batch_size: number;
  per_device_eval_batch_size: number;
  gradient_accumulation_steps: number;
  num_train_epochs: number;
  max_steps: number;
  warmup_ratio: number;
  warmup_steps: number;
  lr_scheduler_type: LrSchedulerType;
  max_grad_norm: number;
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  seed: number;
  logging_steps: number;
  /** Evaluate every N optimizer steps (0 = only when asked). */
  eval_steps: number;
  /** Shuffle the training pairs each epoch (seeded); false = file order, like a sequential sampler. */
  shuffle: boolean;
  /** Compute kl/token_mean_exact at logging steps (costs two extra LM-head passes). */
  compute_kl: boolean;
  /** Longest prompt+completion in tokens (TRL's max_length; null = no truncation). */
  max_length: number | null;
  truncation_mode: TruncationMode;
  /**
   * PEFT's LoraConfig (TRL's peft_config): train low-rank adapters on a frozen base; the reference is the
   * base (adapters off), so no second copy of the weights. null = full fine-tuning.
   */
  lora: LoraConfig | null;
  /** Keep only each block's input in the forward and recompute the block in backward (HF's gradient_checkpointing). */
  gradient_checkpointing: boolean;
}

/** TRL 1.x / transformers defaults, except logging_steps (1: a playground logs every step). */
export const defaultTrainerArgs: TrainerArgs = {
  mode: 'dpo',
  beta: 0.1,
  loss_type: 'sigmoid',
  label_smoothing: 0,
  ...LOSS_ARG_DEFAULTS,
  learning_rate: 1e-6,
  per_device_train_batch_size: 8,
  per_device_eval_batch_size: 8,
  gradient_accumulation_steps: 1,
  num_train_epochs: 3,
  max_steps: -1,
  warmup_ratio: 0,
  warmup_steps: 0,
  lr_scheduler_type: 'linear',
  max_grad_norm: 1,
  weight_decay: 0,
  adam_beta1: 0.9,
  adam_beta2: 0.999,
  adam_epsilon: 1e-8,
  seed: 42,
  precompute_ref_log_probs: false,
  reference_free: false,
  rpo_alpha: null,
  logging_steps: 1,
  eval_steps: 0,
  shuffle: true,
  compute_kl: true,
  max_length: TRL_DEFAULT_MAX_LENGTH,
  truncation_mode: 'keep_start',
  lora: null,
  gradient_checkpointing: false,
  ...PREFERENCE_ARG_DEFAULTS,
};

/** Where a refusal's code and params come from (trainer.<case>): the page says it in its language by them. */
export type Refuse = (msg: string, code?: string, params?: Record<string, string | number>) => never;

/**
 * The run's options cannot be run (TRL refuses them too, or this engine cannot). The message is English (the
 * CLI and tests print it); `code` (trainer.<case>) and `params` let the page say it in its language.
 */
export class TrainerConfigError extends Error {
  override name = 'TrainerConfigError';
  constructor(message: string, code?: string, params?: Record<string, string | number>) {
    super(message);
    if (code) Object.assign(this, params ? { code, params } : { code });
  }
}

/** create() stopped between two chunks of the reference precompute because init.interrupted() said so. */
export class StartInterrupted extends Error {
  override name = 'StartInterrupted';
}

export function validateArgs(a: TrainerArgs): void {
  const bad: Refuse = (msg, code, params) => {
    throw new TrainerConfigError(msg, code, params);
  };
  if (!(a.beta > 0)) bad(`beta must be positive (got ${a.beta}); the DPO paper and TRL use 0.1 to 0.5.`, 'trainer.beta', { got: String(a.beta) });
  if (!(a.learning_rate >= 0)) bad(`learning_rate must be >= 0 (got ${a.learning_rate}).`, 'trainer.min', { option: 'learning_rate', min: '0', got: String(a.learning_rate) });
  // DPO's loss options, or those of CPO / ORPO / KTO (src/dpo/preference-trainer.ts)
  if (trainerOf(a) === 'dpo') validateLossArgs(a, bad);
  else validatePreferenceArgs(a, bad);
  for (const k of ['per_device_train_batch_size', 'per_device_eval_batch_size', 'gradient_accumulation_steps'] as const) {
    if (!Number.isInteger(a[k]) || a[k] < 1) bad(`${k} must be a positive integer (got ${a[k]}).`, 'trainer.positive-int', { option: k, got: String(a[k]) });
  }
  if (a.max_steps <= 0 && !(a.num_train_epochs > 0)) bad('Set max_steps > 0 or num_train_epochs > 0.', 'trainer.no-length');
  if (!(a.warmup_ratio >= 0 && a.warmup_ratio <= 1)) bad(`warmup_ratio must be in [0, 1] (got ${a.warmup_ratio}).`, 'trainer.range', { option: 'warmup_ratio', range: '[0, 1]', got: String(a.warmup_ratio) });
  if (a.precompute_ref_log_probs && a.reference_free) bad('precompute_ref_log_probs and reference_free cannot both be set.', 'trainer.precompute-reference-free');
  if (a.lora) {
    try {
      validateLoraConfig(a.lora);
    } catch (e) {
      const x = e as Error & { code?: string; params?: Record<string, string | number> };
      bad(x.message, x.code, x.params);
    }
  }
}
