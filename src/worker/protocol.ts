// Messages between the page and the training worker. The page sends requests {id, req}; the worker
// answers each with {kind: 'reply', id, ok, result | error} and pushes events {kind: 'event', event}
// (metrics in batches, progress, status lines) while it works. Everything here is structured-clonable.
import type { TrainerArgs, LogRecord, PairRecord } from '../dpo/trainer';
import type { ValidationReport, DatasetFormat } from '../data/types';
import type { FrontierPoint } from '../demo/frontier';
import type { DatasetLengths } from '../dpo/diagnosis';
import type { TokenNote, TokenReport } from '../dpo/tokenize';
import type { HubModelPlan } from './hub-plan';

/** Where the model comes from. URLs are absolute (the worker's base URL is not the page's). */
export type ModelSpec =
  | { kind: 'url'; baseUrl: string; label: string }
  /** The access token is not part of the spec (it is sent once with setHubToken and never saved); args: for the fit check before download. */
  | { kind: 'hub'; hubUrl: string; repo: string; revision?: string; args?: Partial<TrainerArgs> }
  | { kind: 'files'; files: File[] };

export type DatasetSpec =
  | { kind: 'url'; url: string; label: string; evalUrl?: string }
  | { kind: 'file'; file: File }
  | { kind: 'bytes'; name: string; bytes: Uint8Array }
  /** The Hub's Parquet files of one config and split (the dataset viewer's conversion); the token is the session's (setHubToken). */
  | { kind: 'hub'; hubUrl: string; repo: string; config: string; split: string; revision?: string };

export interface GpuSummary {
  adapterName: string;
  maxBindingBytes: number;
  maxBufferBytes: number;
  features: string[];
}

export interface ModelInfo {
  label: string;
  modelType: string;
  arch: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  vocabSize: number;
  maxPositions: number;
  parameters: number;
  dtype: string;
  hasChatTemplate: boolean;
  /** Files read (name -> bytes), for the model card. */
  files: { name: string; bytes: number }[];
}

export interface PreviewRow {
  row: number;
  prompt: string;
  chosen: string;
  rejected: string;
  /** An unpaired example's label (true = desirable: its completion is in chosen; false: in rejected). */
  label?: boolean;
}

export interface DatasetInfo {
  label: string;
  format: DatasetFormat;
  report: ValidationReport;
  preview: PreviewRow[];
  trainPairs: number;
  evalPairs: number;
  /** Tokens of the longest pair (prompt + longer completion) and the mean, after tokenization. */
  maxTokens: number;
  meanTokens: number;
  /** Pairs dropped by tokenization (prompt alone fills max_length). */
  tooLong: number;
  /** Texts of the eval pairs in the order the trainer evaluates them (PairRecord.index). */
  evalRows: PreviewRow[];
  /** Decoded text of each token id of the eval completions (the page's token view; the page has no tokenizer). */
  tokenPieces?: Record<number, string>;
  /** Token lengths of (up to 4096) training pairs before truncation (the live diagnosis's dataset rules). */
  lengths?: DatasetLengths;
  /** What the model's tokenizer made of the pairs: unknown-token share, prompt/completion mismatches (absent until tokenized). */
  tokens?: TokenReport;
  /** The token report's warnings, as sentences for the dataset panel (src/dpo/tokenize.ts tokenReportNotes). */
  tokenNotes?: string[];
  /** The same warnings as codes + numbers, which the page says in its language (tokens.<code> in src/ui/i18n). */
  tokenNoteCodes?: TokenNote[];
}

export interface SplitSpec {
  evalFraction: number;
  seed: number;
  /** Cap on the eval pairs (evaluation runs every eval_steps; big eval sets slow the page down). */
  maxEval: number;
}

export interface MemoryEstimate {
  weightsBytes: number;
  optimizerBytes: number;
  activationBytes: number;
  totalBytes: number;
  /** A sentence when the run will not fit the adapter's limits; null when it should fit. */
  refusal: string | null;
  /** The refusal's code and numbers, for the page's sentence in its language (src/ui/i18n/errors.ts). */
  refusalCode?: { code: string; params: Record<string, string | number> };
}

export interface StartOptions {
  args: TrainerArgs;
  /** Steps of SFT on the chosen completions before DPO (0 = none); the SFT model becomes the reference. */
  sftSteps: number;
  /** A state saved by a paused run (trainer.saveState), to continue from its step. */
  state?: Uint8Array;
  /** The built-in demo's reward-vs-KL probe: measured at step 0, every `everySteps` and at the end. */
  frontier?: FrontierSpec;
}

/** Settings of the demo's frontier probe (src/demo/frontier.ts FrontierProbe). */
export interface FrontierSpec {
  /** Held-out prompts (text), each sampled `samplesPerPrompt` times from policy and reference. */
  prompts: string[];
  everySteps: number;
  samplesPerPrompt: number;
  maxNewTokens: number;
  temperature: number;
  seed: number;
}

/**
 * One measurement of the policy on the held-out prompts (the probe's FrontierPoint: mean true reward r*
 * with its standard error, the reference's r*, exact and sampled KL from the reference, the first few
 * samples side by side), with the step it was taken at and the milliseconds it took (CPU, in the worker).
 */
export type FrontierMeasurement = FrontierPoint & { step: number; ms: number };

export interface SampleOptions {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

export interface SampleResult {
  prompt: string;
  reference: string | null;
  policy: string;
  /** Why the reference could not be sampled (precomputed or reference-free runs). */
  referenceNote?: string;
  /** The same as a code the page says in its language (samples.referenceNote.<code>). */
  referenceNoteCode?: 'precomputed' | 'no-reference';
}

export interface ExportResult {
  zip: Uint8Array;
  files: string[];
}

export type Request =
  | { type: 'init' }
  | { type: 'loadModel'; spec: ModelSpec }
  | { type: 'loadDataset'; spec: DatasetSpec; split: SplitSpec; maxLength: number | null }
  | { type: 'estimate'; args: TrainerArgs }
  | { type: 'start'; options: StartOptions }
  | { type: 'resume' }
  /** After a `fault` event: a new device if needed, the run rebuilt from its last saved state, trained on. */
  | { type: 'continue' }
  | { type: 'pause' }
  | { type: 'stop' }
  | { type: 'evaluate' }
  | { type: 'sample'; prompts: string[]; options: SampleOptions }
  | { type: 'export'; extra: Record<string, string>; /** the README's language (src/worker/export-readme.ts) */ language?: 'en' | 'ko' }
  | { type: 'saveState' }
  | { type: 'planHub'; spec: Extract<ModelSpec, { kind: 'hub' }>; args: Partial<TrainerArgs> }
  | { type: 'setHubToken'; token: string | null }
  /** The GPU buffer pool's live and peak bytes (the peak since the page loaded), to set beside the estimate. */
  | { type: 'gpuMemory' };

export type RunEnd = 'finished' | 'paused' | 'stopped';

export interface ResultMap {
  init: GpuSummary;
  loadModel: ModelInfo;
  loadDataset: DatasetInfo;
  estimate: MemoryEstimate;
  start: { end: RunEnd; step: number; state: Uint8Array | null };
  resume: { end: RunEnd; step: number; state: Uint8Array | null };
  continue: { end: RunEnd; step: number; state: Uint8Array | null };
  pause: null;
  stop: null;
  evaluate: { metrics: LogRecord; pairs: PairRecord[] };
  sample: SampleResult[];
  export: ExportResult;
  saveState: Uint8Array | null;
  planHub: HubModelPlan;
  setHubToken: null;
  gpuMemory: { liveBytes: number; peakBytes: number };
}

export type WorkerEvent =
  | { type: 'logs'; records: LogRecord[] }
  | { type: 'eval'; metrics: LogRecord; pairs: PairRecord[] }
  | { type: 'progress'; phase: 'sft' | 'dpo'; step: number; totalSteps: number; tokensPerSec: number; elapsedSec: number }
  | { type: 'status'; message: string }
  /**
   * A GPU fault stopped the run before the failed step's metrics (src/gpu/fault.ts): `message` says what
   * happened and what to do; `savedStep` is the step of the last saved state the worker holds, which
   * `continue` goes on from (records after it are void), or null when nothing can be continued. The
   * running start/resume/continue request then rejects with name 'GpuFaultError'.
   */
  | { type: 'fault'; kind: 'device-lost' | 'out-of-memory' | 'validation' | 'internal'; message: string; savedStep: number | null; params?: Record<string, string | number> }
  | { type: 'frontier'; point: FrontierMeasurement }
  | {
      type: 'download';
      what: 'model' | 'dataset';
      loaded: number;
      total: number | null;
      file: string;
      /** Hub downloads: which file of how many, speed, seconds left, bytes that came from the cache of an interrupted download. */
      fileIndex?: number;
      fileCount?: number;
      bytesPerSec?: number;
      etaSec?: number | null;
      resumedFrom?: number;
    };

export interface ErrorInfo {
  name: string;
  message: string;
  /** Which sentence the page shows in its language (src/worker/error-code.ts); absent: the English message. */
  code?: string;
  params?: Record<string, string | number>;
}

export type WorkerMessage =
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: ErrorInfo }
  | { kind: 'event'; event: WorkerEvent };

export type { TrainerArgs, LogRecord, PairRecord, HubModelPlan };
