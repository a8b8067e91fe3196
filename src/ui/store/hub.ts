// The Hub part of the page's state: the access token (memory only: never saved, never in a spec or an
// export), the plan of the repo the user is looking at (size and memory estimate before any weight is
// fetched, and the settings that would fit), and per-file download progress with time left.
import { createStore, useStore as useZustand, type StoreApi } from 'zustand';
import type { HubModelPlan, TrainerArgs, WorkerEvent } from '../../worker/protocol';
import type { FitOption } from '../../worker/memory';
import { setArg, setLoraField } from './args';
import { loadModel } from './loading';
import { client, get, message } from './state';

export interface HubFileProgress {
  file: string;
  fileIndex: number;
  fileCount: number;
  loaded: number;
  total: number | null;
  bytesPerSec: number;
  etaSec: number | null;
  resumedFrom: number;
}

export interface HubState {
  token: string;
  plan: { status: 'idle' | 'checking' | 'ready' | 'error'; key?: string; plan?: HubModelPlan; error?: string };
  files: Record<string, HubFileProgress>;
  /** When the last Hub model download began (ms since the epoch), for "download to first step". */
  downloadStartedAt: number | null;
}

/** The store itself (vanilla zustand), so tests can render from any state. */
export const hubApi: StoreApi<HubState> = createStore<HubState>()(() => ({ token: '', plan: { status: 'idle' }, files: {}, downloadStartedAt: null }));

/** useHub(selector) in components; useHub.getState / setState elsewhere (server rendering reads hubApi.getInitialState). */
export const useHub = Object.assign(<T,>(selector: (s: HubState) => T): T => useZustand(hubApi, selector), {
  getState: hubApi.getState,
  setState: hubApi.setState,
});

/** Worker events: per-file progress of Hub downloads. */
export function onHubEvent(e: WorkerEvent): void {
  if (e.type !== 'download' || e.what !== 'model' || e.fileCount === undefined) return;
  const p: HubFileProgress = { file: e.file, fileIndex: e.fileIndex ?? 1, fileCount: e.fileCount, loaded: e.loaded, total: e.total, bytesPerSec: e.bytesPerSec ?? 0, etaSec: e.etaSec ?? null, resumedFrom: e.resumedFrom ?? 0 };
  useHub.setState((s) => ({ files: { ...s.files, [e.file]: p } }));
}

/** Keeps the token for this page session and hands it to the worker (sent as Authorization: Bearer). */
export async function setHubToken(token: string): Promise<void> {
  useHub.setState({ token });
  await client().call({ type: 'setHubToken', token: token.trim() || null });
}

const keyOf = (repo: string, revision: string) => `${get().hubUrl}|${repo.trim()}|${revision.trim() || 'main'}`;

/** Reads config.json, the index and the headers: size, estimate with the current settings, what fits. */
export async function checkHubModel(repo: string, revision: string): Promise<HubModelPlan | null> {
  const key = keyOf(repo, revision);
  useHub.setState({ plan: { status: 'checking', key } });
  try {
    const plan = await client().call({ type: 'planHub', spec: { kind: 'hub', hubUrl: get().hubUrl, repo, revision }, args: get().args });
    if (useHub.getState().plan.key === key) useHub.setState({ plan: { status: 'ready', key, plan } });
    return plan;
  } catch (e) {
    if (useHub.getState().plan.key === key) useHub.setState({ plan: { status: 'error', key, error: message(e) } });
    return null;
  }
}

/** Sets the form to a fitting option's settings (through the same setters as typing them). */
export function applyFit(o: FitOption): void {
  const p = o.patch;
  if (p.lora) {
    setLoraField('enabled', true);
    setLoraField('r', String(p.lora.r));
    setLoraField('lora_alpha', String(p.lora.lora_alpha));
    setLoraField('target_modules', Array.isArray(p.lora.target_modules) ? p.lora.target_modules.join(',') : p.lora.target_modules);
  }
  for (const [k, v] of Object.entries(p) as [keyof TrainerArgs, unknown][]) {
    if (k === 'lora') continue;
    setArg(k, typeof v === 'boolean' ? v : String(v));
  }
}

/** Plans (refused models stop here), then downloads and loads the model. */
export async function loadHubModel(repo: string, revision: string): Promise<boolean> {
  useHub.setState({ files: {}, downloadStartedAt: Date.now() });
  return loadModel({ kind: 'hub', hubUrl: get().hubUrl, repo: repo.trim(), revision: revision.trim() || 'main', args: get().args });
}
