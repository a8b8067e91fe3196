// Export: the trained model + TRL script zip, and the metric history files (this run's or a saved run's).
import { strToU8, zipSync } from 'fflate';
import { historyCsv, historyJsonl } from '../history';
import { currentLanguage } from '../i18n';
import type { RunRecord } from '../runs';
import { client, get, message, patch } from './state';

/** Hands a blob to the browser as a downloaded file called `name` (the URL lives a minute: big states save slowly). */
export function saveBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Hands `data` to the browser as a downloaded file called `name`. */
export function download(name: string, data: Uint8Array | string, type: string): void {
  saveBlob(name, new Blob([typeof data === 'string' ? data : (data as Uint8Array<ArrayBuffer>)], { type }));
}

export const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'run';

/** The trained model, TRL script, pairs and metric history in one zip. */
export async function exportRun(): Promise<void> {
  const s = get();
  patch({ exporting: true, exportError: null });
  try {
    const extra = { 'metrics.jsonl': historyJsonl([...s.history, ...s.evalHistory].sort((a, b) => a.step - b.step)), 'metrics.csv': historyCsv(s.history), 'eval_metrics.csv': historyCsv(s.evalHistory) };
    const r = await client().call({ type: 'export', extra, language: currentLanguage() });
    download(`dpo-${slug(s.model.info?.label ?? 'model')}-step${s.run.step}.zip`, r.zip, 'application/zip');
    patch({ exporting: false });
  } catch (e) {
    patch({ exporting: false, exportError: message(e) });
  }
}

export function exportMetrics(kind: 'csv' | 'jsonl'): void {
  const s = get();
  if (kind === 'csv') download('metrics.csv', historyCsv(s.history), 'text/csv');
  else download('metrics.jsonl', historyJsonl([...s.history, ...s.evalHistory].sort((a, b) => a.step - b.step)), 'application/x-ndjson');
}

/** Metric histories of saved runs, zipped (for comparing outside the page). */
export function exportSavedRun(r: RunRecord): void {
  download(`${slug(r.name)}-metrics.zip`, zipSync({ 'metrics.csv': strToU8(historyCsv(r.history)), 'metrics.jsonl': strToU8(historyJsonl(r.history)), 'args.json': strToU8(JSON.stringify(r.args, null, 2)) }), 'application/zip');
}
