// What the training worker does, without the messaging: owns the GPU device, the loaded model,
// tokenizer and dataset, and the trainer. No DOM here, so Node tests drive it directly.
//
// One GPU user at a time: evaluation, sampling and export asked for during training are queued; the
// run loop pauses the trainer between two optimizer steps, runs them, and carries on.
import { loadPreferenceDataset, splitTrainEval, DatasetError, type PreferencePair } from '../data/index';
import { DpoTrainer, defaultTrainerArgs, TrainerConfigError, type LogRecord, type TrainerArgs } from '../dpo/trainer';
import { tokenizeDataset, type TokenizedPair } from '../dpo/tokenize';
import { datasetLengths } from '../dpo/diagnosis';
import { pieceTable } from '../dpo/token-moves';
import { Gpu } from '../gpu/context';
import { countParameters } from '../model/config';
import { loadTokenizer, type LoadedTokenizer } from '../model/tokenizer';
import { loadCheckpoint, type LoadedCheckpoint } from '../model/weights';
import { buildExportZip } from './export';
import { estimateMemory } from './memory';
import { FrontierProbes, toMeasurement } from './frontier';
import type { FrontierProbe } from '../demo/frontier';
import type {
  DatasetInfo,
  DatasetSpec,
  ExportResult,
  GpuSummary,
  MemoryEstimate,
  ModelInfo,
  ModelSpec,
  PreviewRow,
  RunEnd,
  SampleOptions,
  SampleResult,
  SplitSpec,
  StartOptions,
  FrontierSpec,
  WorkerEvent,
} from './protocol';
import { filesSource, recording, urlSource, ModelSourceError, type DownloadProgress } from './sources';
import { hubRef, openHubModel, planHub, type HubModelSpec } from './hub-model';
import { loadHubDataset } from './hub-dataset';
import type { AdapterLimits } from './memory';
import type { HubModelPlan } from './hub-plan';

/** A request the user cannot make right now (no model yet, run already going...). */
export class SessionError extends Error {
  override name = 'SessionError';
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'generation_config.json'];

/** Metric batches go to the page at most this often (charts update >= 1/s, training is not slowed). */
const FLUSH_MS = 250;

export interface LoadedModel {
  info: ModelInfo;
  ck: LoadedCheckpoint;
  tok: LoadedTokenizer;
  /** Tokenizer and config files passed through to the export. */
  extra: Map<string, Uint8Array>;
  /** What the TRL script starts from: a Hub repo id, or './base-model' (the export zip writes that folder). */
  trlModel: string;
  /** The Hub revision of trlModel (Hub models only). */
  revision?: string;
}

export interface LoadedData {
  info: DatasetInfo;
  train: PreferencePair[];
  eval: PreferencePair[];
}

interface Job {
  fn: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

const text = (b: Uint8Array | null): string | undefined => (b ? new TextDecoder().decode(b) : undefined);

function pairText(p: PreferencePair): PreviewRow {
  if (p.kind === 'standard') return { row: p.row, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected };
  const fmt = (ms: { role: string; content: string }[]) => ms.map((m) => `${m.role}: ${m.content}`).join('\n');
  return { row: p.row, prompt: fmt(p.prompt), chosen: fmt(p.chosen), rejected: fmt(p.rejected) };
}

export class Session {
  gpu: Gpu | null = null;
  model: LoadedModel | null = null;
  data: LoadedData | null = null;
  private tokenized: { key: string; train: TokenizedPair[]; eval: TokenizedPair[] } | null = null;
  private sft: DpoTrainer | null = null;
  trainer: DpoTrainer | null = null;
  private phase: 'sft' | 'dpo' = 'dpo';
  private args: TrainerArgs = defaultTrainerArgs;
  private running: Promise<unknown> | null = null;
  /** Set while a new run's trainer is being built (before `running`), so a second start is refused. */
  private starting = false;
  private jobs: Job[] = [];
  private pauseWanted = false;
  private stopWanted = false;
  private stopped = false;
  history: LogRecord[] = [];
  /** The demo's reward-vs-KL probe of the current run (null when the run did not ask for it). */
  private frontier: { probe: FrontierProbe; spec: FrontierSpec; lastStep: number } | null = null;
  private frontierSpec: FrontierSpec | null = null;
  private readonly probes = new FrontierProbes();

  constructor(private readonly emit: (e: WorkerEvent) => void) {}

  // ------------------------------------------------------------------ device

  async init(): Promise<GpuSummary> {
    this.gpu ??= await Gpu.create();
    const g = this.gpu;
    return {
      adapterName: g.info.adapterName,
      maxBindingBytes: g.info.limits.maxStorageBufferBindingSize,
      maxBufferBytes: g.info.limits.maxBufferSize,
      features: [...g.info.features],
    };
  }

  private needGpu(): Gpu {
    if (!this.gpu) throw new SessionError('The GPU is not ready yet.');
    this.gpu.checkAlive();
    return this.gpu;
  }

  private needModel(): LoadedModel {
    if (!this.model) throw new SessionError('Load a model first.');
    return this.model;
  }

  private needData(): LoadedData {
    if (!this.data) throw new SessionError('Load a dataset first.');
    return this.data;
  }

  // ------------------------------------------------------------------ model and data

  async loadModel(spec: ModelSpec): Promise<ModelInfo> {
    if (this.running || this.starting) throw new SessionError('Stop the current run before loading another model.');
    const progress: DownloadProgress = (file, loaded, total) => this.emit({ type: 'download', what: 'model', file, loaded, total });
    let base;
    let label: string;
    let trlModel: string;
    let revision: string | undefined;
    if (spec.kind === 'url') {
      base = urlSource(spec.baseUrl, progress);
      label = spec.label;
      trlModel = './base-model';
    } else if (spec.kind === 'hub') {
      base = await openHubModel(spec, this.limits(), this.emit); // plans and refuses before any weight is fetched
      label = spec.repo.trim();
      trlModel = spec.repo.trim();
      revision = spec.revision?.trim() || 'main';
    } else {
      if (spec.files.length === 0) throw new ModelSourceError('No files were picked: choose config.json, model.safetensors and tokenizer.json (or their folder).');
      base = (await filesSource(spec.files)).source;
      const dir = spec.files[0].webkitRelativePath?.split('/')[0];
      label = dir || 'files from disk';
      trlModel = './base-model';
    }
    const rec = recording(base);
    if (spec.kind === 'hub' && !(await rec.source('config.json'))) {
      throw new ModelSourceError(`${spec.hubUrl.replace(/\/$/, '')} has no config.json for '${label}': check the repo id (owner/name) and the Hub address.`);
    }
    const ck = await loadCheckpoint(rec.source);
    const tokJson = text(await rec.source('tokenizer.json'));
    if (!tokJson) throw new ModelSourceError(`${label} has no tokenizer.json; the page needs the fast-tokenizer file (save it with tokenizer.save_pretrained).`);
    const extra = new Map<string, Uint8Array>();
    extra.set('tokenizer.json', new TextEncoder().encode(tokJson));
    for (const f of TOKENIZER_FILES.slice(1)) {
      const b = await rec.source(f);
      if (b) extra.set(f, b);
    }
    const tok = loadTokenizer({
      tokenizerJson: tokJson,
      tokenizerConfig: text(extra.get('tokenizer_config.json') ?? null),
      chatTemplate: text(extra.get('chat_template.jinja') ?? null),
    });
    if (tok.vocabSize > ck.config.vocabSize) {
      throw new ModelSourceError(`The tokenizer has ${tok.vocabSize} tokens but the model only ${ck.config.vocabSize} embeddings: they do not belong together.`);
    }
    const c = ck.config;
    const info: ModelInfo = {
      label,
      modelType: c.modelType,
      arch: c.arch,
      layers: c.layers,
      hidden: c.hidden,
      heads: c.heads,
      kvHeads: c.kvHeads,
      vocabSize: c.vocabSize,
      maxPositions: c.maxPositions,
      parameters: countParameters(c),
      dtype: ck.dtype,
      hasChatTemplate: tok.chatTemplate !== null,
      files: [...rec.read].map(([name, bytes]) => ({ name, bytes })),
    };
    this.releaseTrainers();
    this.probes.clear();
    this.model = { info, ck, tok, extra, trlModel, revision };
    this.tokenized = null;
    return info;
  }

  /** The adapter's buffer limits (WebGPU's defaults until the device is up). */
  private limits(): AdapterLimits {
    const l = this.gpu?.info.limits;
    return { maxBindingBytes: l?.maxStorageBufferBindingSize ?? 2 ** 27, maxBufferBytes: l?.maxBufferSize ?? 2 ** 28 };
  }

  /** A Hub model's size, memory estimate and the settings that fit, before any weight is downloaded. */
  planHub(spec: HubModelSpec, args: Partial<TrainerArgs>): Promise<HubModelPlan> {
    return planHub(spec, args, this.limits());
  }

  async loadDataset(spec: DatasetSpec, split: SplitSpec, maxLength: number | null): Promise<DatasetInfo> {
    if (this.running || this.starting) throw new SessionError('Stop the current run before loading another dataset.');
    const onProgress = (what: string) => (p: { bytesRead: number; totalBytes?: number }) =>
      this.emit({ type: 'download', what: 'dataset', file: what, loaded: p.bytesRead, total: p.totalBytes ?? null });
    let label: string;
    let train: PreferencePair[];
    let evalPairs: PreferencePair[];
    let ds;
    if (spec.kind === 'url') {
      label = spec.label;
      ds = await loadPreferenceDataset(await fetchBytes(spec.url), { fileName: spec.url, onProgress: onProgress(spec.url) });
      if (spec.evalUrl) {
        const ev = await loadPreferenceDataset(await fetchBytes(spec.evalUrl), { fileName: spec.evalUrl });
        train = ds.pairs;
        evalPairs = ev.pairs.slice(0, split.maxEval);
      } else {
        ({ train, eval: evalPairs } = this.split(ds.pairs, split));
      }
    } else if (spec.kind === 'hub') {
      label = `${spec.repo.trim()} (${spec.config}/${spec.split})`;
      ds = await loadHubDataset({ ...hubRef(spec, 'dataset'), config: spec.config, split: spec.split }, (p) =>
        this.emit({ type: 'download', what: 'dataset', file: p.file, loaded: p.loaded, total: p.total, fileIndex: p.fileIndex, fileCount: p.fileCount }),
      );
      ({ train, eval: evalPairs } = this.split(ds.pairs, split));
    } else {
      const name = spec.kind === 'file' ? spec.file.name : spec.name;
      label = name;
      const src = spec.kind === 'file' ? spec.file : spec.bytes;
      ds = await loadPreferenceDataset(src, { fileName: name, onProgress: onProgress(name) });
      ({ train, eval: evalPairs } = this.split(ds.pairs, split));
    }
    if (train.length === 0) throw new DatasetError(`The file has ${ds.pairs.length} usable pair(s), none left for training after the eval split: lower the eval fraction.`);
    const info: DatasetInfo = {
      label,
      format: ds.format,
      report: ds.report,
      preview: ds.pairs.slice(0, 50).map(pairText),
      trainPairs: train.length,
      evalPairs: evalPairs.length,
      maxTokens: 0,
      meanTokens: 0,
      tooLong: 0,
      evalRows: [],
    };
    this.data = { info, train, eval: evalPairs };
    this.tokenized = null;
    if (this.model) this.tokenize(maxLength, 'keep_start');
    return this.data.info;
  }

  private split(pairs: PreferencePair[], s: SplitSpec): { train: PreferencePair[]; eval: PreferencePair[] } {
    if (!(s.evalFraction >= 0 && s.evalFraction < 1)) throw new DatasetError(`The eval fraction must be at least 0 and below 1 (got ${s.evalFraction}).`);
    const r = splitTrainEval(pairs, { evalFraction: s.evalFraction, seed: s.seed });
    return { train: r.train, eval: r.eval.slice(0, s.maxEval) };
  }

  /** Tokenizes the split as TRL does (cached per max_length / truncation mode). */
  private tokenize(maxLength: number | null, mode: TrainerArgs['truncation_mode']): { train: TokenizedPair[]; eval: TokenizedPair[] } {
    const m = this.needModel();
    const d = this.needData();
    const key = `${maxLength}|${mode}`;
    if (this.tokenized?.key === key) return this.tokenized;
    const opts = { maxLength, truncationMode: mode };
    const tr = tokenizeDataset(m.tok, d.train, opts);
    const ev = tokenizeDataset(m.tok, d.eval, opts);
    if (tr.examples.length === 0) {
      throw new DatasetError(`Every training pair has a prompt of max_length (${maxLength}) tokens or more, so nothing is left to train on: raise max_length.`);
    }
    let max = 0;
    let sum = 0;
    for (const p of tr.examples) {
      const n = p.promptIds.length + Math.max(p.chosenIds.length, p.rejectedIds.length);
      max = Math.max(max, n);
      sum += n;
    }
    const byRow = new Map(d.eval.map((p) => [p.row, p]));
    const evalRows = ev.examples.map((e) => byRow.get(e.row!)).filter((p): p is PreferencePair => p !== undefined).map(pairText);
    d.info = { ...d.info, evalRows, maxTokens: max, meanTokens: sum / tr.examples.length, tooLong: tr.skipped.length + ev.skipped.length, trainPairs: tr.examples.length, evalPairs: ev.examples.length };
    // the page's explainer: token texts of the eval completions, token lengths for the dataset diagnosis
    d.info.tokenPieces = pieceTable((ids) => m.tok.decode(ids), ev.examples.flatMap((e) => [e.chosenIds, e.rejectedIds]));
    d.info.lengths = datasetLengths(tr.examples);
    this.tokenized = { key, train: tr.examples, eval: ev.examples };
    return this.tokenized;
  }

  estimate(args: TrainerArgs): MemoryEstimate {
    const m = this.needModel();
    const g = this.needGpu();
    const seq = this.data && this.tokenized ? this.data.info.maxTokens : (args.max_length ?? m.ck.config.maxPositions);
    return estimateMemory(m.ck.config, args, seq, { maxBindingBytes: g.maxBindingBytes, maxBufferBytes: g.info.limits.maxBufferSize });
  }

  // ------------------------------------------------------------------ training

  get isRunning(): boolean {
    return this.running !== null;
  }

  private releaseTrainers(): void {
    this.sft?.release();
    this.trainer?.release();
    this.sft = null;
    this.trainer = null;
    this.gpu?.trim();
  }

  /** Starts a new run (optionally from a saved state). Resolves when the run ends or pauses. */
  async start(o: StartOptions): Promise<{ end: RunEnd; step: number; state: Uint8Array | null }> {
    if (this.running || this.starting) throw new SessionError('A run is already going: pause or stop it first.');
    this.starting = true;
    try {
      await this.prepare(o);
    } finally {
      this.starting = false;
    }
    return this.runLoop();
  }

  /** Builds the trainer(s) of a new run (SFT first when asked, or DPO from a saved state). */
  private async prepare(o: StartOptions): Promise<void> {
    const gpu = this.needGpu();
    const m = this.needModel();
    const args = { ...defaultTrainerArgs, ...o.args, mode: 'dpo' as const };
    const est = this.estimate(args);
    if (est.refusal) throw new SessionError(est.refusal);
    if (o.state && o.sftSteps > 0 && !args.precompute_ref_log_probs) {
      throw new SessionError('A run that began with SFT can only continue after a reload when its reference log-probs were precomputed; start it again instead.');
    }
    const { train, eval: evalSet } = this.tokenize(args.max_length, args.truncation_mode);
    this.releaseTrainers();
    this.args = args;
    this.history = [];
    this.stopped = false;
    this.frontier = null;
    this.frontierSpec = o.frontier ?? null;
    const common = { config: m.ck.config, train, eval: evalSet, padId: m.tok.padId };
    if (o.sftSteps > 0 && !o.state) {
      this.emit({ type: 'status', message: `SFT on the chosen completions for ${o.sftSteps} steps; that model becomes the reference.` });
      this.sft = await DpoTrainer.create(gpu, { ...common, policy: m.ck.tensors, args: { ...args, mode: 'sft', max_steps: o.sftSteps, eval_steps: 0 } });
      this.phase = 'sft';
    } else {
      await this.createDpo(m.ck.tensors, o.state);
    }
  }

  private async createDpo(weights: Map<string, Float32Array>, state?: Uint8Array): Promise<void> {
    const m = this.needModel();
    const { train, eval: evalSet } = this.tokenize(this.args.max_length, this.args.truncation_mode);
    if (this.args.precompute_ref_log_probs) this.emit({ type: 'status', message: 'Computing the reference log-probs of every pair once...' });
    this.trainer = await DpoTrainer.create(this.needGpu(), { config: m.ck.config, policy: weights, train, eval: evalSet, padId: m.tok.padId, args: this.args });
    if (state) {
      await this.trainer.loadState(state);
      this.emit({ type: 'status', message: `Continuing the saved run from step ${this.trainer.step}.` });
    }
    this.phase = 'dpo';
    this.frontier = null;
    if (this.frontierSpec) {
      // the reference is the model DPO starts from (the loaded one, or the SFT result)
      try {
        const tokJson = new TextDecoder().decode(m.extra.get('tokenizer.json')!);
        this.frontier = { probe: this.probes.get(m.ck.config, weights, tokJson, this.frontierSpec), spec: this.frontierSpec, lastStep: -1 };
      } catch (e) {
        this.emit({ type: 'status', message: `The reward-vs-KL frontier is off for this run: ${(e as Error).message}` });
      }
    }
  }

  /** Measures the policy on the held-out prompts (CPU, between two steps) unless this step already was. */
  private async measureFrontier(): Promise<void> {
    const f = this.frontier;
    const t = this.trainer;
    if (!f || !t || f.lastStep === t.step) return;
    const t0 = performance.now();
    try {
      const point = f.probe.measure(await t.policyWeights());
      f.lastStep = t.step;
      this.emit({ type: 'frontier', point: toMeasurement(t.step, point, performance.now() - t0) });
    } catch (e) {
      this.frontier = null;
      this.emit({ type: 'status', message: `The reward-vs-KL frontier stopped: ${(e as Error).message}` });
    }
  }

  /** Continues a paused run in this session. */
  async resume(): Promise<{ end: RunEnd; step: number; state: Uint8Array | null }> {
    if (this.running || this.starting) throw new SessionError('The run is already going.');
    if (this.stopped || !(this.trainer || this.sft)) throw new SessionError('There is no paused run to resume: start a new one.');
    if (this.trainer?.done) throw new SessionError('This run has finished; start a new one to train more.');
    return this.runLoop();
  }

  private runLoop(): Promise<{ end: RunEnd; step: number; state: Uint8Array | null }> {
    this.pauseWanted = false;
    this.stopWanted = false;
    const p = this.loop().finally(() => {
      this.running = null;
      // jobs queued after the loop's last check run now, outside training
      const left = this.jobs.splice(0);
      for (const j of left) j.fn().then(j.resolve, j.reject);
    });
    this.running = p;
    return p;
  }

  private async loop(): Promise<{ end: RunEnd; step: number; state: Uint8Array | null }> {
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
      const t = this.phase === 'sft' ? this.sft! : this.trainer!;
      // the reference's point of the frontier (step 0: policy == reference, KL 0)
      if (this.phase === 'dpo' && t.step === 0) await this.measureFrontier();
      const finished = await t.train({
        onLog: (r) => {
          if (this.phase === 'sft') {
            this.emit({ type: 'status', message: `SFT step ${r.step}/${t.totalSteps}: loss ${r.loss.toFixed(4)}` });
            progress('sft', t, r['tokens/s'] ?? 0);
            return;
          }
          this.history.push(r);
          pending.push(r);
          const f = this.frontier;
          if (f && r.step % f.spec.everySteps === 0 && r.step < t.totalSteps) {
            // measured between two steps, like any other job (the last step is measured after the final eval)
            this.jobs.push({ fn: () => this.measureFrontier(), resolve: () => undefined, reject: () => undefined });
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
      flush();
      if (finished && this.phase === 'sft') {
        const w = await this.sft!.policyWeights();
        this.sft!.release();
        this.sft = null;
        this.emit({ type: 'status', message: 'SFT done; DPO starts from the SFT model, which is also the reference.' });
        await this.createDpo(w);
        continue;
      }
      if (finished) {
        if (this.trainer!.args.eval_steps > 0 || (this.data?.eval.length ?? 0) > 0) {
          // a last evaluation at the final step (unless the trainer just made one)
          const ev = this.trainer!.args.eval_steps;
          if (!(ev > 0 && this.trainer!.step % ev === 0) && this.tokenized?.eval.length) await this.trainer!.evaluate(this.evalEvents());
        }
        await this.measureFrontier();
        this.stopped = false;
        return { end: 'finished', step: this.trainer!.step, state: await this.trainer!.saveState() };
      }
      // paused: run queued jobs, then go on unless the user paused or stopped
      while (this.jobs.length) {
        const j = this.jobs.shift()!;
        await j.fn().then(j.resolve, j.reject);
      }
      if (this.stopWanted) {
        this.stopped = true;
        return { end: 'stopped', step: t.step, state: null };
      }
      if (this.pauseWanted) {
        const state = this.phase === 'dpo' ? await this.trainer!.saveState() : null;
        return { end: 'paused', step: t.step, state };
      }
    }
  }

  private evalEvents() {
    return { onEval: (metrics: LogRecord, pairs: import('../dpo/trainer').PairRecord[]) => this.emit({ type: 'eval', metrics, pairs }) };
  }

  private activeTrainer(): DpoTrainer | null {
    return this.phase === 'sft' ? this.sft : this.trainer;
  }

  pause(): void {
    if (!this.running) return;
    this.pauseWanted = true;
    this.activeTrainer()?.requestPause();
  }

  stop(): void {
    if (!this.running) {
      this.stopped = true;
      return;
    }
    this.stopWanted = true;
    this.activeTrainer()?.requestPause();
  }

  /** Runs `fn` with the GPU to itself: directly when idle, between two steps when training. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.running) return fn();
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.activeTrainer()?.requestPause();
    });
  }

  private needTrainer(what: string): DpoTrainer {
    if (!this.trainer) throw new SessionError(`${what} needs a run: press Train first (at step 0 the policy equals the reference).`);
    return this.trainer;
  }

  evaluate() {
    const t = this.needTrainer('Evaluation');
    if (!this.tokenized?.eval.length) return Promise.reject(new SessionError('There are no eval pairs: raise the eval fraction of the dataset split.'));
    return this.exclusive(() => t.evaluate(this.evalEvents()));
  }

  sample(prompts: string[], o: SampleOptions): Promise<SampleResult[]> {
    const t = this.needTrainer('Sampling');
    const m = this.needModel();
    const eos = new Set<number>();
    if (m.tok.eosId !== null) eos.add(m.tok.eosId);
    const ce = m.ck.config.eosTokenId;
    for (const id of Array.isArray(ce) ? ce : ce !== undefined ? [ce] : []) eos.add(id);
    const opts = { ...o, eosTokenIds: [...eos] };
    return this.exclusive(async () => {
      const out: SampleResult[] = [];
      for (const prompt of prompts) {
        const ids = m.tok.encode(prompt);
        if (ids.length === 0) throw new SessionError('The prompt is empty after tokenization: type a few words.');
        const policy = m.tok.decode(await t.sample('policy', ids, opts), true);
        let reference: string | null = null;
        let referenceNote: string | undefined;
        try {
          reference = m.tok.decode(await t.sample('reference', ids, opts), true);
        } catch (e) {
          if (!(e instanceof TrainerConfigError)) throw e;
          referenceNote = 'The reference is not on the GPU in this run (its log-probs were precomputed), so only the policy is sampled.';
        }
        out.push({ prompt, reference, policy, referenceNote });
      }
      return out;
    });
  }

  /** The trained policy, the TRL script and the data, in one zip (src/worker/export.ts). */
  exportZip(extra: Record<string, string>): Promise<ExportResult> {
    const t = this.needTrainer('Export');
    const m = this.needModel();
    const d = this.needData();
    return this.exclusive(() => buildExportZip({ trainer: t, model: m, data: d, extra }));
  }

  saveState(): Promise<Uint8Array | null> {
    const t = this.trainer;
    if (!t) return Promise.resolve(null);
    return this.exclusive(() => t.saveState());
  }
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new DatasetError(`Could not fetch ${url} (${(e as Error).message}).`);
  }
  if (!res.ok) throw new DatasetError(`Could not fetch ${url}: the server answered ${res.status}.`);
  return new Uint8Array(await res.arrayBuffer());
}
