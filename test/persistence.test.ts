// Never lose a run, page side: the .dpostate file round-trips a run and its trainer state byte for byte
// and refuses a cut-short or foreign file with a sentence; the quota decision; IndexedDB failures are
// sentences. Node has no IndexedDB at all, so the "unavailable" case below is the real fault (as in a
// browser that blocks site storage), met through the page's own store actions.
import { describe, expect, it } from 'vitest';
import { fits, fmtSize, listRuns, loadState, saveRun, storageSentence, StorageError, type RunRecord } from '../src/ui/runs';
import { readStateFile, stateFileBlob, StateFileError } from '../src/ui/state-file';
import { pageDefaultArgs } from '../src/ui/params';
import { leaveWarning, noRoomSentence, persistRun, refreshRuns, removeRun } from '../src/ui/store/persistence';
import { initialState, storeApi } from '../src/ui/store/state';

const record = (over: Partial<RunRecord> = {}): RunRecord => ({
  id: 'r1',
  name: 'tiny · beta 0.1',
  createdAt: 1,
  updatedAt: 2,
  status: 'paused',
  model: { label: 'demo', spec: { kind: 'url', baseUrl: 'http://x/demo/model/', label: 'demo' } },
  dataset: { label: 'pairs', spec: { kind: 'url', url: 'http://x/demo/train.jsonl', label: 'pairs' }, split: { evalFraction: 0.1, seed: 42, maxEval: 64 } },
  args: { ...pageDefaultArgs, beta: 0.25 },
  sftSteps: 0,
  step: 7,
  totalSteps: 20,
  history: Array.from({ length: 7 }, (_, i) => ({ step: i + 1, epoch: 0, loss: 0.69 - 0.01 * i })),
  evalHistory: [],
  lastPairs: [],
  hasState: false,
  stateBytes: 0,
  ...over,
});

// a state with every byte value, so any shift or cut shows
const state = Uint8Array.from({ length: 70_001 }, (_, i) => (i * 31 + 7) & 255);
const asFile = (b: Blob, name = 'run-step7.dpostate') => new File([b], name);

describe('state file (.dpostate)', () => {
  it('round-trips the run record and the trainer state byte for byte', async () => {
    const { run, state: back } = await readStateFile(asFile(stateFileBlob(record(), state)));
    expect(back).toEqual(state);
    expect(run.step).toBe(7);
    expect(run.args.beta).toBe(0.25);
    expect(run.history.map((h) => h.step)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(run.model.spec).toEqual({ kind: 'url', baseUrl: 'http://x/demo/model/', label: 'demo' });
  });

  it('names a model or dataset picked from disk instead of embedding it', async () => {
    const r = record({ model: { label: 'my files', spec: { kind: 'files', files: [new File(['{}'], 'config.json')] } }, dataset: { label: 'p.jsonl', spec: { kind: 'bytes', name: 'p.jsonl', bytes: new Uint8Array(5) }, split: record().dataset.split } });
    const { run } = await readStateFile(asFile(stateFileBlob(r, state)));
    expect(run.model).toEqual({ label: 'my files', spec: null });
    expect(run.dataset.spec).toBeNull();
  });

  it('refuses a cut-short file with the bytes it holds, and a file that is not a state', async () => {
    const whole = new Uint8Array(await stateFileBlob(record(), state).arrayBuffer());
    const cut = asFile(new Blob([whole.subarray(0, whole.byteLength - 1000)]));
    await expect(readStateFile(cut)).rejects.toThrow(new StateFileError('"run-step7.dpostate" is cut short: it holds 69001 of the 70001 bytes of the trainer state.', 'statefile.cut-state', { file: ' "run-step7.dpostate"', have: 69001, need: 70001 }));
    await expect(readStateFile(asFile(new Blob([whole.subarray(0, 40)])))).rejects.toThrow(/is cut short: its run record needs \d+ bytes, the file has 24\./);
    await expect(readStateFile(asFile(new Blob(['{"not": "a state"}']), 'x.json'))).rejects.toThrow('"x.json" is not a run state saved by this page (a .dpostate file from "Download the state").');
  });
});

describe('storage quota and IndexedDB failures', () => {
  it('writes a state only when the quota has room for it beside what it replaces', () => {
    const use = { usage: 10 * 2 ** 20, quota: 11 * 2 ** 20 };
    expect(fits(use, 512 * 1024)).toBe(true);
    expect(fits(use, 900 * 1024)).toBe(false); // 256 KiB headroom is kept
    expect(fits(use, 900 * 1024, 600 * 1024)).toBe(true); // it replaces this run's older state
    expect(fits(null, 2 ** 40)).toBe(true); // no estimate: the write itself decides
    expect(fmtSize(498.4 * 1024)).toBe('498.4 KiB');
    expect(noRoomSentence(9, 510_362, { usage: 2 ** 20, quota: 1.25 * 2 ** 20 })).toBe(
      "The run's state at step 9 (498.4 KiB) does not fit in this browser's storage for the page (256.0 KiB left of 1.3 MiB), so it is not saved here. Download the state to keep the run: loading that file back continues from step 9.",
    );
  });

  it('turns the browser\'s errors into sentences by kind', () => {
    const quota = storageSentence(new DOMException('', 'QuotaExceededError'), 'save-run');
    expect(quota.kind).toBe('quota');
    expect(quota.message).toBe("The browser's storage for this page is full, so saving the run failed (QuotaExceededError). Delete saved runs you no longer need, or download the state to keep this run.");
    const tx = storageSentence(new DOMException('The transaction was aborted.', 'AbortError'), 'save-run');
    expect(tx.kind).toBe('failed');
    expect(tx.message).toBe("The browser's IndexedDB refused saving the run (AbortError: The transaction was aborted.). Download the state to keep this run.");
  });

  it('without IndexedDB (Node has none) every action fails with a sentence, not silently', async () => {
    expect(typeof indexedDB).toBe('undefined');
    const unavailable = "This browser does not let the page use IndexedDB (a private window, or site storage blocked), so listing the saved runs failed and runs are not kept after a reload (ReferenceError: indexedDB is not defined). Download the state to keep a run.";
    await expect(listRuns()).rejects.toThrow(unavailable);
    await expect(listRuns()).rejects.toBeInstanceOf(StorageError);
    await expect(saveRun(record())).rejects.toThrow(/so saving the run failed/);
    await expect(loadState('r1')).rejects.toThrow(/so reading the saved state failed/);
  });
});

describe('the page store when storage fails', () => {
  const reset = () => storeApi.setState(initialState(), true);

  it('shows the sentence for listing, deleting and saving, and holds a state it could not save', async () => {
    reset();
    await refreshRuns();
    expect(storeApi.getState().storageError).toMatch(/^This browser does not let the page use IndexedDB .* so listing the saved runs failed/);
    await removeRun('r1');
    expect(storeApi.getState().storageError).toMatch(/so deleting the run failed/);

    const r = record();
    storeApi.setState({ run: { ...initialState().run, id: r.id, phase: 'paused', step: 7, totalSteps: 20 }, model: { status: 'ready', spec: r.model.spec }, dataset: { status: 'ready', spec: r.dataset.spec }, history: r.history });
    expect(leaveWarning(storeApi.getState())).toBeNull(); // paused, nothing held yet
    await persistRun('paused', state);
    const s = storeApi.getState();
    expect(s.storageError).toMatch(/so saving the run failed and runs are not kept after a reload/);
    expect(s.unsaved).toMatchObject({ step: 7, bytes: 70_001 });
    expect(s.unsaved?.message).toMatch(/^The run's state at step 7 \(68\.4 KiB\) could not be saved in this browser: This browser does not let the page use IndexedDB/);
    // leaving now would lose it: the page asks first, until it is downloaded
    expect(leaveWarning(s)).toBe('The run state is not saved in this browser: download it before leaving.');
    storeApi.setState({ unsaved: { ...s.unsaved!, downloaded: true } });
    expect(leaveWarning(storeApi.getState())).toBeNull();
    for (const phase of ['starting', 'training', 'pausing'] as const) {
      storeApi.setState((x) => ({ run: { ...x.run, phase } }));
      expect(leaveWarning(storeApi.getState()), phase).toBe('A run is training: leaving the page ends it.');
    }
    reset();
  });
});
