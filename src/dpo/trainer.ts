// The DPO trainer: TRL's DPOTrainer options and metric names, Hugging Face Trainer's step semantics
// (gradient accumulation, warmup + schedule, clipping, AdamW without decay on biases and norms),
// on the WebGPU engine. The loop reads top to bottom: batches -> micro-steps -> optimizer step -> logs.
import type { Gpu } from '../gpu/context';
import type { ModelConfig } from '../model/config';
import { initLoraWeights, LoraAdapters, loraToPeft, mergeLora, validateLoraConfig, type LoraConfig } from '../model/lora';
import { createParams, downloadParams, fromHf, releaseParams, toHf, type ParamSet } from '../model/params';
import { parseSafetensorsHeader, readTensor, writeSafetensors } from '../model/safetensors';
import { Transformer } from '../model/transformer';
import { generate, type GenerateOptions } from './generate';
import { packSftSequences, releasePairBatch, uploadPairBatch, type PairBatch } from './gpu-batch';
import { collate, TRL_DEFAULT_MAX_LENGTH, type DpoBatch, type TokenizedPair, type TruncationMode } from './tokenize';
import { dpoMetrics, gradientWeights, type Metrics } from './metrics';
import { LOSS_ARG_DEFAULTS, trainerLossOptions, validateLossArgs } from './loss-args';
import { pairTokens, type PairTokens } from './token-moves';
import { AdamW, NonFiniteGradientError } from './optimizer';
import { Rng } from '../data/split';
import { lrLambda, warmupSteps, type LrSchedulerType } from './schedule';
import { dpoMicroStep, sftMicroStep, type MicroStepResult, type ReferenceSource } from './step';
import { add, scale } from '../gpu/ops/elementwise';
import type { FDivergence } from './loss';
import { isUnpaired, ktoExamples, type KtoExample } from './kto-data';
import { UnpairedDataError } from '../data/unpaired';
import { preferenceMetrics } from './preference-metrics';
import { preferenceMicroStep, type PreferenceStepResult } from './preference-step';
import { PREFERENCE_ARG_DEFAULTS, preferenceKind, trainerNeedsReference, trainerOf, validatePreferenceArgs, type PreferenceArgs } from './preference-trainer';

/** TrainerArgs also holds the trainer choice beside DPO (trainer, cpo_alpha, simpo_gamma, desirable/undesirable_weight). */
export interface TrainerArgs extends PreferenceArgs {
  /** 'dpo' (preference optimisation) or 'sft' (NLL on the chosen completions, to make a reference). */
  mode: 'dpo' | 'sft';
  beta: number;
  /** TRL's loss_type list, comma-separated ("sigmoid" or "sigmoid,bco_pair,sft"); cdpo is ours. */
  loss_type: string;
  /** TRL's loss_weights, one per loss type; null = 1 each. */
  loss_weights: number[] | null;
  label_smoothing: number;
  /** f-DPO: reverse_kl (DPO), forward_kl, js_divergence, alpha_divergence (with f_alpha_divergence_coef). */
  f_divergence_type: FDivergence;
  f_alpha_divergence_coef: number;
  /** WPO: weight each pair by its completions' length-normalised probabilities under the policy. */
  use_weighting: boolean;
  /** LD-DPO: tokens past the shorter completion's length count ld_alpha times (null = off). */
  ld_alpha: number | null;
  discopop_tau: number;
  /** TR-DPO: every ref_model_sync_steps steps, reference = mixup_alpha * policy + (1 - mixup_alpha) * reference. */
  sync_ref_model: boolean;
  ref_model_mixup_alpha: number;
  ref_model_sync_steps: number;
  /** Batch size of the reference precompute (null = per_device_train/eval_batch_size, as TRL). */
  precompute_ref_batch_size: number | null;
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
  precompute_ref_log_probs: boolean;
  reference_free: boolean;
  rpo_alpha: number | null;
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

export class TrainerConfigError extends Error {
  override name = 'TrainerConfigError';
}

/** create() stopped between two chunks of the reference precompute because init.interrupted() said so. */
export class StartInterrupted extends Error {
  override name = 'StartInterrupted';
}

export function validateArgs(a: TrainerArgs): void {
  const bad = (msg: string) => {
    throw new TrainerConfigError(msg);
  };
  if (!(a.beta > 0)) bad(`beta must be positive (got ${a.beta}); the DPO paper and TRL use 0.1 to 0.5.`);
  if (!(a.learning_rate >= 0)) bad(`learning_rate must be >= 0 (got ${a.learning_rate}).`);
  // DPO's loss options, or those of CPO / ORPO / KTO (src/dpo/preference-trainer.ts)
  if (trainerOf(a) === 'dpo') validateLossArgs(a, bad);
  else validatePreferenceArgs(a, bad);
  for (const k of ['per_device_train_batch_size', 'per_device_eval_batch_size', 'gradient_accumulation_steps'] as const) {
    if (!Number.isInteger(a[k]) || a[k] < 1) bad(`${k} must be a positive integer (got ${a[k]}).`);
  }
  if (a.max_steps <= 0 && !(a.num_train_epochs > 0)) bad('Set max_steps > 0 or num_train_epochs > 0.');
  if (!(a.warmup_ratio >= 0 && a.warmup_ratio <= 1)) bad(`warmup_ratio must be in [0, 1] (got ${a.warmup_ratio}).`);
  if (a.precompute_ref_log_probs && a.reference_free) bad('precompute_ref_log_probs and reference_free cannot both be set.');
  if (a.lora) {
    try {
      validateLoraConfig(a.lora);
    } catch (e) {
      bad((e as Error).message);
    }
  }
}

export interface LogRecord extends Metrics {
  step: number;
  epoch: number;
}

export interface PairRecord {
  index: number;
  policyChosen: number;
  policyRejected: number;
  referenceChosen: number;
  referenceRejected: number;
  rewardChosen: number;
  rewardRejected: number;
  margin: number;
  /** The weight the run's loss gives this pair's margin (sigma(r_l - r_w) for sigmoid; metrics.ts gradientWeights). */
  weight: number;
  /** Per completion token log-probs of policy and reference (the page's "which tokens moved"). */
  tokens?: PairTokens;
}

export interface TrainerEvents {
  onLog?(r: LogRecord): void;
  onEval?(r: LogRecord, pairs: PairRecord[]): void;
  onStatus?(message: string): void;
}

export interface TrainerInit {
  config: ModelConfig;
  /** Hugging Face tensors of the starting policy. */
  policy: Map<string, Float32Array>;
  /** Reference weights; the starting policy when absent (TRL's default). */
  reference?: Map<string, Float32Array>;
  train: TokenizedPair[];
  eval?: TokenizedPair[];
  padId: number;
  args?: Partial<TrainerArgs>;
  /** Asked between chunks of the reference precompute (a pause or stop pressed while starting): true stops create(). */
  interrupted?: () => boolean;
}

interface Progress {
  step: number;
  epoch: number;
  /** Position (in micro-batches) inside the current epoch's order. */
  cursor: number;
  order: number[];
  rngState: number;
  /** TRL's num_tokens: attended (non-padding) tokens of every training batch so far. */
  numTokens?: number;
}

export class DpoTrainer {
  readonly args: TrainerArgs;
  readonly cfg: ModelConfig;
  readonly policy: Transformer;
  reference: Transformer | null;
  /** LoRA adapters on the frozen policy, when args.lora is set. */
  readonly lora: LoraAdapters | null = null;
  /** With LoRA: the reference is the policy with its adapters off (until its log-probs are precomputed). */
  private loraRef = false;
  private readonly params: ParamSet;
  /** Gradients of the base weights (empty with LoRA: the base is frozen). */
  private readonly grads: ParamSet;
  private readonly opt: AdamW;
  private refLogps: Float32Array[] | null = null; // per train pair [chosen, rejected]
  private evalRefLogps: Float32Array[] | null = null;
  private readonly rng: Rng;
  private progress: Progress;
  private pauseRequested = false;
  readonly totalSteps: number;
  readonly warmup: number;
  lastGradNorm = NaN;

  private constructor(
    readonly gpu: Gpu,
    private readonly init: TrainerInit,
  ) {
    this.args = { ...defaultTrainerArgs, ...init.args };
    validateArgs(this.args);
    if (init.train.length === 0) throw new TrainerConfigError('The training split is empty: load a dataset with at least one valid pair.');
    this.cfg = init.config;
    this.params = createParams(gpu, this.cfg, fromHf(this.cfg, init.policy));
    this.policy = new Transformer(gpu, this.cfg, this.params);
    this.policy.gradientCheckpointing = this.args.gradient_checkpointing;
    const needsRef = this.args.mode === 'dpo' && trainerNeedsReference(this.args);
    const a = this.args;
    if (a.lora) {
      if (init.reference) throw new TrainerConfigError('With LoRA the reference is the loaded model with its adapters off; a separate reference model cannot be given (TRL refuses both too).');
      this.lora = new LoraAdapters(gpu, this.cfg, a.lora, this.params, initLoraWeights(this.cfg, a.lora, a.seed));
      this.loraRef = needsRef;
      this.reference = null;
      this.grads = new Map();
      this.opt = new AdamW(gpu, this.cfg, this.lora.params, this.lora.grads);
    } else {
      this.reference = needsRef ? new Transformer(gpu, this.cfg, createParams(gpu, this.cfg, fromHf(this.cfg, init.reference ?? init.policy))) : null;
      this.grads = createParams(gpu, this.cfg, null);
      this.opt = new AdamW(gpu, this.cfg, this.params, this.grads);
    }
    this.rng = new Rng(a.seed);
    const perEpoch = Math.max(1, Math.ceil(this.batchesPerEpoch / a.gradient_accumulation_steps));
    this.totalSteps = a.max_steps > 0 ? a.max_steps : Math.ceil(a.num_train_epochs * perEpoch);
    this.warmup = warmupSteps(this.totalSteps, a.warmup_ratio, a.warmup_steps);
    this.progress = { step: 0, epoch: 0, cursor: 0, order: this.epochOrder(), rngState: this.rng.state };
  }

  static async create(gpu: Gpu, init: TrainerInit): Promise<DpoTrainer> {
    // KTO trains on unpaired examples, each with its KL completion (TRL's unpair_preference_dataset + KL rotation)
    const a0 = { ...defaultTrainerArgs, ...init.args };
    const kto = trainerOf(a0) === 'kto' && a0.mode === 'dpo';
    // TRL's unpaired format (prompt, completion, label) is KTO's alone: the other trainers (and SFT) need pairs
    if (!kto && (isUnpaired(init.train) || isUnpaired(init.eval ?? []))) throw new UnpairedDataError(a0.mode === 'sft' ? 'sft' : trainerOf(a0));
    const t = new DpoTrainer(
      gpu,
      kto
        ? { ...init, train: ktoExamples(init.train, a0.per_device_train_batch_size), eval: init.eval && ktoExamples(init.eval, a0.per_device_eval_batch_size) }
        : init,
    );
    if (t.args.precompute_ref_log_probs && (t.reference || t.loraRef)) {
      try {
        await t.precomputeReference();
      } catch (e) {
        t.release(); // interrupted or a GPU fault: nothing of this trainer stays on the GPU
        throw e;
      }
    }
    return t;
  }

  /** The host weights this run started from (the loaded model, or the SFT result): the export's base-model/. */
  get startWeights(): Map<string, Float32Array> {
    return this.init.policy;
  }

  get step(): number {
    return this.progress.step;
  }

  get done(): boolean {
    return this.progress.step >= this.totalSteps;
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.init.train.length / this.args.per_device_train_batch_size);
  }

  private epochOrder(): number[] {
    const n = this.init.train.length;
    // KTO keeps dataset order (TRL's train_sampling_strategy "sequential"): its KL completions are paired within batches
    return this.args.shuffle && trainerOf(this.args) !== 'kto' ? this.rng.permutation(n) : Array.from({ length: n }, (_, i) => i);
  }

  /** TRL's collator: prompt+completion, truncated to max_length per sequence, right-padded. */
  private pack(pairs: readonly TokenizedPair[]): DpoBatch {
    return collate(pairs, this.init.padId, { maxLength: this.args.max_length, truncationMode: this.args.truncation_mode });
  }

  learningRate(step: number): number {
    return this.args.learning_rate * lrLambda(this.args.lr_scheduler_type, step, this.totalSteps, this.warmup);
  }

  /** Reference log-probs of every pair, computed once; the reference weights then leave the GPU. */
  private async precomputeReference(): Promise<void> {
    const ref = this.reference ?? this.policy;
    const run = async (pairs: TokenizedPair[], bs: number) => {
      if (!this.reference && this.lora) return this.lora.withAdaptersOff(() => runOn(pairs, bs));
      return runOn(pairs, bs);
    };
    const runOn = async (pairs: TokenizedPair[], bs: number) => {
      const out: Float32Array[] = [];
      for (let i = 0; i < pairs.length; i += bs) {
        if (this.init.interrupted?.()) throw new StartInterrupted('The start was interrupted while computing the reference log-probs.');
        const chunk = pairs.slice(i, i + bs);
        const batch = uploadPairBatch(this.gpu, this.pack(chunk));
        const r = await dpoMicroStep(this.gpu, ref, { logps: new Float32Array(2 * chunk.length) }, batch, this.lossOpts(null));
        releasePairBatch(this.gpu, batch);
        const N = chunk.length;
        for (let j = 0; j < N; j++) out.push(Float32Array.of(r.policyLogps[j], r.policyLogps[N + j]));
      }
      return out;
    };
    // TRL: precompute_ref_batch_size, else the train / eval batch size
    const a = this.args;
    this.refLogps = await run(this.init.train, a.precompute_ref_batch_size ?? a.per_device_train_batch_size);
    this.evalRefLogps = this.init.eval?.length ? await run(this.init.eval, a.precompute_ref_batch_size ?? a.per_device_eval_batch_size) : [];
    if (this.reference) releaseParams(this.gpu, this.reference.params);
    this.reference = null;
    this.loraRef = false;
    this.gpu.trim();
  }

  private lossOpts(grads: ParamSet | null, kl = false) {
    const a = this.args;
    // entropy / mean_token_accuracy (an extra pass over the logits) where they are logged: at a logged step
    // (`kl` says so), and on every training step when a log averages several steps (logging_steps > 1, as TRL)
    return { ...trainerLossOptions(a), gradScale: 1, kl: kl && a.compute_kl, stats: kl || (grads !== null && a.logging_steps > 1), grads };
  }

  /** TR-DPO (TRL's SyncRefModelCallback): reference = alpha * policy + (1 - alpha) * reference, tensor by tensor. */
  private syncReference(): void {
    const ref = this.reference;
    if (!ref) return;
    const alpha = this.args.ref_model_mixup_alpha;
    for (const [name, p] of this.params) {
      const q = ref.params.get(name)!;
      p.chunks.forEach((c, i) => {
        const a = this.gpu.tensor([c.size]);
        const b = this.gpu.tensor([c.size]);
        scale(this.gpu, q.chunks[i], a, c.size, 1 - alpha);
        scale(this.gpu, c, b, c.size, alpha);
        add(this.gpu, a, b, q.chunks[i], c.size);
        this.gpu.release(a, b);
      });
    }
  }

  private refSource(indices: number[], table: Float32Array[] | null, N: number): ReferenceSource {
    if (this.reference) return { model: this.reference };
    if (this.loraRef && this.lora) return { model: this.policy, adapters: this.lora.toggle };
    const logps = new Float32Array(2 * N);
    if (table) indices.forEach((idx, j) => {
      logps[j] = table[idx][0];
      logps[N + j] = table[idx][1];
    });
    return { logps }; // reference-free: zeros
  }

  requestPause(): void {
    this.pauseRequested = true;
  }

  /** Trains until max steps, a pause request, or an error. Returns true when training finished. */
  async train(events: TrainerEvents = {}): Promise<boolean> {
    this.pauseRequested = false;
    const a = this.args;
    const accum = a.gradient_accumulation_steps;
    const bs = a.per_device_train_batch_size;
    let window: MicroStepResult[] = [];
    let prefWindow: PreferenceStepResult[] = [];
    const pref = trainerOf(a) !== 'dpo';
    let sftWindow = { logpSum: 0, tokens: 0 };
    let windowTokens = 0;
    let windowStart = performance.now();
    while (!this.done) {
      if (this.pauseRequested) return false;
      this.gpu.checkAlive();
      const p = this.progress;
      // the micro-batches of this optimizer step (fewer at the end of an epoch, as HF does)
      const remaining = this.batchesPerEpoch - p.cursor;
      const micro = Math.min(accum, remaining);
      const batchesIdx: number[][] = [];
      for (let k = 0; k < micro; k++) {
        const start = (p.cursor + k) * bs;
        batchesIdx.push(p.order.slice(start, start + bs));
      }
      const logNow = (p.step + 1) % a.logging_steps === 0 || p.step + 1 === this.totalSteps;
      this.opt.zeroGrads();
      // SFT: HF's num_items_in_batch = the scored (label != -100) tokens of the whole accumulation window
      // AFTER truncation to max_length, counted over labels[..., 1:]; every micro-step's gradient is
      // divided by it (transformers 5.18 Trainer.get_batch_samples).
      const sftBatches = a.mode === 'sft' ? batchesIdx.map((idx) => packSftSequences(idx.map((i) => this.init.train[i]), this.init.padId, this.args.max_length)) : [];
      const sftTokens = sftBatches.reduce((acc, b) => acc + b.completionMask.reduce((s, m, j) => s + (j % b.T > 0 ? m : 0), 0), 0);
      for (const [k, idx] of batchesIdx.entries()) {
        const pairs = idx.map((i) => this.init.train[i]);
        if (a.mode === 'sft') {
          const batch = uploadPairBatch(this.gpu, sftBatches[k]);
          const r = await sftMicroStep(this.gpu, this.policy, batch, this.grads, sftTokens);
          windowTokens += batch.host.scored.length;
          releasePairBatch(this.gpu, batch);
          sftWindow.logpSum += r.logpSum;
          sftWindow.tokens += r.tokens;
          if (!Number.isFinite(r.logpSum)) return this.fail(events, 'The SFT loss became non-finite');
          continue;
        }
        const packedPairs = this.pack(pairs);
        if (pref) {
          const r = await this.preferenceStep(packedPairs, pairs, this.grads, 1 / micro);
          // TRL's num_tokens: attended tokens of the batch (KTO: its completions, not the KL ones)
          p.numTokens = (p.numTokens ?? 0) + packedPairs.seqLens.slice(0, trainerOf(a) === 'kto' ? pairs.length : undefined).reduce((s, x) => s + x, 0);
          windowTokens += countTokens(pairs);
          if (!r.losses.every(Number.isFinite)) return this.fail(events, 'The loss became non-finite');
          prefWindow.push(r);
          continue;
        }
        p.numTokens = (p.numTokens ?? 0) + packedPairs.seqLens.reduce((s, x) => s + x, 0);
        const batch = uploadPairBatch(this.gpu, packedPairs);
        const opts = { ...this.lossOpts(this.grads, logNow), gradScale: 1 / micro };
        const r = await dpoMicroStep(this.gpu, this.policy, this.refSource(idx, this.refLogps, pairs.length), batch, opts);
        windowTokens += countTokens(pairs);
        releasePairBatch(this.gpu, batch);
        if (!r.losses.every(Number.isFinite)) return this.fail(events, 'The loss became non-finite');
        window.push(r);
      }
      const lr = this.learningRate(p.step);
      const optStep = this.opt.step;
      try {
        this.lastGradNorm = await this.opt.apply({
          lr,
          beta1: a.adam_beta1,
          beta2: a.adam_beta2,
          eps: a.adam_epsilon,
          weightDecay: a.weight_decay,
          maxGradNorm: a.max_grad_norm,
        });
      } catch (e) {
        if (e instanceof NonFiniteGradientError) return this.fail(events, e.message);
        throw e;
      }
      // a GPU fault in this step's work (the update is not read back) stops it before its metrics; the
      // invalid update did not run, so the weights and moments are the last good step's
      await this.gpu.checkpoint().catch((e) => {
        this.opt.step = optStep;
        throw e;
      });
      p.step++;
      // TRL syncs in on_step_end: after the update, before this step's log
      if (a.sync_ref_model && p.step % a.ref_model_sync_steps === 0) this.syncReference();
      p.cursor += micro;
      if (p.cursor >= this.batchesPerEpoch) {
        p.epoch++;
        p.cursor = 0;
        p.order = this.epochOrder();
      }
      p.rngState = this.rng.state;
      if (logNow) {
        const secs = (performance.now() - windowStart) / 1000;
        const metrics: Metrics =
          a.mode === 'sft' ? { loss: -sftWindow.logpSum / Math.max(1, sftWindow.tokens) } : pref ? preferenceMetrics(prefWindow) : dpoMetrics(window, this.cfg.vocabSize);
        if (a.mode === 'dpo' && !(logNow && a.compute_kl && (this.reference || this.loraRef))) delete metrics['kl/token_mean_exact'];
        events.onLog?.({
          ...metrics,
          grad_norm: this.lastGradNorm,
          ...(a.mode === 'dpo' && (!pref || trainerOf(a) === 'kto') ? { num_tokens: p.numTokens ?? 0 } : {}),
          // the rate this step was taken with, as transformers 5's Trainer logs it (not the next step's)
          learning_rate: lr,
          'tokens/s': windowTokens / Math.max(secs, 1e-9),
          epoch: p.epoch + p.cursor / this.batchesPerEpoch,
          step: p.step,
        });
        window = [];
        prefWindow = [];
        sftWindow = { logpSum: 0, tokens: 0 };
        windowTokens = 0;
        windowStart = performance.now();
      }
      if (a.eval_steps > 0 && p.step % a.eval_steps === 0 && this.init.eval?.length) await this.evaluate(events);
    }
    return true;
  }

  /** One CPO / ORPO / KTO micro-step (src/dpo/preference-step.ts) on a collated batch. */
  private async preferenceStep(packed: DpoBatch, pairs: readonly TokenizedPair[], grads: ParamSet | null, gradScale: number): Promise<PreferenceStepResult> {
    const a = this.args;
    const kind = preferenceKind(a);
    const ref = kind !== 'kto' ? null : this.reference ? { model: this.reference } : this.loraRef && this.lora ? { model: this.policy, adapters: this.lora.toggle } : null;
    const batch = uploadPairBatch(this.gpu, packed);
    try {
      return await preferenceMicroStep(this.gpu, this.policy, ref, packed, batch, {
        kind,
        beta: a.beta,
        labelSmoothing: a.label_smoothing,
        cpoAlpha: a.cpo_alpha,
        simpoGamma: a.simpo_gamma,
        desirableWeight: a.desirable_weight,
        undesirableWeight: a.undesirable_weight,
        gradScale,
        labels: kind === 'kto' ? pairs.map((x) => ((x as KtoExample).label ? 1 : 0)) : undefined,
        grads,
      });
    } finally {
      releasePairBatch(this.gpu, batch);
    }
  }

  /** CPO / ORPO / KTO evaluation: TRL's metrics with the eval_ prefix, and one record per pair (KTO: per example). */
  private async evaluatePreference(events: TrainerEvents): Promise<{ metrics: LogRecord; pairs: PairRecord[] }> {
    const pairs = this.init.eval ?? [];
    const results: PreferenceStepResult[] = [];
    const records: PairRecord[] = [];
    const bs = this.args.per_device_eval_batch_size;
    for (let i = 0; i < pairs.length; i += bs) {
      const chunk = pairs.slice(i, i + bs);
      const r = await this.preferenceStep(this.pack(chunk), chunk, null, 1);
      results.push(r);
      const N = chunk.length;
      for (let j = 0; j < N; j++) {
        const rc = r.rewards[j];
        const rr = r.kind === 'kto' ? 0 : r.rewards[N + j];
        records.push({
          index: i + j,
          policyChosen: r.policyLogps[j],
          policyRejected: r.policyLogps[N + j],
          referenceChosen: r.referenceLogps?.[j] ?? 0,
          referenceRejected: r.referenceLogps?.[N + j] ?? 0,
          rewardChosen: rc,
          rewardRejected: rr,
          margin: rc - rr,
          weight: (-(r.dlogp[j] - (r.kind === 'kto' ? 0 : r.dlogp[N + j])) * N) / (2 * this.args.beta),
        });
      }
    }
    const m = results.length ? preferenceMetrics(results) : {};
    const metrics: LogRecord = { step: this.progress.step, epoch: this.progress.epoch };
    for (const [k, v] of Object.entries(m)) metrics[`eval_${k}`] = v;
    events.onEval?.(metrics, records);
    return { metrics, pairs: records };
  }

  private fail(events: TrainerEvents, why: string): boolean {
    this.opt.zeroGrads();
    const msg = `${why}; training stopped at step ${this.progress.step} and the last good weights were kept.`;
    events.onStatus?.(msg);
    throw new NonFiniteGradientError(msg);
  }

  /** Loss and metrics on the held-out pairs (prefix eval_), plus one record per pair. */
  async evaluate(events: TrainerEvents = {}): Promise<{ metrics: LogRecord; pairs: PairRecord[] }> {
    if (trainerOf(this.args) !== 'dpo') return this.evaluatePreference(events);
    const pairs = this.init.eval ?? [];
    const results: MicroStepResult[] = [];
    const records: PairRecord[] = [];
    const bs = this.args.per_device_eval_batch_size;
    for (let i = 0; i < pairs.length; i += bs) {
      const chunk = pairs.slice(i, i + bs);
      const idx = chunk.map((_, j) => i + j);
      const packed = this.pack(chunk);
      const batch = uploadPairBatch(this.gpu, packed);
      const r = await dpoMicroStep(this.gpu, this.policy, this.refSource(idx, this.evalRefLogps, chunk.length), batch, { ...this.lossOpts(null, true), tokenLogps: true });
      releasePairBatch(this.gpu, batch);
      results.push(r);
      const N = chunk.length;
      const weights = gradientWeights(r, this.args.beta);
      for (let j = 0; j < N; j++) {
        const rc = r.rewards[j];
        const rr = r.rewards[N + j];
        records.push({
          index: i + j,
          policyChosen: r.policyLogps[j],
          policyRejected: r.policyLogps[N + j],
          referenceChosen: r.referenceLogps[j],
          referenceRejected: r.referenceLogps[N + j],
          rewardChosen: rc,
          rewardRejected: rr,
          margin: rc - rr,
          weight: weights[j],
          tokens: r.policyTokenLogps && pairTokens(packed, j, r.policyTokenLogps, r.referenceTokenLogps ?? null),
        });
      }
    }
    const m = results.length ? dpoMetrics(results, this.cfg.vocabSize) : {};
    const metrics: LogRecord = { step: this.progress.step, epoch: this.progress.epoch };
    for (const [k, v] of Object.entries(m)) metrics[`eval_${k}`] = v;
    events.onEval?.(metrics, records);
    return { metrics, pairs: records };
  }

  async sample(which: 'policy' | 'reference', promptIds: number[], o: GenerateOptions): Promise<number[]> {
    // with LoRA the base model (adapters off) is always on the GPU, even after precomputing
    if (which === 'reference' && this.lora && this.args.mode === 'dpo' && !this.args.reference_free) {
      return this.lora.withAdaptersOff(() => generate(this.gpu, this.policy, promptIds, o));
    }
    const model = which === 'policy' ? this.policy : this.reference;
    if (!model) throw new TrainerConfigError('The reference model is not on the GPU (reference log-probs were precomputed or the run is reference-free).');
    return generate(this.gpu, model, promptIds, o);
  }

  /** The policy's weights with Hugging Face names (with LoRA: merged, W + scaling * B A, like merge_and_unload). */
  async policyWeights(): Promise<Map<string, Float32Array>> {
    const hf = toHf(this.cfg, await downloadParams(this.gpu, this.params));
    if (!this.lora) return hf;
    return mergeLora(this.cfg, this.lora.config, hf, await this.adapterWeights());
  }

  /** The weights held on the GPU without adapters (with LoRA: the frozen base, which training never changes). */
  async baseWeights(): Promise<Map<string, Float32Array>> {
    return toHf(this.cfg, await downloadParams(this.gpu, this.params));
  }

  /** The LoRA adapters with PEFT's names (adapter_model.safetensors keys); throws without LoRA. */
  async adapterWeights(): Promise<Map<string, Float32Array>> {
    if (!this.lora) throw new TrainerConfigError('This run trains the full model; it has no LoRA adapters.');
    return loraToPeft(this.cfg, this.lora.config, await downloadParams(this.gpu, this.lora.params));
  }

  /** What the optimizer updates: the model's parameters, or the LoRA adapters. */
  private get trainable(): ParamSet {
    return this.lora ? this.lora.params : this.params;
  }

  // ------------------------------------------------------------------ pause / resume

  /** Everything needed to continue exactly where the run stopped: weights, moments, step, RNG, order. */
  async saveState(): Promise<Uint8Array> {
    const tensors: { name: string; shape: number[]; data: Float32Array }[] = [];
    for (const [prefix, set] of [
      ['param', this.trainable],
      ['m', this.opt.m],
      ['v', this.opt.v],
      // TR-DPO's reference drifts with the policy: it is part of the state
      ...(this.args.sync_ref_model && this.reference ? ([['ref', this.reference.params]] as const) : []),
    ] as const) {
      for (const [name, data] of await downloadParams(this.gpu, set)) tensors.push({ name: `${prefix}.${name}`, shape: [data.length], data });
    }
    const meta = {
      progress: this.progress,
      optimizerStep: this.opt.step,
      refLogps: this.refLogps?.map((x) => Array.from(x)) ?? null,
      evalRefLogps: this.evalRefLogps?.map((x) => Array.from(x)) ?? null,
      args: this.args,
    };
    return writeSafetensors(tensors, { trainer_state: JSON.stringify(meta) });
  }

  /** Restores a state saved by saveState into a trainer created with the same data and arguments. */
  async loadState(bytes: Uint8Array): Promise<void> {
    const h = parseSafetensorsHeader(bytes);
    const meta = JSON.parse(h.metadata.trainer_state ?? 'null');
    if (!meta) throw new TrainerConfigError('This file is not a saved training state.');
    for (const [prefix, set] of [
      ['param', this.trainable],
      ['m', this.opt.m],
      ['v', this.opt.v],
      ...(this.args.sync_ref_model && this.reference ? ([['ref', this.reference.params]] as const) : []),
    ] as const) {
      for (const [name, p] of set) {
        const e = h.tensors.get(`${prefix}.${name}`);
        if (!e) throw new TrainerConfigError(`The saved state has no ${prefix}.${name}: it belongs to another model.`);
        const data = readTensor(bytes, e);
        let off = 0;
        for (const c of p.chunks) {
          this.gpu.write(c, data.subarray(off, off + c.size));
          off += c.size;
        }
      }
    }
    this.progress = meta.progress;
    this.rng.state = meta.progress.rngState;
    this.opt.step = meta.optimizerStep;
    if (meta.refLogps) this.refLogps = meta.refLogps.map((x: number[]) => Float32Array.from(x));
    if (meta.evalRefLogps) this.evalRefLogps = meta.evalRefLogps.map((x: number[]) => Float32Array.from(x));
    if (this.refLogps && this.reference) {
      releaseParams(this.gpu, this.reference.params);
      this.reference = null;
    }
    if (this.refLogps) this.loraRef = false;
  }

  release(): void {
    releaseParams(this.gpu, this.params);
    releaseParams(this.gpu, this.grads);
    if (this.reference) releaseParams(this.gpu, this.reference.params);
    this.lora?.release();
    this.opt.release();
  }
}

function countTokens(pairs: TokenizedPair[]): number {
  return pairs.reduce((s, p) => s + 2 * p.promptIds.length + p.chosenIds.length + p.rejectedIds.length, 0);
}
