// The page's state: its type, the initial state, and the zustand store every action reads and patches.
import { createStore, useStore as useZustand, type StoreApi } from 'zustand';
import type { LogRecord, PairRecord, TrainerArgs } from '../../dpo/trainer';
import type { DatasetInfo, DatasetSpec, FrontierMeasurement, GpuSummary, MemoryEstimate, ModelInfo, ModelSpec, SampleResult, SplitSpec } from '../../worker/protocol';
import type { TrainClient } from '../client';
import { i18n } from '../i18n';
import { errorSentence } from '../i18n/errors';
import { pageDefaultArgs } from '../params';
import type { RunRecord, StorageUse } from '../runs';

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

export interface UnsavedState {
  /** the step of the state not saved */
  step: number;
  /** its size, when known (null: the worker is asked for it on download) */
  bytes: number | null;
  message: string;
  /** the user downloaded it (leaving the page no longer loses it) */
  downloaded?: boolean;
}

/** A GPU fault that stopped the run (the worker's `fault` event): its sentence and the step it can continue from. */
export interface RunFault {
  kind: 'device-lost' | 'out-of-memory' | 'validation' | 'internal';
  message: string;
  savedStep: number | null;
  /** The sentence's parts (src/worker/faults.ts faultParams), for the page's language. */
  params?: Record<string, string | number>;
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
  /** The origin's storage use and quota (navigator.storage.estimate), null where the browser does not say. */
  storage: StorageUse | null;
  /** The last IndexedDB failure, as a sentence (cleared by the next save that works). */
  storageError: string | null;
  /** A state the browser's storage could not keep: the sentence saying so, offered as a download instead. */
  unsaved: UnsavedState | null;
  /** Reward-vs-KL curves of this page's demo runs (and of saved runs that have one). */
  frontierRuns: FrontierRun[];
  /** beta of the run that produced `pairs` (their margins are beta * h under it) */
  pairsBeta: number;
  sweep: SweepState | null;
  /** The GPU fault that stopped the run, until it continues or a new run starts (FaultNotice). */
  fault: RunFault | null;
}

export const DEFAULT_HUB = 'https://huggingface.co';

const initialArgs = pageDefaultArgs;

export const initialState = (): State => ({
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
  storage: null,
  storageError: null,
  unsaved: null,
  frontierRuns: [],
  pairsBeta: initialArgs.beta,
  sweep: null,
  fault: null,
});

/** The store itself (vanilla zustand), so tests can render from any state. */
export const storeApi: StoreApi<State> = createStore<State>()(initialState);

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

export const get = (): State => storeApi.getState();
export const patch = (p: Partial<State> | ((s: State) => Partial<State>)): void => storeApi.setState(p);

export function client(): TrainClient {
  const c = get().client;
  if (!c) throw new Error('The training worker is not running.');
  return c;
}

/** The errors last said, by their sentence, so a language switch can say them again (at most 50). */
const said = new Map<string, unknown>();

/** An error as the page says it: in the page's language where the error has a code (i18n/errors.ts). */
export const message = (e: unknown): string => {
  const s = errorSentence(e);
  said.delete(s);
  said.set(s, e);
  if (said.size > 50) said.delete(said.keys().next().value!);
  return s;
};

/** The page's own lines last said by key + params (status lines, storage notes), so a language switch says them again (at most 50). */
const lines = new Map<string, { key: string; params?: Record<string, unknown> }>();

/**
 * A line of the page for the store (statusLine, storageError, gpu.error): t(key, params), remembered by its text with
 * its key and params, so that the language switch below says it again. A param that is itself a said error or line
 * (e.g. { error: message(e) }) is said again too.
 */
export const say = (key: string, params?: Record<string, unknown>): string => {
  const s = i18n.t(key, params as Record<string, string>);
  lines.delete(s);
  lines.set(s, { key, params });
  if (lines.size > 50) lines.delete(lines.keys().next().value!);
  return s;
};

/** A stored sentence in the current language: an error (message) or a line (say) said again; other text as it is. */
function sayAgain<T extends string | null | undefined>(s: T): T {
  if (!s) return s;
  if (said.has(s)) return message(said.get(s)) as T;
  const l = lines.get(s);
  if (!l) return s;
  const params = l.params && Object.fromEntries(Object.entries(l.params).map(([k, v]) => [k, typeof v === 'string' ? sayAgain(v) : v]));
  return say(l.key, params) as T;
}

// an error or line shown on the page (a dataset's, the run's, a storage failure, a status line...) is said again in the new language
i18n.on('languageChanged', () => {
  const again = sayAgain;
  const s = get();
  patch({
    gpu: s.gpu.status === 'unavailable' ? { ...s.gpu, error: again(s.gpu.error) } : s.gpu,
    model: { ...s.model, error: again(s.model.error) },
    dataset: { ...s.dataset, error: again(s.dataset.error) },
    run: { ...s.run, error: again(s.run.error) },
    statusLine: again(s.statusLine),
    sampleError: again(s.sampleError),
    exportError: again(s.exportError),
    storageError: again(s.storageError),
    manifestError: again(s.manifestError),
  });
});
