// The DPO trainer: TRL's DPOTrainer options and metric names, Hugging Face Trainer's step semantics
// (gradient accumulation, warmup + schedule, clipping, AdamW without decay on biases and norms),
// on the WebGPU engine. The loop reads top to bottom: batches -> micro-steps -> optimizer step -> logs.
import type { Gpu } from '../gpu/context';
import type { ModelConfig } from '../model/config';
import { initLoraWeights, LoraAdapters, loraToPeft, mergeLora } from '../model/lora';
import { createParams, downloadParams, fromHf, releaseParams, toHf, type ParamSet } from '../model/params';
import { Transformer } from '../model/transformer';
import { Rng } from '../data/split';
import { UnpairedDataError } from '../data/unpaired';
import { generate, type GenerateOptions } from './generate';
import { packSftSequences, releasePairBatch, uploadPairBatch } from './gpu-batch';
import { isUnpaired, ktoExamples, type KtoSource } from './kto-data';
import { trainerLossOptions } from './loss-args';
import { dpoMetrics, type Metrics } from './metrics';
import { AdamW, NonFiniteGradientError } from './optimizer';
import { preferenceMetrics } from './preference-metrics';
import type { PreferenceStepResult } from './preference-step';
import { trainerNeedsReference, trainerOf } from './preference-trainer';
import { lrLambda, warmupSteps } from './schedule';
import { dpoMicroStep, sftMicroStep, type MicroStepResult, type ReferenceSource } from './step';
import { collate, type DpoBatch, type TokenizedPair } from './tokenize';
import { defaultTrainerArgs, TrainerConfigError, validateArgs, type TrainerArgs } from './trainer-args';
import { evaluateDpo, evaluatePreference, type EvalHost, type Evaluation } from './trainer-eval';
import { preferenceStep } from './trainer-preference';
import { referenceLogps, syncReference } from './trainer-reference';
import { readStateTensors, stateMeta, writeState, type StateSets } from './trainer-state';
import type { Progress, TrainerEvents, TrainerInit } from './trainer-types';

// The trainer's options and records live beside it (one concern per file); importers keep using this module.
export { defaultTrainerArgs, StartInterrupted, TrainerConfigError, validateArgs, type TrainerArgs } from './trainer-args';
export type { LogRecord, PairRecord, TrainerEvents, TrainerInit } from './trainer-types';
export type { Evaluation } from './trainer-eval';

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
    if (init.train.length === 0) throw new TrainerConfigError('The training split is empty: load a dataset with at least one valid pair.', 'trainer.empty-train');
    this.cfg = init.config;
    this.params = createParams(gpu, this.cfg, fromHf(this.cfg, init.policy));
    this.policy = new Transformer(gpu, this.cfg, this.params);
    this.policy.gradientCheckpointing = this.args.gradient_checkpointing;
    const needsRef = this.args.mode === 'dpo' && trainerNeedsReference(this.args);
    const a = this.args;
    if (a.lora) {
      if (init.reference) throw new TrainerConfigError('With LoRA the reference is the loaded model with its adapters off; a separate reference model cannot be given (TRL refuses both too).', 'trainer.lora-reference');
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
        ? { ...init, train: ktoExamples(init.train, a0.per_device_train_batch_size, a0.shuffle ? a0.seed : undefined), eval: init.eval && ktoExamples(init.eval, a0.per_device_eval_batch_size) }
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

  /** A KTO run's training examples in the order it trains them (null for the other trainers): the export's train file. */
  get ktoOrder(): KtoSource[] | null {
    if (!(trainerOf(this.args) === 'kto' && this.args.mode === 'dpo')) return null;
    return this.init.train.map((e) => ({ row: e.row!, label: e.label! }));
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
    // KTO keeps dataset order (TRL's train_sampling_strategy "sequential"): its KL completions are paired within
    // batches; `shuffle` shuffled its examples once instead (ktoExamples)
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
    const host = { pack: (p: readonly TokenizedPair[]) => this.pack(p), lossOpts: () => this.lossOpts(null), interrupted: this.init.interrupted };
    const run = async (pairs: TokenizedPair[], bs: number) => {
      if (!this.reference && this.lora) return this.lora.withAdaptersOff(() => referenceLogps(this.gpu, ref, pairs, bs, host));
      return referenceLogps(this.gpu, ref, pairs, bs, host);
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

  /** TR-DPO (TRL's SyncRefModelCallback): reference = alpha * policy + (1 - alpha) * reference. */
  private syncReference(): void {
    if (this.reference) syncReference(this.gpu, this.params, this.reference.params, this.args.ref_model_mixup_alpha);
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

  /** One CPO / ORPO / KTO micro-step (src/dpo/trainer-preference.ts) on a collated batch. */
  private preferenceStep(packed: DpoBatch, pairs: readonly TokenizedPair[], grads: ParamSet | null, gradScale: number): Promise<PreferenceStepResult> {
    const models = { policy: this.policy, reference: this.reference, lora: this.lora, loraRef: this.loraRef };
    return preferenceStep(this.gpu, models, this.args, packed, pairs, grads, gradScale);
  }

  private fail(events: TrainerEvents, why: string): boolean {
    this.opt.zeroGrads();
    const msg = `${why}; training stopped at step ${this.progress.step} and the last good weights were kept.`;
    events.onStatus?.(msg);
    throw new NonFiniteGradientError(msg);
  }

  /** Loss and metrics on the held-out pairs (prefix eval_), plus one record per pair (src/dpo/trainer-eval.ts). */
  evaluate(events: TrainerEvents = {}): Promise<Evaluation> {
    const host: EvalHost = {
      gpu: this.gpu,
      args: this.args,
      vocabSize: this.cfg.vocabSize,
      policy: this.policy,
      pairs: this.init.eval ?? [],
      step: this.progress.step,
      epoch: this.progress.epoch,
      pack: (p) => this.pack(p),
      refSource: (idx, N) => this.refSource(idx, this.evalRefLogps, N),
      lossOpts: () => this.lossOpts(null, true),
      preferenceStep: (packed, chunk) => this.preferenceStep(packed, chunk, null, 1),
    };
    return trainerOf(this.args) !== 'dpo' ? evaluatePreference(host, events) : evaluateDpo(host, events);
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

  /** The state's tensor sets: the trainable weights, AdamW's moments, and TR-DPO's reference (it drifts with the policy). */
  private get stateSets(): StateSets {
    return [
      ['param', this.trainable],
      ['m', this.opt.m],
      ['v', this.opt.v],
      ...(this.args.sync_ref_model && this.reference ? ([['ref', this.reference.params]] as const) : []),
    ];
  }

  /** Everything needed to continue exactly where the run stopped: weights, moments, step, RNG, order (src/dpo/trainer-state.ts). */
  async saveState(): Promise<Uint8Array> {
    const meta = {
      progress: this.progress,
      optimizerStep: this.opt.step,
      refLogps: this.refLogps?.map((x) => Array.from(x)) ?? null,
      evalRefLogps: this.evalRefLogps?.map((x) => Array.from(x)) ?? null,
      args: this.args,
    };
    return writeState(this.gpu, this.stateSets, meta);
  }

  /** Restores a state saved by saveState into a trainer created with the same data and arguments. */
  async loadState(bytes: Uint8Array): Promise<void> {
    const meta = stateMeta<{ progress: Progress; optimizerStep: number; refLogps: number[][] | null; evalRefLogps: number[][] | null }>(bytes);
    readStateTensors(this.gpu, bytes, this.stateSets);
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
