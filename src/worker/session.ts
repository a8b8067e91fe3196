// What the training worker does, without the messaging: owns the GPU device (and gets a new one after
// a fault), and answers the page's requests with the parts in files named for them: loading the model
// and data (loading.ts), the run loop with pause/stop and GPU faults (run-loop.ts), the run's saved
// state (run-state.ts), the export zip (export.ts). No DOM here, so Node tests drive it directly.
//
// One GPU user at a time: evaluation, sampling and export asked for during training are queued; the
// run loop pauses the trainer between two optimizer steps, runs them, and carries on.
import { TrainerConfigError, type LogRecord, type TrainerArgs } from '../dpo/trainer';
import type { DpoTrainer } from '../dpo/trainer';
import { trainerNeedsReference } from '../dpo/preference-trainer';
import { Gpu } from '../gpu/context';
import { buildExportZip } from './export';
import { Loading } from './loading';
import { estimateMemory, type AdapterLimits } from './memory';
import type { DatasetInfo, DatasetSpec, ExportResult, GpuSummary, MemoryEstimate, ModelInfo, ModelSpec, SampleOptions, SampleResult, SplitSpec, StartOptions, WorkerEvent } from './protocol';
import { RunLoop, type RunResult } from './run-loop';
import { SessionError } from './session-error';
import type { HubModelSpec } from './hub-model';
import type { HubModelPlan } from './hub-plan';

export { SessionError } from './session-error';
export type { LoadedData, LoadedModel } from './loading';

export interface SessionOptions {
  /** How often a training run saves its state in memory (run-state.ts SNAPSHOT_EVERY_MS by default). */
  snapshotEveryMs?: number;
}

export class Session {
  gpu: Gpu | null = null;
  /** The device being made after a fault (null when none is wanted or it is ready). */
  private nextGpu: Promise<Gpu> | null = null;
  private lastLimits: AdapterLimits | null = null;
  readonly inputs: Loading;
  readonly run: RunLoop;

  constructor(
    private readonly emit: (e: WorkerEvent) => void,
    opts: SessionOptions = {},
  ) {
    this.inputs = new Loading({
      emit: (e) => this.emit(e),
      limits: () => this.limits(),
      busy: () => this.run.isRunning,
      modelChanged: () => this.run.forget(),
    });
    this.run = new RunLoop(
      {
        emit: (e) => this.emit(e),
        readyGpu: () => this.readyGpu(),
        currentGpu: () => this.gpu,
        replaceDevice: () => this.replaceDevice(),
        limits: () => this.limits(),
        model: () => this.inputs.needModel(),
        data: () => this.inputs.data,
        tokenize: (maxLength, mode) => this.inputs.tokenize(maxLength, mode),
        estimate: (args) => this.estimate(args),
        seqLen: (args) => this.inputs.seqLen(args),
      },
      { snapshotEveryMs: opts.snapshotEveryMs },
    );
  }

  get model() {
    return this.inputs.model;
  }

  get data() {
    return this.inputs.data;
  }

  get trainer(): DpoTrainer | null {
    return this.run.trainer;
  }

  get history(): LogRecord[] {
    return this.run.history;
  }

  get isRunning(): boolean {
    return this.run.isRunning;
  }

  // ------------------------------------------------------------------ device

  async init(): Promise<GpuSummary> {
    const g = this.gpu && !this.gpu.lost ? this.gpu : await (this.nextGpu ?? this.newDevice());
    return {
      adapterName: g.info.adapterName,
      maxBindingBytes: g.info.limits.maxStorageBufferBindingSize,
      maxBufferBytes: g.info.limits.maxBufferSize,
      features: [...g.info.features],
    };
  }

  private newDevice(): Promise<Gpu> {
    const p = Gpu.create().then(
      (g) => {
        if (this.nextGpu === p) this.nextGpu = null;
        this.gpu = g;
        this.lastLimits = { maxBindingBytes: g.info.limits.maxStorageBufferBindingSize, maxBufferBytes: g.info.limits.maxBufferSize };
        // a device lost while no run is going (the laptop slept during a pause) is said at once
        void g.info.whenLost.then(() => {
          if (this.gpu === g) void this.run.lostWhileIdle(g);
        });
        return g;
      },
      (e) => {
        if (this.nextGpu === p) this.nextGpu = null;
        throw e;
      },
    );
    this.nextGpu = p;
    return p;
  }

  /** The working device; after a fault, the new one (made now if the last try failed). */
  private async readyGpu(): Promise<Gpu> {
    if (this.gpu && !this.gpu.lost) return this.gpu;
    if (this.nextGpu) return this.nextGpu;
    if (!this.gpu && !this.lastLimits) throw new SessionError('The GPU is not ready yet.');
    return this.newDevice();
  }

  /** Drops the device of a faulted run (destroying it frees every buffer at once) and asks for a new one. */
  private replaceDevice(): void {
    const old = this.gpu;
    this.gpu = null;
    if (old && !old.lost) old.device.destroy();
    void this.newDevice().catch(() => undefined); // a failure is said when the device is next needed
  }

  /** The adapter's buffer limits (WebGPU's defaults until the device is up). */
  private limits(): AdapterLimits {
    return this.lastLimits ?? { maxBindingBytes: 2 ** 27, maxBufferBytes: 2 ** 28 };
  }

  // ------------------------------------------------------------------ model and data (loading.ts)

  loadModel(spec: ModelSpec): Promise<ModelInfo> {
    return this.inputs.loadModel(spec);
  }

  /** A Hub model's size, memory estimate and the settings that fit, before any weight is downloaded. */
  planHub(spec: HubModelSpec, args: Partial<TrainerArgs>): Promise<HubModelPlan> {
    return this.inputs.planHub(spec, args);
  }

  loadDataset(spec: DatasetSpec, split: SplitSpec, maxLength: number | null): Promise<DatasetInfo> {
    return this.inputs.loadDataset(spec, split, maxLength);
  }

  estimate(args: TrainerArgs): MemoryEstimate {
    const m = this.inputs.needModel();
    if (!this.gpu && !this.lastLimits) throw new SessionError('The GPU is not ready yet.');
    return estimateMemory(m.ck.config, args, this.inputs.seqLen(args), this.limits());
  }

  // ------------------------------------------------------------------ runs (run-loop.ts)

  /** Starts a new run (optionally from a saved state). Resolves when the run ends or pauses. */
  start(o: StartOptions): Promise<RunResult> {
    return this.run.start(o);
  }

  /** Continues a paused run in this session. */
  resume(): Promise<RunResult> {
    return this.run.resume();
  }

  /** After a GPU fault: a new device, the run rebuilt from its last saved state, and on. */
  continue(): Promise<RunResult> {
    return this.run.continueRun();
  }

  pause(): void {
    this.run.pause();
  }

  stop(): void {
    this.run.stop();
  }

  saveState(): Promise<Uint8Array | null> {
    return this.run.saveState();
  }

  // ------------------------------------------------------------------ using the trained policy

  async evaluate() {
    const t = await this.run.needTrainer('Evaluation');
    const evalPairs = this.inputs.tokenize(t.args.max_length, t.args.truncation_mode).eval;
    if (!evalPairs.length) throw new SessionError('There are no eval pairs: raise the eval fraction of the dataset split.');
    return this.run.exclusive(() => t.evaluate(this.run.evalEvents()), 'the evaluation');
  }

  async sample(prompts: string[], o: SampleOptions): Promise<SampleResult[]> {
    const t = await this.run.needTrainer('Sampling');
    const m = this.inputs.needModel();
    const eos = new Set<number>();
    if (m.tok.eosId !== null) eos.add(m.tok.eosId);
    const ce = m.ck.config.eosTokenId;
    for (const id of Array.isArray(ce) ? ce : ce !== undefined ? [ce] : []) eos.add(id);
    const opts = { ...o, eosTokenIds: [...eos] };
    return this.run.exclusive(async () => {
      const out: SampleResult[] = [];
      for (const prompt of prompts) {
        const ids = m.tok.encode(prompt);
        if (ids.length === 0) throw new SessionError('The prompt is empty after tokenization: type a few words.');
        const policy = m.tok.decode(await t.sample('policy', ids, opts), true);
        let reference: string | null = null;
        let referenceNote: string | undefined;
        let referenceNoteCode: SampleResult['referenceNoteCode'];
        try {
          reference = m.tok.decode(await t.sample('reference', ids, opts), true);
        } catch (e) {
          if (!(e instanceof TrainerConfigError)) throw e;
          referenceNoteCode = trainerNeedsReference(t.args) ? 'precomputed' : 'no-reference';
          referenceNote = trainerNeedsReference(t.args)
            ? 'The reference is not on the GPU in this run (its log-probs were precomputed), so only the policy is sampled.'
            : 'This method (CPO, SimPO or ORPO) holds no reference model, so only the policy is sampled.';
        }
        out.push({ prompt, reference, policy, referenceNote, ...(referenceNoteCode ? { referenceNoteCode } : {}) });
      }
      return out;
    }, 'sampling');
  }

  /** The trained policy, the TRL script and the data, in one zip (src/worker/export.ts). */
  async exportZip(extra: Record<string, string>, language: 'en' | 'ko' = 'en'): Promise<ExportResult> {
    const t = await this.run.needTrainer('Export');
    const m = this.inputs.needModel();
    const d = this.inputs.needData();
    return this.run.exclusive(() => buildExportZip({ trainer: t, model: m, data: d, extra, language }), 'the export');
  }
}
