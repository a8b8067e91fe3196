// The page's state (zustand) and the actions that talk to the training worker, one concern per file:
// state.ts (the State type, the store), loading.ts (boot, demo manifest, model and dataset), args.ts
// (hyperparameters), run-control.ts (start/pause/stop/resume, worker events), persistence.ts (saved
// runs, storage quota), state-download.ts (a run state as a file), export.ts (zip, metric files),
// inspect.ts (samples, eval), sweep.ts (the demo's beta sweep).
// Components import from here (`../store`).
import { startPage } from './loading';
import { onEvent } from './run-control';

export { DEFAULT_HUB, storeApi, useStore } from './state';
export type { DemoFrontierSettings, DemoManifest, FrontierRun, LoadStatus, ManifestFrontier, RunFault, RunPhase, State, SweepState, UnsavedState } from './state';
export { demoSelected, frontierSpec, loadDataset, loadDemo, loadModel, manifestArgs, manifestFrontier, setHubUrl, setSplit } from './loading';
export { refreshEstimate, setArg, setLoraField, setSftSteps } from './args';
export { addFrontierPoint, canTrain, continueAfterFault, continueRun, frontierLabel, pause, resume, resumeSaved, stop, train } from './run-control';
export { leaveWarning, refreshRuns, removeRun, toggleCompare } from './persistence';
export { downloadState, loadStateFile } from './state-download';
export { exportMetrics, exportRun, exportSavedRun } from './export';
export { evaluateNow, sample, selectPair } from './inspect';
export { betaSweep, cancelSweep, clearFrontier, parseBetas } from './sweep';

/** Boots the page: the worker (its events handled by run control), WebGPU, the built-in demo. */
export function boot(): Promise<void> {
  return startPage(onEvent);
}
