// The page's state (zustand) and the actions that talk to the training worker.
import { createStore, useStore as useZustand, type StoreApi } from 'zustand';
import { strToU8, zipSync } from 'fflate';
import type { LogRecord, PairRecord, TrainerArgs } from '../dpo/trainer';
import type { DatasetInfo, DatasetSpec, FrontierMeasurement, FrontierSpec, GpuSummary, MemoryEstimate, ModelInfo, ModelSpec, RunEnd, SampleOptions, SampleResult, SplitSpec, WorkerEvent } from '../worker/protocol';
import { TrainClient } from './client';
import { historyCsv, historyJsonl } from './history';
import { loraFormOf, PARAM_FIELDS, pageDefaultArgs, parseField, parseLoraForm, type LoraForm } from './params';
import { deleteRun, listRuns, loadState, newRunId, saveRun, type RunRecord } from './runs';

export interface DemoManifest {
  model: string;
  train: string;
  eval?: string;
  prompts?: string;
  name?: string;
  description?: string;
  /** Trainer arguments tuned for the demo (override TRL's defaults). */
  args?: Partial<TrainerArgs>;
  /** The same as written by scripts/demo/build-demo.ts (TRL names, plus the frontier probe's settings). */
  recommended?: Partial<TrainerArgs> & { frontier?: ManifestFrontier };
  sftSteps?: number;
  /** The reward-vs-KL probe's settings (normalized from recommended.frontier); only the built-in demo has them. */
  frontier?: DemoFrontierSettings;
}

/** recommended.frontier in public/demo/manifest.json (snake case, as the build script writes it). */
export interface ManifestFrontier {
  prompts?: number;
  every_steps?: number;
  max_new_tokens?: number;
  temperature?: number;
  seed?: number;
  samples_per_prompt?: number;
}

export interface DemoFrontierSettings {
  /** how many held-out prompts to measure on */
  prompts: number;
  everySteps: number;
  maxNewTokens: number;
  temperature: number;
  seed: number;
  samplesPerPrompt: number;
}

/** One run's reward-vs-KL curve (the DPO paper's Figure 2 has one per beta / method). */
export interface FrontierRun {
  id: string;
  label: string;
  beta: number;
  lossType: string;
  points: FrontierMeasurement[];
}

export interface SweepState {
  betas: number[];
  stepsPerRun: number;
  /** index of the run being trained */
  index: number;
  active: boolean;
  cancelled: boolean;
}

export type LoadStatus = 'none' | 'loading' | 'ready' | 'error';
export type RunPhase = 'idle' | 'starting' | 'training' | 'pausing' | 'paused' | 'finished' | 'stopped' | 'error';

interface Progress {
  file: string;
  loaded: number;
  total: number | null;
}

export interface State {
  client: TrainClient | null;
  gpu: { status: 'checking' | 'ready' | 'unavailable'; info?: GpuSummary; error?: string };
  manifest: DemoManifest | null;
  manifestError: string | null;
  heldoutPrompts: string[];
  hubUrl: string;
  model: { status: LoadStatus; info?: ModelInfo; spec?: ModelSpec; error?: string; progress?: Progress };
  dataset: { status: LoadStatus; info?: DatasetInfo; spec?: DatasetSpec; error?: string; progress?: Progress };
  split: SplitSpec;
  args: TrainerArgs;
  argText: Record<string, string>;
  argErrors: Record<string, string>;
  sftSteps: number;
  estimate: MemoryEstimate | null;
  run: {
    id: string | null;
    phase: RunPhase;
    trainPhase: 'sft' | 'dpo';
    step: number;
    totalSteps: number;
    tokensPerSec: number;
    elapsedSec: number;
    startStep: number;
    error?: string;
  };
  statusLine: string;
  history: LogRecord[];
  evalHistory: LogRecord[];
  pairs: PairRecord[];
  selectedPair: number | null;
  samples: SampleResult[];
  sampling: boolean;
  sampleError: string | null;
  exportError: string | null;
  exporting: boolean;
  runs: RunRecord[];
  compare: string[];
  /** Reward-vs-KL curves of this page's demo runs (and of saved runs that have one). */
  frontierRuns: FrontierRun[];
  /** beta of the run that produced `pairs` (their margins are beta * h under it) */
  pairsBeta: number;
  sweep: SweepState | null;
}

export const DEFAULT_HUB = 'https://huggingface.co';

const initialArgs = pageDefaultArgs;

/** The store itself (vanilla zustand), so tests can render from any state. */
export const storeApi: StoreApi<State> = createStore<State>()(() => ({
  client: null,
  gpu: { status: 'checking' },
  manifest: null,
  manifestError: null,
  heldoutPrompts: [],
  hubUrl: DEFAULT_HUB,
  model: { status: 'none' },
  dataset: { status: 'none' },
  split: { evalFraction: 0.1, seed: 42, maxEval: 64 },
  args: initialArgs,
  argText: {},
  argErrors: {},
  sftSteps: 0,
  estimate: null,
  run: { id: null, phase: 'idle', trainPhase: 'dpo', step: 0, totalSteps: 0, tokensPerSec: 0, elapsedSec: 0, startStep: 0 },
  statusLine: '',
  history: [],
  evalHistory: [],
  pairs: [],
  selectedPair: null,
  samples: [],
  sampling: false,
  sampleError: null,
  exportError: null,
  exporting: false,
  runs: [],
  compare: [],
  frontierRuns: [],
  pairsBeta: initialArgs.beta,
  sweep: null,
}));

interface UseStore {
  (): State;
  <T>(selector: (s: State) => T): T;
  getState: StoreApi<State>['getState'];
  setState: StoreApi<State>['setState'];
}

/** The React hook: `useStore((s) => s.run.phase)`; selectors return primitives or stored objects. */
export const useStore = Object.assign(<T,>(selector?: (s: State) => T) => useZustand(storeApi, selector ?? ((s: State) => s as unknown as T)), {
  getState: storeApi.getState,
  setState: storeApi.setState,
}) as UseStore;

const S = useStore;
const get = () => S.getState();
const patch = (p: Partial<State> | ((s: State) => Partial<State>)) => S.setState(p);

function client(): TrainClient {
  const c = get().client;
  if (!c) throw new Error('The training worker is not running.');
  return c;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ------------------------------------------------------------------ worker events

let lastSave = 0;
let lastStateSave = 0;
/** Small models also save their trainer state every 2 minutes, so a closed tab can continue. */
const AUTOSAVE_STATE_MS = 120_000;
const AUTOSAVE_MAX_PARAMS = 50e6;

async function autosaveState(): Promise<void> {
  const s = get();
  if (!s.client || s.run.phase !== 'training' || (s.model.info?.parameters ?? Infinity) > AUTOSAVE_MAX_PARAMS) return;
  lastStateSave = performance.now();
  try {
    const state = await s.client.call({ type: 'saveState' });
    if (state && get().run.phase === 'training') await persistRun('training', state);
  } catch {
    // the next pause saves it anyway
  }
}

function onEvent(e: WorkerEvent): void {
  switch (e.type) {
    case 'logs':
      patch((s) => ({ history: [...s.history, ...e.records] }));
      if (performance.now() - lastStateSave > AUTOSAVE_STATE_MS) void autosaveState();
      else if (performance.now() - lastSave > 10_000) {
        lastSave = performance.now();
        void persistRun('training');
      }
      break;
    case 'eval':
      patch((s) => ({ evalHistory: [...s.evalHistory, e.metrics], pairs: e.pairs, pairsBeta: s.args.beta }));
      break;
    case 'progress':
      patch((s) => ({
        run: {
          ...s.run,
          trainPhase: e.phase,
          step: e.step,
          totalSteps: e.totalSteps,
          tokensPerSec: e.tokensPerSec,
          elapsedSec: e.elapsedSec,
        },
      }));
      break;
    case 'status':
      patch({ statusLine: e.message });
      break;
    case 'frontier':
      patch((s) => ({ frontierRuns: addFrontierPoint(s, e.point) }));
      break;
    case 'download': {
      const p = { file: e.file, loaded: e.loaded, total: e.total };
      if (e.what === 'model') patch((s) => ({ model: { ...s.model, progress: p } }));
      else patch((s) => ({ dataset: { ...s.dataset, progress: p } }));
      break;
    }
  }
}

/** The frontier curves with `p` added to the current run's curve (created on its first point). */
export function addFrontierPoint(s: State, p: FrontierMeasurement): FrontierRun[] {
  const id = s.run.id ?? 'run';
  const i = s.frontierRuns.findIndex((r) => r.id === id);
  if (i < 0) return [...s.frontierRuns, { id, label: frontierLabel(s.args, s.frontierRuns.length), beta: s.args.beta, lossType: s.args.loss_type, points: [p] }];
  const r = s.frontierRuns[i];
  const points = [...r.points.filter((q) => q.step !== p.step), p].sort((a, b) => a.step - b.step);
  return s.frontierRuns.map((x, j) => (j === i ? { ...r, points } : x));
}

export const frontierLabel = (a: TrainerArgs, n: number) => `#${n + 1} beta ${a.beta} ${a.loss_type}`;

/** True when the selected model is the built-in demo (the page then shows the demo's panels). */
export function demoSelected(s: State): boolean {
  const m = s.manifest;
  const spec = s.model.spec;
  if (!m?.frontier || !spec || spec.kind !== 'url') return false;
  const strip = (u: string) => u.replace(/\/+$/, '');
  return strip(spec.baseUrl) === strip(m.model);
}

/** The probe's settings for a run of the demo, or undefined when the demo is not selected. */
export function frontierSpec(s: State): FrontierSpec | undefined {
  const f = s.manifest?.frontier;
  if (!f || !demoSelected(s) || s.heldoutPrompts.length === 0) return undefined;
  return { prompts: s.heldoutPrompts.slice(0, f.prompts), everySteps: f.everySteps, samplesPerPrompt: f.samplesPerPrompt, maxNewTokens: f.maxNewTokens, temperature: f.temperature, seed: f.seed };
}

const TRAINER_ARG_KEYS = new Set(Object.keys(pageDefaultArgs));

/** The manifest's trainer arguments (`args`, or the build script's `recommended`), known keys only. */
export function manifestArgs(m: DemoManifest): Partial<TrainerArgs> {
  const src = (m.args ?? m.recommended ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(src).filter(([k]) => TRAINER_ARG_KEYS.has(k))) as Partial<TrainerArgs>;
}

/** recommended.frontier with defaults (16 prompts every 10 steps, 48 new tokens, temperature 1, seed 7). */
export function manifestFrontier(m: DemoManifest): DemoFrontierSettings | undefined {
  const f = m.recommended?.frontier;
  if (!f || typeof f !== 'object') return undefined;
  const int = (v: unknown, d: number) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : d);
  return {
    prompts: int(f.prompts, 16),
    everySteps: int(f.every_steps, 10),
    maxNewTokens: int(f.max_new_tokens, 48),
    temperature: typeof f.temperature === 'number' && f.temperature > 0 ? f.temperature : 1,
    seed: typeof f.seed === 'number' && Number.isInteger(f.seed) && f.seed >= 0 ? f.seed : 7,
    samplesPerPrompt: int(f.samples_per_prompt, 1),
  };
}

// ------------------------------------------------------------------ boot

function demoManifestUrl(): string {
  const q = new URLSearchParams(location.search).get('demo');
  return new URL(q ?? 'demo/manifest.json', document.baseURI).href;
}

async function fetchJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  if ((res.headers.get('content-type') ?? '').includes('text/html')) throw new Error(`${url} is missing`);
  return (await res.json()) as T;
}

export async function boot(): Promise<void> {
  const hub = new URLSearchParams(location.search).get('hub');
  if (hub) patch({ hubUrl: hub });
  void refreshRuns();
  if (typeof navigator === 'undefined' || !('gpu' in navigator)) {
    patch({ gpu: { status: 'unavailable', error: 'This browser does not expose WebGPU (navigator.gpu is missing).' } });
    return;
  }
  const c = TrainClient.create();
  c.on(onEvent);
  patch({ client: c });
  try {
    const info = await c.call({ type: 'init' });
    patch({ gpu: { status: 'ready', info } });
  } catch (e) {
    patch({ gpu: { status: 'unavailable', error: message(e) } });
    return;
  }
  // the built-in demo, selected from the start
  const manifestUrl = demoManifestUrl();
  try {
    const m = await fetchJson<DemoManifest>(manifestUrl);
    if (typeof m.model !== 'string' || typeof m.train !== 'string') throw new Error('it has no "model" and "train" entries');
    // paths in the manifest are relative to the page (e.g. "demo/model"), like the files in public/
    const abs = (p: string) => new URL(p, document.baseURI).href;
    const manifest: DemoManifest = { ...m, model: abs(m.model), train: abs(m.train), eval: m.eval ? abs(m.eval) : undefined, prompts: m.prompts ? abs(m.prompts) : undefined, frontier: manifestFrontier(m) };
    patch((s) => ({ manifest, args: { ...s.args, ...manifestArgs(m) }, sftSteps: m.sftSteps ?? 0 }));
    if (manifest.prompts) {
      fetchJson<unknown>(manifest.prompts)
        .then((p) => Array.isArray(p) && patch({ heldoutPrompts: p.filter((x): x is string => typeof x === 'string').slice(0, 64) }))
        .catch(() => undefined);
    }
    await loadDemo();
  } catch (e) {
    patch({
      manifestError: `The built-in demo is not part of this build (${manifestUrl.replace(location.origin, '')}: ${message(e)}). Load a model from the Hugging Face Hub or from disk, and a dataset file, to train.`,
    });
  }
}

// ------------------------------------------------------------------ model and dataset

export async function loadModel(spec: ModelSpec): Promise<boolean> {
  patch({ model: { status: 'loading', spec }, estimate: null, samples: [] });
  try {
    const info = await client().call({ type: 'loadModel', spec });
    patch({ model: { status: 'ready', info, spec } });
    if (get().dataset.status === 'ready' && get().dataset.spec) await loadDataset(get().dataset.spec!);
    else void refreshEstimate();
    return true;
  } catch (e) {
    patch((s) => ({ model: { status: 'error', error: message(e), spec: s.model.spec } }));
    return false;
  }
}

export async function loadDataset(spec: DatasetSpec): Promise<boolean> {
  patch({ dataset: { status: 'loading', spec } });
  try {
    const info = await client().call({ type: 'loadDataset', spec, split: get().split, maxLength: get().args.max_length });
    patch({ dataset: { status: 'ready', info, spec } });
    void refreshEstimate();
    return true;
  } catch (e) {
    patch({ dataset: { status: 'error', error: message(e), spec } });
    return false;
  }
}

export async function loadDemo(): Promise<void> {
  const m = get().manifest;
  if (!m) return;
  const ok = await loadModel({ kind: 'url', baseUrl: m.model.endsWith('/') ? m.model : `${m.model}/`, label: m.name ?? 'built-in demo' });
  if (ok) await loadDataset({ kind: 'url', url: m.train, evalUrl: m.eval, label: m.name ? `${m.name} pairs` : 'built-in demo pairs' });
}

export function setHubUrl(hubUrl: string): void {
  patch({ hubUrl });
}

export function setSplit(p: Partial<SplitSpec>): void {
  patch((s) => ({ split: { ...s.split, ...p } }));
}

// ------------------------------------------------------------------ hyperparameters

export function setArg(name: keyof TrainerArgs, raw: string | boolean): void {
  const f = PARAM_FIELDS.find((x) => x.name === name);
  if (!f) return;
  const r = parseField(f, raw);
  patch((s) => {
    const argText = { ...s.argText, [name]: String(raw) };
    const argErrors = { ...s.argErrors };
    if ('error' in r) {
      argErrors[name] = r.error;
      return { argText, argErrors };
    }
    delete argErrors[name];
    return { argText, argErrors, args: { ...s.args, [name]: r.value } };
  });
  scheduleEstimate();
}

/** One field of the LoRA form (PEFT's LoraConfig); a valid form sets args.lora (null = full fine-tuning). */
export function setLoraField(key: keyof LoraForm, raw: string | boolean): void {
  patch((s) => {
    const form = { ...loraFormOf(s.args.lora, s.argText), [key]: String(raw) };
    const argText = { ...s.argText };
    for (const [k, v] of Object.entries(form)) argText[`lora.${k}`] = v;
    const argErrors = { ...s.argErrors };
    const r = parseLoraForm(form);
    if ('error' in r) {
      argErrors.lora = r.error;
      return { argText, argErrors };
    }
    delete argErrors.lora;
    return { argText, argErrors, args: { ...s.args, lora: r.value } };
  });
  scheduleEstimate();
}

export function setSftSteps(n: number): void {
  patch({ sftSteps: Number.isInteger(n) && n >= 0 ? n : 0 });
}

let estimateTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleEstimate() {
  clearTimeout(estimateTimer);
  estimateTimer = setTimeout(() => void refreshEstimate(), 300);
}

export async function refreshEstimate(): Promise<void> {
  if (get().model.status !== 'ready' || !get().client) return;
  try {
    patch({ estimate: await client().call({ type: 'estimate', args: get().args }) });
  } catch {
    patch({ estimate: null });
  }
}

// ------------------------------------------------------------------ runs

function runRecord(status: RunRecord['status']): RunRecord | null {
  const s = get();
  if (!s.run.id || !s.model.spec || !s.dataset.spec) return null;
  const prev = s.runs.find((r) => r.id === s.run.id);
  return {
    id: s.run.id,
    name: prev?.name ?? `${s.model.info?.label ?? 'model'} · beta ${s.args.beta} · ${s.args.loss_type} · lr ${s.args.learning_rate}`,
    createdAt: prev?.createdAt ?? Date.now(),
    updatedAt: Date.now(),
    status,
    model: { label: s.model.info?.label ?? '', spec: s.model.spec },
    dataset: { label: s.dataset.info?.label ?? '', spec: s.dataset.spec, split: s.split },
    args: s.args,
    sftSteps: s.sftSteps,
    step: s.run.step,
    totalSteps: s.run.totalSteps,
    history: s.history,
    evalHistory: s.evalHistory,
    lastPairs: s.pairs,
    frontier: s.frontierRuns.find((f) => f.id === s.run.id)?.points,
    hasState: prev?.hasState ?? false,
    stateBytes: prev?.stateBytes ?? 0,
    error: s.run.error,
  };
}

async function persistRun(status: RunRecord['status'], state?: Uint8Array | null): Promise<void> {
  const r = runRecord(status);
  if (!r) return;
  await saveRun(r, state);
  await refreshRuns();
}

export async function refreshRuns(): Promise<void> {
  patch({ runs: await listRuns() });
}

function endRun(end: RunEnd, step: number, state: Uint8Array | null): void {
  const phase: RunPhase = end;
  patch((s) => ({ run: { ...s.run, phase, step }, statusLine: end === 'paused' ? `Paused at step ${step}.` : end === 'finished' ? `Finished ${step} steps.` : `Stopped at step ${step}.` }));
  void persistRun(end, state);
}

function failRun(e: unknown): void {
  const msg = message(e);
  patch((s) => ({ run: { ...s.run, phase: 'error', error: msg }, statusLine: msg }));
  void persistRun('error');
}

export function canTrain(s: State): string | null {
  if (s.gpu.status !== 'ready') return 'WebGPU is not ready.';
  if (s.model.status !== 'ready') return 'Load a model first.';
  if (s.dataset.status !== 'ready') return 'Load a dataset first.';
  if (Object.keys(s.argErrors).length) return `Fix the hyperparameters first: ${Object.values(s.argErrors)[0]}`;
  if (s.estimate?.refusal) return s.estimate.refusal;
  return null;
}

export async function train(): Promise<void> {
  const s = get();
  const why = canTrain(s);
  if (why) {
    patch({ statusLine: why });
    return;
  }
  const id = newRunId();
  lastStateSave = performance.now();
  patch({
    run: { id, phase: 'starting', trainPhase: 'dpo', step: 0, totalSteps: 0, tokensPerSec: 0, elapsedSec: 0, startStep: 0 },
    history: [],
    evalHistory: [],
    pairs: [],
    selectedPair: null,
    samples: [],
    statusLine: 'Starting: copying the weights to the GPU...',
  });
  await persistRun('training');
  const frontier = frontierSpec(get());
  await runWith(() => client().call({ type: 'start', options: { args: get().args, sftSteps: get().sftSteps, frontier } }));
}

// ------------------------------------------------------------------ beta sweep (built-in demo)

/** Parses "0.05, 0.1, 0.3, 1" into betas, or returns a sentence saying what is wrong. */
export function parseBetas(text: string): number[] | string {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0) return 'List at least one beta, e.g. 0.05, 0.1, 0.3, 1.';
  if (parts.length > 8) return `A sweep runs at most 8 betas one after another (got ${parts.length}).`;
  const out: number[] = [];
  for (const p of parts) {
    const b = Number(p);
    if (!(Number.isFinite(b) && b > 0)) return `Each beta must be a positive number; "${p}" is not.`;
    out.push(b);
  }
  return out;
}

/**
 * Trains one short run per beta, one after another, with the demo's other settings; each run's
 * frontier points land on the same chart. Stop ends the sweep after the current run.
 */
export async function betaSweep(betas: number[], stepsPerRun: number): Promise<void> {
  const s0 = get();
  const phase = s0.run.phase;
  if (phase === 'training' || phase === 'pausing' || phase === 'starting' || s0.sweep?.active) {
    patch({ statusLine: 'Pause or stop the current run before starting a sweep.' });
    return;
  }
  if (!(Number.isInteger(stepsPerRun) && stepsPerRun >= 1)) {
    patch({ statusLine: `Steps per sweep run must be a positive whole number (got ${stepsPerRun}).` });
    return;
  }
  const saved = s0.args;
  patch({ sweep: { betas, stepsPerRun, index: 0, active: true, cancelled: false } });
  try {
    for (let i = 0; i < betas.length; i++) {
      if (get().sweep?.cancelled) break;
      patch((s) => ({ sweep: s.sweep && { ...s.sweep, index: i }, args: { ...saved, beta: betas[i], max_steps: stepsPerRun } }));
      await train();
      if (get().run.phase !== 'finished') break;
    }
  } finally {
    patch((s) => ({ args: saved, sweep: s.sweep && { ...s.sweep, active: false } }));
  }
}

export function cancelSweep(): void {
  patch((s) => ({ sweep: s.sweep && { ...s.sweep, cancelled: true } }));
  stop();
}

export function clearFrontier(): void {
  patch({ frontierRuns: [] });
}

async function runWith(call: () => Promise<{ end: RunEnd; step: number; state: Uint8Array | null }>): Promise<void> {
  patch((s) => ({ run: { ...s.run, phase: 'training' } }));
  try {
    const r = await call();
    endRun(r.end, r.step, r.state);
  } catch (e) {
    failRun(e);
  }
}

export function pause(): void {
  if (get().run.phase !== 'training') return;
  patch((s) => ({ run: { ...s.run, phase: 'pausing' }, statusLine: 'Pausing after the current step...' }));
  void client().call({ type: 'pause' });
}

export function stop(): void {
  const ph = get().run.phase;
  if (ph !== 'training' && ph !== 'pausing' && ph !== 'paused') return;
  if (ph === 'paused') {
    void client().call({ type: 'stop' });
    endRun('stopped', get().run.step, null);
    return;
  }
  patch((s) => ({ run: { ...s.run, phase: 'pausing' }, statusLine: 'Stopping after the current step...' }));
  void client().call({ type: 'stop' });
}

export async function resume(): Promise<void> {
  if (get().run.phase !== 'paused') return;
  patch((s) => ({ run: { ...s.run, startStep: s.run.step, elapsedSec: 0 }, statusLine: `Resuming from step ${s.run.step}.` }));
  await runWith(() => client().call({ type: 'resume' }));
}

/** Continues a run saved in IndexedDB (after a reload): reloads its model and data, then its state. */
export async function resumeSaved(id: string): Promise<void> {
  const r = get().runs.find((x) => x.id === id);
  if (!r) return;
  const busy = get().run.phase;
  if (busy === 'training' || busy === 'pausing' || busy === 'starting') {
    patch({ statusLine: 'Pause or stop the current run first.' });
    return;
  }
  const state = r.hasState ? await loadState(id) : undefined;
  if (!state) {
    patch({ statusLine: `The run "${r.name}" has no saved state (it was not paused before the page closed), so it cannot continue.` });
    return;
  }
  patch({ split: r.dataset.split, args: r.args, sftSteps: r.sftSteps, argErrors: {}, argText: {}, statusLine: `Reloading the model and data of "${r.name}"...` });
  if (!(await loadModel(r.model.spec))) return;
  if (!(await loadDataset(r.dataset.spec))) return;
  patch({
    run: { id: r.id, phase: 'starting', trainPhase: 'dpo', step: r.step, totalSteps: r.totalSteps, tokensPerSec: 0, elapsedSec: 0, startStep: r.step },
    history: r.history,
    evalHistory: r.evalHistory,
    pairs: r.lastPairs,
    pairsBeta: r.args.beta,
    selectedPair: null,
    samples: [],
    frontierRuns: r.frontier?.length && !get().frontierRuns.some((f) => f.id === r.id) ? [...get().frontierRuns, { id: r.id, label: frontierLabel(r.args, get().frontierRuns.length), beta: r.args.beta, lossType: r.args.loss_type, points: r.frontier }] : get().frontierRuns,
  });
  const frontier = frontierSpec(get());
  await runWith(() => client().call({ type: 'start', options: { args: r.args, sftSteps: r.sftSteps, state, frontier } }));
}

export async function removeRun(id: string): Promise<void> {
  await deleteRun(id);
  patch((s) => ({ compare: s.compare.filter((x) => x !== id) }));
  await refreshRuns();
}

export function toggleCompare(id: string): void {
  patch((s) => ({ compare: s.compare.includes(id) ? s.compare.filter((x) => x !== id) : [...s.compare, id] }));
}

// ------------------------------------------------------------------ samples, eval, export

export async function sample(prompts: string[], o: SampleOptions): Promise<void> {
  patch({ sampling: true, sampleError: null });
  try {
    const samples = await client().call({ type: 'sample', prompts, options: o });
    patch({ samples, sampling: false });
  } catch (e) {
    patch({ sampling: false, sampleError: message(e) });
  }
}

export async function evaluateNow(): Promise<void> {
  try {
    await client().call({ type: 'evaluate' });
  } catch (e) {
    patch({ statusLine: message(e) });
  }
}

function download(name: string, data: Uint8Array | string, type: string): void {
  const blob = new Blob([typeof data === 'string' ? data : (data as Uint8Array<ArrayBuffer>)], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'run';

/** The trained model, TRL script, pairs and metric history in one zip. */
export async function exportRun(): Promise<void> {
  const s = get();
  patch({ exporting: true, exportError: null });
  try {
    const extra = { 'metrics.jsonl': historyJsonl([...s.history, ...s.evalHistory].sort((a, b) => a.step - b.step)), 'metrics.csv': historyCsv(s.history), 'eval_metrics.csv': historyCsv(s.evalHistory) };
    const r = await client().call({ type: 'export', extra });
    download(`dpo-${slug(s.model.info?.label ?? 'model')}-step${s.run.step}.zip`, r.zip, 'application/zip');
    patch({ exporting: false });
  } catch (e) {
    patch({ exporting: false, exportError: message(e) });
  }
}

export function exportMetrics(kind: 'csv' | 'jsonl'): void {
  const s = get();
  if (kind === 'csv') download('metrics.csv', historyCsv(s.history), 'text/csv');
  else download('metrics.jsonl', historyJsonl([...s.history, ...s.evalHistory].sort((a, b) => a.step - b.step)), 'application/x-ndjson');
}

/** Metric histories of saved runs, zipped (for comparing outside the page). */
export function exportSavedRun(r: RunRecord): void {
  download(`${slug(r.name)}-metrics.zip`, zipSync({ 'metrics.csv': strToU8(historyCsv(r.history)), 'metrics.jsonl': strToU8(historyJsonl(r.history)), 'args.json': strToU8(JSON.stringify(r.args, null, 2)) }), 'application/zip');
}

export function selectPair(i: number | null): void {
  patch({ selectedPair: i });
}
