// Runs saved in IndexedDB (idb-keyval): the run record (config, metric history) under `run:<id>`, and
// the trainer's state (weights, AdamW moments, step, data order) under `state:<id>`, so a reload lists
// the runs and a paused one continues from its step. Deleting a run deletes both.
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
  error?: string;
}

let store: UseStore | null = null;
const db = (): UseStore => (store ??= createStore('dpo-playground', 'runs'));

export function newRunId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

export async function listRuns(): Promise<RunRecord[]> {
  try {
    const all = (await values(db())) as unknown[];
    return (all.filter((v) => v && typeof v === 'object' && 'history' in (v as object)) as RunRecord[]).sort((a, b) => b.createdAt - a.createdAt);
  } catch {
    return []; // IndexedDB unavailable (private mode): runs are simply not kept
  }
}

export async function saveRun(r: RunRecord, state?: Uint8Array | null): Promise<void> {
  try {
    if (state) {
      await set(`state:${r.id}`, state, db());
      r = { ...r, hasState: true, stateBytes: state.byteLength };
    }
    await set(`run:${r.id}`, { ...r, updatedAt: Date.now() }, db());
  } catch (e) {
    console.warn('Could not save the run in IndexedDB', e);
  }
}

export async function loadState(id: string): Promise<Uint8Array | undefined> {
  return get<Uint8Array>(`state:${id}`, db());
}

export async function deleteRun(id: string): Promise<void> {
  await del(`state:${id}`, db());
  await del(`run:${id}`, db());
}
