// A run's state as a file: downloaded when the browser's storage cannot keep it, and loaded back to
// continue the run from its step (src/ui/state-file.ts holds the format).
import { readStateFile, stateFileBlob, stateFileName } from '../state-file';
import type { RunRecord } from '../runs';
import { saveBlob, slug } from './export';
import { currentRunRecord, heldState } from './persistence';
import { continueRun } from './run-control';
import { t } from '../i18n';
import { get, message, patch, say } from './state';

/** Downloads the current run's state: the one storage could not take, or the worker's current one. */
export async function downloadState(): Promise<void> {
  const s = get();
  const r = currentRunRecord(s.run.phase === 'paused' || s.run.phase === 'finished' || s.run.phase === 'stopped' || s.run.phase === 'error' ? s.run.phase : 'training');
  if (!r) {
    patch({ statusLine: say('status.noStateToDownload') });
    return;
  }
  try {
    const h = heldState();
    const state = h?.state ?? (await s.client?.call({ type: 'saveState' }));
    if (!state) throw new Error('the worker holds no trained state');
    const step = h?.step ?? s.run.step;
    saveBlob(stateFileName(slug(r.name), step), stateFileBlob({ ...r, step, hasState: true, stateBytes: state.byteLength, stateStep: step }, state));
    patch((x) => ({ unsaved: x.unsaved && { ...x.unsaved, downloaded: true }, statusLine: say('status.stateDownloaded', { step }) }));
  } catch (e) {
    patch({ statusLine: say('status.stateDownloadFailed', { error: message(e) }) });
  }
}

/**
 * Continues a run from a downloaded state file. A model or dataset from the Hub or a URL is loaded
 * again; one picked from disk must be loaded first (the file names it) and is read again from its files.
 */
export async function loadStateFile(file: File): Promise<void> {
  let run, state;
  try {
    ({ run, state } = await readStateFile(file));
  } catch (e) {
    patch({ statusLine: message(e) });
    return;
  }
  const s = get();
  const model = run.model.spec ?? (s.model.status === 'ready' && s.model.info?.label === run.model.label ? s.model.spec : undefined);
  if (!model) {
    patch({ statusLine: say('status.stateNeedsModel', { label: run.model.label }) });
    return;
  }
  const dataset = run.dataset.spec ?? (s.dataset.status === 'ready' && s.dataset.info?.label === run.dataset.label ? s.dataset.spec : undefined);
  if (!dataset) {
    patch({ statusLine: say('status.stateNeedsDataset', { label: run.dataset.label }) });
    return;
  }
  const record: RunRecord = { ...run, model: { label: run.model.label, spec: model }, dataset: { label: run.dataset.label, spec: dataset, split: run.dataset.split } };
  await continueRun(record, state);
}
