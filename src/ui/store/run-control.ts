// Run control: start, pause, stop, resume (also a saved run after a reload), continue after a GPU
// fault, and the worker's events while a run trains.
import type { TrainerArgs } from '../../dpo/trainer';
import type { FrontierMeasurement, RunEnd, WorkerEvent } from '../../worker/protocol';
import { i18n, t } from '../i18n';
import { refusalSentence } from '../i18n/errors';
import { newRunId, loadState, storageSentence, type RunRecord } from '../runs';
import { frontierSpec, loadDataset, loadModel } from './loading';
import { methodName } from './method-name';
import { autosaveTick, persistRun, resetAutosaveClock, saveRunEnd } from './persistence';
import { client, get, message, patch, say, type FrontierRun, type RunPhase, type State } from './state';

// ------------------------------------------------------------------ worker events

/** The status line while a run starts, in the page's language (compared to know it is still the start's). */
/** The last status line said here, to say it again when the language changes (it is kept as text). */
let lastLine: { key: string; params?: Record<string, string | number>; text: string } | null = null;
const line = (key: string, params?: Record<string, string | number>): string => {
  lastLine = { key, params, text: t(key, params) };
  return lastLine.text;
};
i18n.on('languageChanged', () => {
  if (!lastLine || get().statusLine !== lastLine.text) return;
  patch({ statusLine: line(lastLine.key, lastLine.params) });
});
const startingLine = () => (lastLine?.key === 'status.starting' ? lastLine.text : t('status.starting'));

export function onEvent(e: WorkerEvent): void {
  switch (e.type) {
    case 'logs':
      patch((s) => ({ history: [...s.history, ...e.records] }));
      autosaveTick();
      break;
    case 'eval':
      patch((s) => ({ evalHistory: [...s.evalHistory, e.metrics], pairs: e.pairs, pairsBeta: s.args.beta }));
      break;
    case 'progress':
      patch((s) => ({
        // the page's own "Starting: ..." line ends with the start (the worker's lines stay)
        statusLine: s.run.phase === 'starting' && s.statusLine === startingLine() ? '' : s.statusLine,
        run: {
          ...s.run,
          // the first step's progress ends 'starting' (a pause or stop asked meanwhile stays 'pausing')
          phase: s.run.phase === 'starting' ? 'training' : s.run.phase,
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
    case 'fault': {
      // the run goes back to the worker's saved state: what was charted after it is void
      const at = e.savedStep;
      patch((s) => {
        const upTo = <T extends { step: number }>(xs: T[]) => (at === null ? xs : xs.filter((x) => x.step <= at));
        const id = s.run.id ?? 'run';
        return {
          fault: { kind: e.kind, message: e.message, savedStep: at, ...(e.params ? { params: e.params } : {}) },
          history: upTo(s.history),
          evalHistory: upTo(s.evalHistory),
          frontierRuns: s.frontierRuns.map((r) => (r.id === id ? { ...r, points: upTo(r.points) } : r)),
          run: { ...s.run, step: at ?? s.run.step },
        };
      });
      break;
    }
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

// the method by name (a KTO run is not 'sigmoid'), DPO's by its loss_type
export const frontierLabel = (a: TrainerArgs, n: number) => `#${n + 1} beta ${a.beta} ${methodName(a)}`;

// ------------------------------------------------------------------ runs

function endRun(end: RunEnd, step: number, state: Uint8Array | null): void {
  const phase: RunPhase = end;
  patch((s) => ({ run: { ...s.run, phase, step }, statusLine: line(end === 'paused' ? 'status.paused' : end === 'finished' ? 'status.finished' : 'status.stopped', { step }) }));
  void saveRunEnd(end, state);
}

function failRun(e: unknown): void {
  const msg = message(e);
  patch((s) => ({ run: { ...s.run, phase: 'error', error: msg }, statusLine: msg }));
  void saveRunEnd('error', null);
}

export function canTrain(s: State): string | null {
  if (s.gpu.status !== 'ready') return t('status.noGpu');
  if (s.model.status !== 'ready') return t('status.noModel');
  if (s.dataset.status !== 'ready') return t('status.noDataset');
  if (Object.keys(s.argErrors).length) return t('status.fixArgs', { error: Object.values(s.argErrors)[0] });
  if (s.estimate?.refusal) return refusalSentence(s.estimate);
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
  resetAutosaveClock();
  patch({
    run: { id, phase: 'starting', trainPhase: 'dpo', step: 0, totalSteps: 0, tokensPerSec: 0, elapsedSec: 0, startStep: 0 },
    history: [],
    evalHistory: [],
    pairs: [],
    selectedPair: null,
    samples: [],
    fault: null,
    statusLine: line('status.starting'),
  });
  const frontier = frontierSpec(get());
  // the start request goes first, so a pause or stop pressed while starting reaches the worker after it
  await runWith(() => {
    const run = client().call({ type: 'start', options: { args: get().args, sftSteps: get().sftSteps, frontier } });
    void persistRun('training');
    return run;
  });
}

async function runWith(call: () => Promise<{ end: RunEnd; step: number; state: Uint8Array | null }>): Promise<void> {
  // a new run stays 'starting' (weights copied, reference log-probs, SFT) until its first progress
  patch((s) => ({ run: { ...s.run, phase: s.run.phase === 'starting' ? 'starting' : 'training' } }));
  try {
    const r = await call();
    endRun(r.end, r.step, r.state);
  } catch (e) {
    failRun(e);
  }
}

export function pause(): void {
  const ph = get().run.phase;
  if (ph !== 'training' && ph !== 'starting') return;
  patch((s) => ({ run: { ...s.run, phase: 'pausing' }, statusLine: line('status.pausing') }));
  void client().call({ type: 'pause' });
}

export function stop(): void {
  const ph = get().run.phase;
  if (ph !== 'training' && ph !== 'starting' && ph !== 'pausing' && ph !== 'paused') return;
  if (ph === 'paused') {
    void client().call({ type: 'stop' });
    endRun('stopped', get().run.step, null);
    return;
  }
  patch((s) => ({ run: { ...s.run, phase: 'pausing' }, statusLine: line('status.stopping') }));
  void client().call({ type: 'stop' });
}

export async function resume(): Promise<void> {
  if (get().run.phase !== 'paused') return;
  patch((s) => ({ run: { ...s.run, startStep: s.run.step, elapsedSec: 0 }, statusLine: line('status.resuming', { step: s.run.step }) }));
  await runWith(() => client().call({ type: 'resume' }));
}

/** Continues a run saved in IndexedDB (after a reload): reloads its model and data, then its state. */
export async function resumeSaved(id: string): Promise<void> {
  const r = get().runs.find((x) => x.id === id);
  if (!r) return;
  const busy = get().run.phase;
  if (busy === 'training' || busy === 'pausing' || busy === 'starting') {
    patch({ statusLine: say('status.stopFirst') });
    return;
  }
  let state: Uint8Array | undefined;
  try {
    state = r.hasState ? await loadState(id) : undefined;
  } catch (e) {
    patch({ statusLine: message(storageSentence(e, 'read-state')) });
    return;
  }
  if (!state) {
    patch({ statusLine: say('status.noSavedState', { name: r.name }) });
    return;
  }
  await continueRun(r, state);
}

/** Continues `r` from its saved `state` (IndexedDB or a state file): reloads its model and data, then trains on. */
export async function continueRun(r: RunRecord, state: Uint8Array): Promise<void> {
  const busy = get().run.phase;
  if (busy === 'training' || busy === 'pausing' || busy === 'starting') {
    patch({ statusLine: say('status.stopFirst') });
    return;
  }
  // a state older than the record (a later one did not fit) continues from its own step
  const at = r.stateStep ?? r.step;
  const upTo = (h: RunRecord['history']) => h.filter((x) => x.step <= at);
  r = { ...r, step: at, history: upTo(r.history), evalHistory: upTo(r.evalHistory), frontier: r.frontier?.filter((p) => p.step <= at) };
  resetAutosaveClock();
  patch({ split: r.dataset.split, args: r.args, sftSteps: r.sftSteps, argErrors: {}, argText: {}, statusLine: say('status.reloading', { name: r.name }) });
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
    fault: null,
    frontierRuns: r.frontier?.length && !get().frontierRuns.some((f) => f.id === r.id) ? [...get().frontierRuns, { id: r.id, label: frontierLabel(r.args, get().frontierRuns.length), beta: r.args.beta, lossType: r.args.loss_type, points: r.frontier }] : get().frontierRuns,
  });
  const frontier = frontierSpec(get());
  await runWith(() => client().call({ type: 'start', options: { args: r.args, sftSteps: r.sftSteps, state, frontier } }));
}

/** After a GPU fault: the worker rebuilds the run from its saved state (on a new device) and trains on. */
export async function continueAfterFault(): Promise<void> {
  const f = get().fault;
  if (!f || f.savedStep === null) return;
  const ph = get().run.phase;
  if (ph === 'training' || ph === 'pausing' || ph === 'starting') return;
  const at = f.savedStep;
  resetAutosaveClock();
  patch((s) => ({ fault: null, run: { ...s.run, phase: 'starting', step: at, startStep: at, elapsedSec: 0, error: undefined }, statusLine: line('status.continuing', { step: at }) }));
  await runWith(() => client().call({ type: 'continue' }));
}
