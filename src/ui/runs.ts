// Runs saved in IndexedDB (idb-keyval): the run record (config, metric history) under `run:<id>`, and
// the trainer's state (weights, AdamW moments, step, data order) under `state:<id>`, so a reload lists
// the runs and a paused one continues from its step. Deleting a run deletes both.
// Every failure comes back as a StorageError whose message is a sentence for the page (never swallowed),
// and a state is only written when navigator.storage.estimate() says it fits.
import { createStore, del, get, set, values, type UseStore } from 'idb-keyval';
import type { LogRecord, PairRecord, TrainerArgs } from '../dpo/trainer';
import type { DatasetSpec, FrontierMeasurement, ModelSpec, SplitSpec } from '../worker/protocol';

export type RunStatus = 'training' | 'paused' | 'finished' | 'stopped' | 'error';

export interface RunRecord {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  status: RunStatus;
  model: { label: string; spec: ModelSpec };
  dataset: { label: string; spec: DatasetSpec; split: SplitSpec };
  args: TrainerArgs;
  sftSteps: number;
  step: number;
  totalSteps: number;
  history: LogRecord[];
  evalHistory: LogRecord[];
  lastPairs: PairRecord[];
  /** The demo's reward-vs-KL measurements of this run (built-in demo only). */
  frontier?: FrontierMeasurement[];
  hasState: boolean;
  stateBytes: number;
  /** The step of the saved state (older than `step` when a later state did not fit). */
  stateStep?: number;
  /** Bytes of the record itself (metric history, pairs) as last written. */
  recordBytes?: number;
  error?: string;
}

/** What went wrong with the browser's storage: no IndexedDB at all, a full quota, or another failure. */
export type StorageErrorKind = 'unavailable' | 'quota' | 'failed';

/** What the page was doing with IndexedDB, by code (the English phrase the sentence uses). */
export const STORAGE_ACTS = {
  'list-runs': 'listing the saved runs',
  'save-state': 'saving the run state',
  'save-run': 'saving the run',
  'read-state': 'reading the saved state',
  'delete-run': 'deleting the run',
} as const;
export type StorageAct = keyof typeof STORAGE_ACTS;

export class StorageError extends Error {
  override name = 'StorageError';
  /** error.storage.<kind> with what was being done (error.storage.what.<act>), for the page's language. */
  readonly code: string;
  readonly params: Record<string, string>;
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
    /** the browser's own words ("QuotaExceededError: ...") */
    readonly detail = '',
    act: StorageAct = 'save-run',
  ) {
    super(message);
    this.code = `storage.${kind}`;
    this.params = { what: act, detail };
  }
}

export interface StorageUse {
  usage: number;
  quota: number;
}

/** Bytes as the page shows them (KiB below 1 MiB, so a small run does not read "0.0 MiB"). */
export function fmtSize(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${b} B`;
}

/** The sentence for an IndexedDB failure while doing `what` ("saving the run", "listing the saved runs"...). */
export function storageSentence(e: unknown, act: StorageAct): StorageError {
  if (e instanceof StorageError) return e;
  const what = STORAGE_ACTS[act];
  const name = e instanceof Error || (typeof DOMException !== 'undefined' && e instanceof DOMException) ? (e as Error).name : '';
  const msg = e instanceof Error ? e.message : String(e);
  const detail = !msg ? name || 'no reason given' : name && !msg.startsWith(name) ? `${name}: ${msg}` : msg;
  if (name === 'QuotaExceededError' || /quota/i.test(msg)) {
    return new StorageError('quota', `The browser's storage for this page is full, so ${what} failed (${detail}). Delete saved runs you no longer need, or download the state to keep this run.`, detail, act);
  }
  if (name === 'InvalidStateError' || name === 'SecurityError' || /indexedDB is not defined|denied|not allowed/i.test(msg)) {
    return new StorageError('unavailable', `This browser does not let the page use IndexedDB (a private window, or site storage blocked), so ${what} failed and runs are not kept after a reload (${detail}). Download the state to keep a run.`, detail, act);
  }
  return new StorageError('failed', `The browser's IndexedDB refused ${what} (${detail}). Download the state to keep this run.`, detail, act);
}

let store: UseStore | null = null;
function db(what: StorageAct): UseStore {
  if (typeof indexedDB === 'undefined') throw storageSentence(new ReferenceError('indexedDB is not defined'), what);
  return (store ??= createStore('dpo-playground', 'runs'));
}

async function guarded<T>(what: StorageAct, fn: (d: UseStore) => Promise<T>): Promise<T> {
  try {
    return await fn(db(what));
  } catch (e) {
    throw storageSentence(e, what);
  }
}

export function newRunId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** The origin's usage and quota (navigator.storage.estimate), or null where the browser does not say. */
export async function storageUse(): Promise<StorageUse | null> {
  try {
    const e = await globalThis.navigator?.storage?.estimate?.();
    if (!e || typeof e.quota !== 'number') return null;
    return { usage: e.usage ?? 0, quota: e.quota };
  } catch {
    return null; // no estimate is not a failure: the write itself still reports a full quota
  }
}

let persistAsked = false;
/** Asks once that the browser keep this origin's storage under pressure (navigator.storage.persist). */
export async function askPersist(): Promise<boolean | null> {
  if (persistAsked) return null;
  persistAsked = true;
  try {
    return (await globalThis.navigator?.storage?.persist?.()) ?? null;
  } catch {
    return null;
  }
}

/** Room kept free beside a write (IndexedDB's own bookkeeping, the record written with it). */
const HEADROOM = 256 * 1024;

/** True when writing `bytes` in place of `replaced` bytes keeps the origin under its quota. */
export function fits(use: StorageUse | null, bytes: number, replaced = 0): boolean {
  if (!use) return true;
  return use.usage - replaced + bytes + HEADROOM <= use.quota;
}

export async function listRuns(): Promise<RunRecord[]> {
  return guarded('list-runs', async (d) => {
    const all = (await values(d)) as unknown[];
    return (all.filter((v) => v && typeof v === 'object' && 'history' in (v as object)) as RunRecord[]).sort((a, b) => b.createdAt - a.createdAt);
  });
}

export interface SaveOutcome {
  record: RunRecord;
  /**
   * 'saved': `state` was written; 'none': no state was given; 'no-room': the quota's estimate has no room
   * for it; 'refused': IndexedDB refused it (`refusal`; the record was still written).
   */
  state: 'saved' | 'none' | 'no-room' | 'refused';
  use: StorageUse | null;
  refusal?: StorageError;
}

/**
 * Saves the run record, and `state` when the quota has room for it (a state that does not fit is not
 * written; the record keeps the older state it had, if any). Throws a StorageError when the record
 * cannot be written.
 */
export async function saveRun(r: RunRecord, state?: Uint8Array | null, prev?: RunRecord): Promise<SaveOutcome> {
  let outcome: SaveOutcome['state'] = 'none';
  let use: StorageUse | null = null;
  let refusal: StorageError | undefined;
  if (state) {
    use = await storageUse();
    if (fits(use, state.byteLength, prev?.stateBytes ?? 0)) {
      void askPersist();
      try {
        await guarded('save-state', (d) => set(`state:${r.id}`, state, d));
        r = { ...r, hasState: true, stateBytes: state.byteLength, stateStep: r.step };
        outcome = 'saved';
      } catch (e) {
        refusal = e as StorageError; // an aborted write keeps the older state, which the record still names
        outcome = 'refused';
      }
    } else outcome = 'no-room';
  }
  const record: RunRecord = { ...r, updatedAt: Date.now() };
  record.recordBytes = recordSize(record);
  await guarded('save-run', (d) => set(`run:${r.id}`, record, d));
  return { record, state: outcome, use, refusal };
}

/** About the bytes a record takes (its JSON; files picked from disk are counted by size). */
export function recordSize(r: RunRecord): number {
  return new TextEncoder().encode(JSON.stringify(r, (_k, v) => (typeof File !== 'undefined' && v instanceof File ? { name: v.name, size: v.size } : v instanceof Uint8Array ? v.byteLength : v))).byteLength;
}

export async function loadState(id: string): Promise<Uint8Array | undefined> {
  return guarded('read-state', (d) => get<Uint8Array>(`state:${id}`, d));
}

export async function deleteRun(id: string): Promise<void> {
  await guarded('delete-run', async (d) => {
    await del(`state:${id}`, d);
    await del(`run:${id}`, d);
  });
}
