// The run loop: one run at a time, SFT first when asked, then DPO; metrics to the page in batches.
// - Pause and Stop work in every phase within one step: while training (the trainer stops between two
//   optimizer steps), while starting (between the weight copy, each chunk of the reference precompute,
//   SFT and DPO), and a pause pressed before a trainer exists is kept until the loop looks.
// - GPU users that are not the loop (evaluation, sampling, export, saving the state) queue as jobs and
//   run between two steps.
// - GPU faults (src/gpu/fault.ts) stop the step before its metrics are recorded; the loop keeps the last
//   saved state (run-state.ts), says what happened as a sentence (faults.ts) in a `fault` event, gets a
//   new device, and `continue` rebuilds the trainer from the saved state and trains on.
import { DpoTrainer, defaultTrainerArgs, type LogRecord, type PairRecord, type TrainerArgs } from '../dpo/trainer';
import { trainerOf } from '../dpo/preference-trainer';
import type { TokenizedPair } from '../dpo/tokenize';
import { UnpairedDataError } from '../data/index';
import { GpuFaultError, type Gpu } from '../gpu/context';
import { RunFrontier } from './frontier';
import { adviceSentence, memoryAdvice, runFault } from './faults';
import type { AdapterLimits } from './memory';
import type { MemoryEstimate, RunEnd, StartOptions, WorkerEvent } from './protocol';
import { buildDpoTrainer, buildSftTrainer } from './run-build';
import { RunState } from './run-state';
import type { LoadedData, LoadedModel } from './loading';
import { SessionError } from './session-error';

export interface RunResult {
  end: RunEnd;
  step: number;
  state: Uint8Array | null;
}

/** What the loop needs from the session: the device, the loaded model and data, the estimator. */
export interface RunHost {
  emit(e: WorkerEvent): void;
  /** The working device (after a fault, the new one once it is ready). */
  readyGpu(): Promise<Gpu>;
  /** The device now, working or not (null while a new one is being made). */
  currentGpu(): Gpu | null;
  /** Drops the device of a faulted run (destroying it frees all its buffers at once) and asks for a new one. */
  replaceDevice(): void;
  limits(): AdapterLimits;
  model(): LoadedModel;
  data(): LoadedData | null;
  tokenize(maxLength: number | null, mode: TrainerArgs['truncation_mode']): { train: TokenizedPair[]; eval: TokenizedPair[] };
  estimate(args: TrainerArgs): MemoryEstimate;
  /** The sequence length the estimate uses for these args (the data's longest pair, or max_length). */
  seqLen(args: TrainerArgs): number;
}

interface Job {
  fn: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Metric batches go to the page at most this often (charts update >= 1/s, training is not slowed). */
const FLUSH_MS = 250;

/** Errors our own code raises with a sentence: never a GPU fault in disguise, so no wait for device.lost. */
const OWN_ERRORS = new Set(['SessionError', 'TrainerConfigError', 'DatasetError', 'UnpairedDataError', 'NonFiniteGradientError', 'ModelSourceError', 'CheckpointError', 'LoraConfigError', 'StartInterrupted']);

export class RunLoop {
  sft: DpoTrainer | null = null;
  trainer: DpoTrainer | null = null;
  args: TrainerArgs = defaultTrainerArgs;
  /** The run's saved state, history and starting weights. */
  readonly state: RunState;
  /** The fault that stopped the run, until it continues. */
  fault: GpuFaultError | null = null;
  /** The device the fault happened on (a later error from it is the same fault). */
  private faultGpu: Gpu | null = null;
  private phase: 'sft' | 'dpo' = 'dpo';
  private running: Promise<RunResult> | null = null;
  private jobs: Job[] = [];
  private pauseWanted = false;
  private stopWanted = false;
  private stopped = false;
  /** What the run is doing, for a fault's sentence ("step 7", "the start (copying the weights)"). */
  private activity = 'the start';
  /** The demo's reward-vs-KL probe of the current run. */
  readonly frontier = new RunFrontier((e) => this.emit(e));

  constructor(
    private readonly host: RunHost,
    opts: { snapshotEveryMs?: number } = {},
  ) {
    this.state = new RunState(opts.snapshotEveryMs);
  }

  get isRunning(): boolean {
    return this.running !== null;
  }

  get history(): LogRecord[] {
    return this.state.history;
  }

  private emit(e: WorkerEvent): void {
    this.host.emit(e);
  }

  releaseTrainers(): void {
    this.sft?.release();
    this.trainer?.release();
    this.sft = null;
    this.trainer = null;
    this.host.currentGpu()?.trim();
  }

  /** Forgets the run (a new model was loaded). */
  forget(): void {
    this.releaseTrainers();
    this.state.clear();
    this.fault = null;
    this.frontier.clear();
  }

  // ------------------------------------------------------------------ requests

  /** Starts a new run (optionally from a saved state). Resolves when the run ends or pauses. */
  start(o: StartOptions): Promise<RunResult> {
    if (this.running) return Promise.reject(new SessionError('A run is already going: pause or stop it first.'));
    return this.run(async () => {
      await this.host.readyGpu();
      const m = this.host.model();
      const args = { ...defaultTrainerArgs, ...o.args, mode: 'dpo' as const };
      // TRL's unpaired format is KTO's alone: refused before the run's state begins, not when its trainer is built
      const d = this.host.data();
      if (d?.unpaired && (trainerOf(args) !== 'kto' || o.sftSteps > 0)) throw new UnpairedDataError(o.sftSteps > 0 ? 'sft' : trainerOf(args));
      const est = this.host.estimate(args);
      if (est.refusal) throw new SessionError(est.refusal, est.refusalCode?.code, est.refusalCode?.params);
      if (o.state && o.sftSteps > 0 && !args.precompute_ref_log_probs) {
        throw new SessionError('A run that began with SFT can only continue after a reload when its reference log-probs were precomputed; start it again instead.');
      }
      this.host.tokenize(args.max_length, args.truncation_mode);
      this.releaseTrainers();
      this.args = args;
      this.stopped = false;
      this.fault = null;
      this.frontier.begin(o.frontier ?? null);
      this.state.begin(o, m.ck.tensors);
      this.phase = this.state.snapshot ? 'dpo' : 'sft';
      if (this.phase === 'sft') this.emit({ type: 'status', message: `SFT on the chosen completions for ${o.sftSteps} steps; that model becomes the reference.` });
    });
  }

  /** Continues a paused run in this session (a run stopped by a GPU fault continues as `continue` does). */
  resume(): Promise<RunResult> {
    if (this.running) return Promise.reject(new SessionError('The run is already going.'));
    if (this.fault) return this.continueRun();
    if (this.stopped || !this.state.options) return Promise.reject(new SessionError('There is no paused run to resume: start a new one.'));
    if (this.trainer?.done) return Promise.reject(new SessionError('This run has finished; start a new one to train more.'));
    return this.run();
  }

  /** After a GPU fault: a new device, the trainer rebuilt from the last saved state, and on. */
  continueRun(): Promise<RunResult> {
    if (this.running) return Promise.reject(new SessionError('The run is already going.'));
    if (!this.fault) {
      if (this.state.options && !this.stopped && !this.trainer?.done) return this.resume();
      return Promise.reject(new SessionError('There is no run stopped by a GPU fault to continue: start a new one.'));
    }
    return this.run(async () => {
      await this.host.readyGpu();
      this.phase = this.state.snapshot ? 'dpo' : 'sft';
      this.emit({ type: 'status', message: `Continuing from step ${this.state.savedStep ?? 0} on ${this.trainer ? 'the GPU' : 'a new GPU device'}.` });
    });
  }

  pause(): void {
    if (!this.running) return;
    this.pauseWanted = true;
    this.activeTrainer()?.requestPause();
  }

  stop(): void {
    if (!this.running) {
      this.stopped = true;
      this.fault = null;
      return;
    }
    this.stopWanted = true;
    this.activeTrainer()?.requestPause();
  }

  /** Runs `fn` with the GPU to itself: directly when idle, between two steps when training. */
  exclusive<T>(fn: () => Promise<T>, what: string): Promise<T> {
    if (!this.running) {
      return fn().catch(async (e) => {
        throw await this.failed(e, what);
      });
    }
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.activeTrainer()?.requestPause();
    });
  }

  /** The DPO trainer for evaluation, sampling and export; after a fault, rebuilt from the saved state. */
  async needTrainer(what: string): Promise<DpoTrainer> {
    if (!this.trainer && !this.running && this.phase === 'dpo' && this.state.snapshot) {
      try {
        await this.buildDpo(await this.host.readyGpu(), false);
      } catch (e) {
        throw await this.failed(e, 'the rebuild of the saved run');
      }
    }
    if (!this.trainer) throw new SessionError('needs-run', undefined, { what });
    return this.trainer;
  }

  /** The saved state of the run (weights, moments, step, RNG), also kept here to continue after a fault. */
  async saveState(): Promise<Uint8Array | null> {
    const t = this.trainer;
    if (!t) return this.state.snapshot?.state?.slice() ?? null;
    return this.exclusive(async () => (await this.snapshot(t)).slice(), 'saving the state');
  }

  /** The device was lost while no run was going: the page hears of it now, not at its next request. */
  async lostWhileIdle(gpu: Gpu): Promise<void> {
    if (this.running) return;
    const f = await gpu.faultOf(new Error('device lost'));
    if (f instanceof GpuFaultError && this.state.options && !this.stopped && !this.trainer?.done) {
      await this.failed(f, 'the pause');
      return;
    }
    // a finished or stopped run: nothing to continue, but export and sampling rebuild it from its saved state
    this.sft = null;
    this.trainer = null;
    this.host.replaceDevice();
  }

  // ------------------------------------------------------------------ the loop

  private activeTrainer(): DpoTrainer | null {
    return this.phase === 'sft' ? this.sft : this.trainer;
  }

  private run(prepare?: () => Promise<void>): Promise<RunResult> {
    // set before any await, so a pause or stop that arrives while starting is kept
    this.pauseWanted = false;
    this.stopWanted = false;
    const p = (async () => {
      try {
        await prepare?.();
        return await this.loop();
      } catch (e) {
        throw await this.failed(e, this.activity);
      }
    })().finally(() => {
      this.running = null;
      // jobs queued after the loop's last check run now, outside training
      const left = this.jobs.splice(0);
      for (const j of left) {
        // after a fault the queued jobs' trainer is gone with its device: they get the fault's sentence
        if (this.fault && !this.trainer) j.reject(this.fault);
        else this.exclusive(j.fn, 'a queued request').then(j.resolve, j.reject);
      }
    });
    this.running = p;
    return p;
  }

  private async loop(): Promise<RunResult> {
    let pending: LogRecord[] = [];
    let lastFlush = 0;
    const t0 = performance.now();
    const flush = () => {
      if (pending.length) this.emit({ type: 'logs', records: pending });
      pending = [];
      lastFlush = performance.now();
    };
    const progress = (phase: 'sft' | 'dpo', t: DpoTrainer, tps: number) =>
      this.emit({ type: 'progress', phase, step: t.step, totalSteps: t.totalSteps, tokensPerSec: tps, elapsedSec: (performance.now() - t0) / 1000 });
    for (;;) {
      if (this.stopWanted) return this.endStopped();
      if (this.pauseWanted) return this.endPaused();
      if (this.phase === 'sft' && !this.sft) {
        await this.buildSft(await this.host.readyGpu());
        continue; // look at pause/stop again before the first step
      }
      if (this.phase === 'dpo' && !this.trainer) {
        await this.buildDpo(await this.host.readyGpu(), true);
        continue;
      }
      const t = this.activeTrainer()!;
      // the reference's point of the frontier (step 0: policy == reference, KL 0)
      if (this.phase === 'dpo' && t.step === 0) await this.frontier.measure(this.trainer);
      // no await between this check and train(), which clears the trainer's own pause flag
      if (this.stopWanted || this.pauseWanted) continue;
      this.activity = this.phase === 'sft' ? `SFT step ${t.step + 1}` : `step ${t.step + 1}`;
      let finished: boolean;
      try {
        finished = await t.train({
          onLog: (r) => {
            this.activity = this.phase === 'sft' ? `SFT step ${r.step + 1}` : `step ${r.step + 1}`;
            if (this.phase === 'sft') {
              this.emit({ type: 'status', message: `SFT step ${r.step}/${t.totalSteps}: loss ${r.loss.toFixed(4)}` });
              progress('sft', t, r['tokens/s'] ?? 0);
              return;
            }
            this.state.history.push(r);
            pending.push(r);
            if (this.frontier.dueAt(r.step) && r.step < t.totalSteps) {
              // measured between two steps, like any other job (the last step is measured after the final eval)
              this.jobs.push({ fn: () => this.frontier.measure(this.trainer), resolve: () => undefined, reject: () => undefined });
              t.requestPause();
            }
            if (this.state.due() && r.step < t.totalSteps) {
              this.jobs.push({ fn: () => this.snapshot(t), resolve: () => undefined, reject: () => undefined });
              t.requestPause();
            }
            if (performance.now() - lastFlush >= FLUSH_MS) flush();
            progress('dpo', t, r['tokens/s'] ?? 0);
          },
          onEval: (metrics, pairs) => {
            flush();
            this.emit({ type: 'eval', metrics, pairs });
          },
          onStatus: (message) => this.emit({ type: 'status', message }),
        });
      } finally {
        // the good steps' records reach the page even when the next step fails (it drops any after the saved step)
        flush();
      }
      if (finished && this.phase === 'sft') {
        this.activity = 'the end of SFT';
        const w = await this.sft!.policyWeights();
        this.sft!.release();
        this.sft = null;
        this.state.sftDone(w);
        this.phase = 'dpo';
        this.emit({ type: 'status', message: 'SFT done; DPO starts from the SFT model, which is also the reference.' });
        continue;
      }
      if (finished) {
        const tr = this.trainer!;
        this.activity = 'the final evaluation';
        if (tr.args.eval_steps > 0 || (this.host.data()?.eval.length ?? 0) > 0) {
          // a last evaluation at the final step (unless the trainer just made one)
          const ev = tr.args.eval_steps;
          const evalPairs = this.host.tokenize(this.args.max_length, this.args.truncation_mode).eval;
          if (!(ev > 0 && tr.step % ev === 0) && evalPairs.length) await tr.evaluate(this.evalEvents());
        }
        await this.frontier.measure(tr);
        this.stopped = false;
        return { end: 'finished', step: tr.step, state: (await this.snapshot(tr)).slice() };
      }
      // paused: run queued jobs, then go on unless the user paused or stopped
      while (this.jobs.length) {
        const j = this.jobs.shift()!;
        await j.fn().then(j.resolve, j.reject);
      }
    }
  }

  private async endPaused(): Promise<RunResult> {
    if (this.phase === 'sft') return { end: 'paused', step: this.sft?.step ?? 0, state: null };
    const t = this.trainer;
    if (!t) return { end: 'paused', step: this.state.savedStep ?? 0, state: this.state.snapshot?.state?.slice() ?? null };
    return { end: 'paused', step: t.step, state: (await this.snapshot(t)).slice() };
  }

  private async endStopped(): Promise<RunResult> {
    this.stopped = true;
    const t = this.phase === 'dpo' ? this.trainer : null;
    if (!t) return { end: 'stopped', step: this.phase === 'sft' ? (this.sft?.step ?? 0) : (this.state.savedStep ?? 0), state: this.state.snapshot?.state?.slice() ?? null };
    return { end: 'stopped', step: t.step, state: (await this.snapshot(t)).slice() };
  }

  /** Saves the trainer's state in memory (and returns it; the caller copies what it hands out). */
  private async snapshot(t: DpoTrainer): Promise<Uint8Array> {
    const bytes = await t.saveState();
    this.state.record(t.step, bytes);
    return bytes;
  }

  private async buildSft(gpu: Gpu): Promise<void> {
    this.activity = 'the start (copying the weights to the GPU)';
    this.sft = await buildSftTrainer(gpu, this.host, this.args, this.state.options!.sftSteps);
    this.fault = null;
  }

  /** The DPO trainer from the saved state; stays null when a pause or stop interrupted its start. */
  private async buildDpo(gpu: Gpu, interruptible: boolean): Promise<void> {
    const precompute = this.args.precompute_ref_log_probs && !this.args.reference_free;
    this.activity = precompute ? 'the start (computing the reference log-probs)' : 'the start (copying the weights to the GPU)';
    const t = await buildDpoTrainer(gpu, this.host, this.state, this.args, interruptible ? () => this.pauseWanted || this.stopWanted : undefined);
    if (!t) return;
    this.trainer = t;
    this.fault = null;
    this.frontier.attach(this.host.model(), this.state.dpoStart!);
  }

  evalEvents() {
    return { onEval: (metrics: LogRecord, pairs: PairRecord[]) => this.emit({ type: 'eval', metrics, pairs }) };
  }

  // ------------------------------------------------------------------ faults

  /**
   * Turns an error into what the page gets: a GPU fault becomes the run's sentence, the `fault` event
   * (with the step the run can continue from) and a new device; any other error is returned as it is.
   */
  private async failed(e: unknown, where: string): Promise<unknown> {
    const gpu = this.host.currentGpu();
    const name = e instanceof Error ? e.name : '';
    const f = e instanceof GpuFaultError ? e : gpu && !OWN_ERRORS.has(name) && !(e instanceof RangeError) ? await gpu.faultOf(e) : e;
    if (!(f instanceof GpuFaultError)) return f;
    // already said: the same fault seen again by a request that was under way on the faulted device
    if (this.fault && (gpu === null || gpu === this.faultGpu)) return this.fault;
    // out-of-memory and validation errors leave the GPU's weights as the last good step left them (the
    // failed step's update never ran): keep them as the saved state while the device still answers
    const t = this.phase === 'dpo' ? this.trainer : null;
    if (t && gpu && !gpu.lost && (f.kind === 'out-of-memory' || f.kind === 'validation')) {
      try {
        await this.snapshot(t);
      } catch {
        // the saved state stays the last one taken
      }
    }
    this.state.rewind();
    let memory: string | undefined;
    if (f.kind === 'out-of-memory') {
      try {
        memory = adviceSentence(memoryAdvice(this.host.model().ck.config, this.args, this.host.seqLen(this.args), this.host.limits(), f.allocatedBytes));
      } catch {
        // without a model there is nothing to estimate
      }
    }
    const savedStep = this.state.options ? this.state.savedStep : null;
    this.fault = runFault(f, { where, savedStep, memory });
    this.faultGpu = gpu;
    // the trainers' buffers go with the old device
    this.sft = null;
    this.trainer = null;
    this.host.replaceDevice();
    this.emit({ type: 'fault', kind: f.kind, message: this.fault.message, savedStep, params: (this.fault as { params?: Record<string, string | number> }).params });
    return this.fault;
  }
}
