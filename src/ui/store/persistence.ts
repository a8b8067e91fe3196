// Keeping runs in this browser: the run record and trainer state saved as a run trains (autosave),
// the saved-runs list, and deleting a saved run.
import { deleteRun, listRuns, saveRun, type RunRecord } from '../runs';
import { get, patch } from './state';

let lastSave = 0;
let lastStateSave = 0;
/** Small models also save their trainer state every 2 minutes, so a closed tab can continue. */
const AUTOSAVE_STATE_MS = 120_000;
const AUTOSAVE_MAX_PARAMS = 50e6;

/** A new run starts its autosave clock now (its state was just handed to the worker). */
export function resetAutosaveClock(): void {
  lastStateSave = performance.now();
}

/** Called on every batch of metrics: saves the record every 10 s and the trainer state every 2 minutes. */
export function autosaveTick(): void {
  if (performance.now() - lastStateSave > AUTOSAVE_STATE_MS) void autosaveState();
  else if (performance.now() - lastSave > 10_000) {
    lastSave = performance.now();
    void persistRun('training');
  }
}

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

export async function persistRun(status: RunRecord['status'], state?: Uint8Array | null): Promise<void> {
  const r = runRecord(status);
  if (!r) return;
  await saveRun(r, state);
  await refreshRuns();
}

export async function refreshRuns(): Promise<void> {
  patch({ runs: await listRuns() });
}

export async function removeRun(id: string): Promise<void> {
  await deleteRun(id);
  patch((s) => ({ compare: s.compare.filter((x) => x !== id) }));
  await refreshRuns();
}

export function toggleCompare(id: string): void {
  patch((s) => ({ compare: s.compare.includes(id) ? s.compare.filter((x) => x !== id) : [...s.compare, id] }));
}
