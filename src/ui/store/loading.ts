// Loading: WebGPU and the worker at boot, the built-in demo's manifest, and the model and dataset.
import type { TrainerArgs } from '../../dpo/trainer';
import type { DatasetSpec, FrontierSpec, ModelSpec, SplitSpec, WorkerEvent } from '../../worker/protocol';
import { TrainClient } from '../client';
import { t } from '../i18n';
import { pageDefaultArgs } from '../params';
import { refreshEstimate } from './args';
import { refreshRuns } from './persistence';
import { onHubEvent } from './hub';
import { client, get, message, patch, say, type DemoFrontierSettings, type DemoManifest, type State } from './state';

/** True when the selected model is the built-in demo (the page then shows the demo's panels). */
export function demoSelected(s: State): boolean {
  const m = s.manifest;
  const spec = s.model.spec;
  if (!m?.frontier || !spec || spec.kind !== 'url') return false;
  const strip = (u: string) => u.replace(/\/+$/, '');
  return strip(spec.baseUrl) === strip(m.model);
}

/** The probe's settings for a run of the demo, or undefined when the demo is not selected. */
export function frontierSpec(s: State): FrontierSpec | undefined {
  const f = s.manifest?.frontier;
  if (!f || !demoSelected(s) || s.heldoutPrompts.length === 0) return undefined;
  return { prompts: s.heldoutPrompts.slice(0, f.prompts), everySteps: f.everySteps, samplesPerPrompt: f.samplesPerPrompt, maxNewTokens: f.maxNewTokens, temperature: f.temperature, seed: f.seed };
}

const TRAINER_ARG_KEYS = new Set(Object.keys(pageDefaultArgs));

/** The manifest's trainer arguments (`args`, or the build script's `recommended`), known keys only. */
export function manifestArgs(m: DemoManifest): Partial<TrainerArgs> {
  const src = (m.args ?? m.recommended ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(src).filter(([k]) => TRAINER_ARG_KEYS.has(k))) as Partial<TrainerArgs>;
}

/** recommended.frontier with defaults (16 prompts every 10 steps, 48 new tokens, temperature 1, seed 7). */
export function manifestFrontier(m: DemoManifest): DemoFrontierSettings | undefined {
  const f = m.recommended?.frontier;
  if (!f || typeof f !== 'object') return undefined;
  const int = (v: unknown, d: number) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : d);
  return {
    prompts: int(f.prompts, 16),
    everySteps: int(f.every_steps, 10),
    maxNewTokens: int(f.max_new_tokens, 48),
    temperature: typeof f.temperature === 'number' && f.temperature > 0 ? f.temperature : 1,
    seed: typeof f.seed === 'number' && Number.isInteger(f.seed) && f.seed >= 0 ? f.seed : 7,
    samplesPerPrompt: int(f.samples_per_prompt, 1),
  };
}

// ------------------------------------------------------------------ boot

function demoManifestUrl(): string {
  const q = new URLSearchParams(location.search).get('demo');
  return new URL(q ?? 'demo/manifest.json', document.baseURI).href;
}

async function fetchJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  if ((res.headers.get('content-type') ?? '').includes('text/html')) throw new Error(`${url} is missing`);
  return (await res.json()) as T;
}

/** Boots the page: starts the worker (its events go to `onEvent`), checks WebGPU, selects the built-in demo. */
export async function startPage(onEvent: (e: WorkerEvent) => void): Promise<void> {
  const hub = new URLSearchParams(location.search).get('hub');
  if (hub) patch({ hubUrl: hub });
  void refreshRuns();
  if (typeof navigator === 'undefined' || !('gpu' in navigator)) {
    patch({ gpu: { status: 'unavailable', error: say('nogpu.noApi') } });
    return;
  }
  const c = TrainClient.create();
  c.on(onEvent);
  c.on(onHubEvent);
  patch({ client: c });
  try {
    const info = await c.call({ type: 'init' });
    patch({ gpu: { status: 'ready', info } });
  } catch (e) {
    patch({ gpu: { status: 'unavailable', error: message(e) } });
    return;
  }
  // the built-in demo, selected from the start
  const manifestUrl = demoManifestUrl();
  try {
    const m = await fetchJson<DemoManifest>(manifestUrl);
    if (typeof m.model !== 'string' || typeof m.train !== 'string') throw new Error('it has no "model" and "train" entries');
    // paths in the manifest are relative to the page (e.g. "demo/model"), like the files in public/
    const abs = (p: string) => new URL(p, document.baseURI).href;
    const manifest: DemoManifest = { ...m, model: abs(m.model), train: abs(m.train), eval: m.eval ? abs(m.eval) : undefined, prompts: m.prompts ? abs(m.prompts) : undefined, frontier: manifestFrontier(m) };
    patch((s) => ({ manifest, args: { ...s.args, ...manifestArgs(m) }, sftSteps: m.sftSteps ?? 0 }));
    if (manifest.prompts) {
      fetchJson<unknown>(manifest.prompts)
        .then((p) => Array.isArray(p) && patch({ heldoutPrompts: p.filter((x): x is string => typeof x === 'string').slice(0, 64) }))
        .catch(() => undefined);
    }
    await loadDemo();
  } catch (e) {
    patch({
      manifestError: say('demo.missing', { path: manifestUrl.replace(location.origin, ''), error: message(e) }),
    });
  }
}

// ------------------------------------------------------------------ model and dataset

export async function loadModel(spec: ModelSpec): Promise<boolean> {
  patch({ model: { status: 'loading', spec }, estimate: null, samples: [] });
  try {
    const info = await client().call({ type: 'loadModel', spec });
    patch({ model: { status: 'ready', info, spec } });
    if (get().dataset.status === 'ready' && get().dataset.spec) await loadDataset(get().dataset.spec!);
    else void refreshEstimate();
    return true;
  } catch (e) {
    patch((s) => ({ model: { status: 'error', error: message(e), spec: s.model.spec } }));
    return false;
  }
}

export async function loadDataset(spec: DatasetSpec): Promise<boolean> {
  patch({ dataset: { status: 'loading', spec } });
  try {
    const info = await client().call({ type: 'loadDataset', spec, split: get().split, maxLength: get().args.max_length });
    patch({ dataset: { status: 'ready', info, spec } });
    void refreshEstimate();
    return true;
  } catch (e) {
    patch({ dataset: { status: 'error', error: message(e), spec } });
    return false;
  }
}

export async function loadDemo(): Promise<void> {
  const m = get().manifest;
  if (!m) return;
  const ok = await loadModel({ kind: 'url', baseUrl: m.model.endsWith('/') ? m.model : `${m.model}/`, label: m.name ?? 'built-in demo' });
  if (ok) await loadDataset({ kind: 'url', url: m.train, evalUrl: m.eval, label: m.name ? `${m.name} pairs` : 'built-in demo pairs' });
}

export function setHubUrl(hubUrl: string): void {
  patch({ hubUrl });
}

export function setSplit(p: Partial<SplitSpec>): void {
  patch((s) => ({ split: { ...s.split, ...p } }));
}
