// Keeping runs in this browser: the run record and trainer state saved at every pause, stop, error and
// every few minutes (autosave) when the storage quota has room, the saved-runs list with the storage
// used and left, and deleting a saved run. A state that does not fit, or any IndexedDB failure, is a
// sentence on the page and the state is offered as a download instead (store/state-download.ts).
import { fmtSize } from '../format';
import { t } from '../i18n';
import { deleteRun, fits, listRuns, saveRun, storageSentence, storageUse, type RunRecord, type RunStatus, type StorageError, type StorageUse } from '../runs';
import { get, message, patch, say, type State } from './state';

let lastSave = 0;
let lastStateSave = 0;
/** The trainer state is also saved every 2 minutes while training, so a closed tab or a crash can continue. */
const AUTOSAVE_STATE_MS = 120_000;

/** A state that the browser's storage could not take, kept in memory for "Download the state". */
let held: { runId: string; step: number; state: Uint8Array } | null = null;

export function heldState(): { runId: string; step: number; state: Uint8Array } | null {
  return held && held.runId === get().run.id ? held : null;
}

/** A new run starts its autosave clock now (its state was just handed to the worker). */
export function resetAutosaveClock(): void {
  lastStateSave = performance.now();
  held = null;
  patch({ unsaved: null });
}

/** Called on every batch of metrics: saves the record every 10 s and the trainer state every 2 minutes. */
export function autosaveTick(): void {
  if (performance.now() - lastStateSave > AUTOSAVE_STATE_MS) void autosaveState();
  else if (performance.now() - lastSave > 10_000) {
    lastSave = performance.now();
    void persistRun('training');
  }
}

/**
 * The sentence for a state of `bytes` at `step` that has no room: by the quota's estimate (`use`), or
 * refused by IndexedDB itself (`refused`: the browser's words; its estimate can be above what it allows).
 */
export function noRoomSentence(step: number, bytes: number | null, use: StorageUse | null, refused?: string): string {
  const size = bytes === null ? '' : t('storage.noRoomSize', { size: fmtSize(bytes) });
  const why = refused ? t('storage.noRoomRefused', { detail: refused }) : use ? t('storage.noRoomLeft', { left: fmtSize(Math.max(0, use.quota - use.usage)), quota: fmtSize(use.quota) }) : '';
  return t('storage.noRoom', { step, size, why });
}

/** The notice's sentence for a state IndexedDB refused (a full quota reads like one foreseen). */
function stateRefused(step: number, bytes: number, e: StorageError): string {
  return e.kind === 'quota' ? noRoomSentence(step, bytes, null, e.detail) : t('storage.stateFailed', { step, size: fmtSize(bytes), error: message(e) });
}

async function autosaveState(): Promise<void> {
  const s = get();
  if (!s.client || s.run.phase !== 'training') return;
  lastStateSave = performance.now();
  // a state known not to fit is not read back from the GPU for nothing (a large model's state is GBs)
  const prev = s.runs.find((r) => r.id === s.run.id);
  const known = prev?.hasState ? prev.stateBytes : (heldState()?.state.byteLength ?? s.unsaved?.bytes ?? null);
  if (known) {
    const use = await storageUse();
    if (!fits(use, known, prev?.hasState ? prev.stateBytes : 0)) {
      held = null; // an older held state is not this step's: "Download the state" asks the worker for the current one
      patch({ unsaved: { step: s.run.step, bytes: known, message: noRoomSentence(s.run.step, known, use) } });
      void persistRun('training');
      return;
    }
  }
  try {
    const state = await s.client.call({ type: 'saveState' });
    if (state && get().run.phase === 'training') await persistRun('training', state);
  } catch (e) {
    patch({ storageError: say('storage.autosaveFailed', { error: message(e) }) });
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
    stateStep: prev?.stateStep,
    error: s.run.error,
  };
}

/** The current run as a record (for a state file when IndexedDB holds none). */
export const currentRunRecord = (status: RunStatus): RunRecord | null => runRecord(status);

/**
 * Saves the current run's record, and `state` when the quota has room for it. A state that does not fit
 * or fails to be written is kept in memory and offered as a download, with a sentence saying why.
 */
export async function persistRun(status: RunRecord['status'], state?: Uint8Array | null): Promise<void> {
  const r = runRecord(status);
  if (!r) return;
  const prev = get().runs.find((x) => x.id === r.id);
  try {
    const out = await saveRun(r, state, prev);
    if (out.state === 'saved') {
      held = null;
      patch({ unsaved: null, storageError: null });
    } else if ((out.state === 'no-room' || out.state === 'refused') && state) {
      held = { runId: r.id, step: r.step, state };
      patch({ unsaved: { step: r.step, bytes: state.byteLength, message: out.refusal ? stateRefused(r.step, state.byteLength, out.refusal) : noRoomSentence(r.step, state.byteLength, out.use) }, storageError: null });
    } else patch({ storageError: null });
  } catch (e) {
    const err = storageSentence(e, 'save-run');
    if (state) {
      // the record that names the state was not written, so the state is not kept either way
      held = { runId: r.id, step: r.step, state };
      patch({ unsaved: { step: r.step, bytes: state.byteLength, message: stateRefused(r.step, state.byteLength, err) } });
    }
    await refreshRuns();
    patch({ storageError: message(err) }); // the save's failure, not the listing's that likely follows
    return;
  }
  await refreshRuns();
}

/**
 * Saves the run as it ends: a pause or finish hands its state over; a stop or an error asks the worker
 * for the state it still holds (unless the saved one is already of this step).
 */
export async function saveRunEnd(end: RunStatus, state: Uint8Array | null): Promise<void> {
  const s = get();
  const prev = s.runs.find((r) => r.id === s.run.id);
  if (!state && (end === 'stopped' || end === 'error') && s.client && !(prev?.hasState && prev.stateStep === s.run.step)) {
    try {
      state = await s.client.call({ type: 'saveState' });
    } catch {
      state = null; // after a lost device the worker keeps its last saved state (the fault notice offers it)
    }
  }
  await persistRun(end, state);
}

export async function refreshRuns(): Promise<void> {
  const storage = await storageUse();
  try {
    patch({ runs: await listRuns(), storage });
  } catch (e) {
    patch({ storage, storageError: message(storageSentence(e, 'list-runs')) });
  }
}

export async function removeRun(id: string): Promise<void> {
  try {
    await deleteRun(id);
  } catch (e) {
    patch({ storageError: message(storageSentence(e, 'delete-run')) });
    return;
  }
  patch((s) => ({ compare: s.compare.filter((x) => x !== id) }));
  await refreshRuns();
}

export function toggleCompare(id: string): void {
  patch((s) => ({ compare: s.compare.includes(id) ? s.compare.filter((x) => x !== id) : [...s.compare, id] }));
}

/**
 * Why closing or reloading the tab now would lose work (the page then asks first), or null: a run is
 * starting or training, or its last state is held only in memory.
 */
export function leaveWarning(s: State): string | null {
  const ph = s.run.phase;
  if (ph === 'starting' || ph === 'training' || ph === 'pausing') return t('storage.leaveTraining');
  if (s.unsaved && !s.unsaved.downloaded) return t('storage.leaveUnsaved');
  return null;
}
