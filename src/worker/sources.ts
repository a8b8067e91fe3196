// Where model files come from: a folder served over HTTP (the built-in demo), a Hugging Face Hub repo
// (`${hubUrl}/${repo}/resolve/${revision}/${path}`, cached in Cache Storage so a reload does not download
// again), or files the user picked from disk. Each is a FileSource for loadCheckpoint.
import type { FileSource } from '../model/weights';
import { checkRef, type HubRef } from './hub';
import { cacheStorageStore, downloadHubFile, type ByteStore, type FileProgress } from './hub-download';
import type { HubModelPlan } from './hub-plan';

/** `code` (source.<case>) and `params`: the page says it in its language (src/ui/i18n/errors.ts). */
export class ModelSourceError extends Error {
  override name = 'ModelSourceError';
  constructor(
    message: string,
    readonly code?: string,
    readonly params?: Record<string, string | number>,
  ) {
    super(message);
  }
}

export type DownloadProgress = (file: string, loaded: number, total: number | null) => void;

async function readBody(res: Response, file: string, onProgress?: DownloadProgress): Promise<Uint8Array> {
  const lenHeader = res.headers.get('content-length');
  const total = lenHeader ? Number(lenHeader) : null;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  let lastReport = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    const now = Date.now();
    if (onProgress && now - lastReport > 100) {
      lastReport = now;
      onProgress(file, loaded, total);
    }
  }
  onProgress?.(file, loaded, total);
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(loaded);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Fetches `${base}${path}`; 404 means "no such file" (null). Other failures are sentences. */
async function fetchFile(url: string, path: string, what: string, onProgress?: DownloadProgress): Promise<Uint8Array | null> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ModelSourceError(`Could not reach ${url} (${(e as Error).message}). Check the address and your connection.`, 'source.unreachable', { url, detail: (e as Error).message });
  }
  if (res.status === 404) return null;
  if (!res.ok) throw new ModelSourceError(`${what} answered ${res.status} ${res.statusText} for ${path}.`, 'source.status', { what, status: `${res.status} ${res.statusText}`.trim(), path });
  // Vite's dev server answers unknown paths with index.html: that is "not found", not a model file.
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/html') && !path.endsWith('.html')) return null;
  return readBody(res, path, onProgress);
}

/** A folder served over HTTP; `baseUrl` ends with '/'. */
export function urlSource(baseUrl: string, onProgress?: DownloadProgress): FileSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return (path) => fetchFile(base + path, path, base, onProgress);
}

/**
 * A Hugging Face Hub repository (or anything that answers like one). Weight files go through
 * hub-download.ts (Cache Storage, resumable, per-file progress with time left); the small files too,
 * so a reload reads everything from the cache. `plan` (hub-plan.ts) gives the weight files' sizes and
 * ETags; without it sizes come from the responses.
 */
export function hubSource(ref: HubRef, opts: { plan?: HubModelPlan; onProgress?: (p: FileProgress) => void; store?: Promise<ByteStore | null> } = {}): FileSource {
  const r = checkRef(ref);
  const store = opts.store ?? cacheStorageStore();
  const weights = opts.plan?.files ?? [];
  return async (path) => {
    // weights the plan knows are not there are not asked for (and a .bin is never downloaded)
    if (path.endsWith('.bin') || (opts.plan && path.endsWith('.safetensors') && !weights.some((f) => f.path === path))) return null;
    const i = weights.findIndex((f) => f.path === path);
    const f = i >= 0 ? weights[i] : undefined;
    return downloadHubFile(r, path, {
      store: await store,
      onProgress: i >= 0 ? opts.onProgress : undefined, // per-file progress is for the weights
      fileIndex: i >= 0 ? i + 1 : 1,
      fileCount: i >= 0 ? weights.length : 1,
      bytes: f?.bytes ?? null,
      etag: f?.etag ?? null,
    });
  };
}

/** Files picked from disk (a folder or several files): matched by base name. */
export async function filesSource(files: readonly File[]): Promise<{ source: FileSource; names: string[] }> {
  const map = new Map<string, Uint8Array>();
  for (const f of files) {
    const name = f.name.split('/').pop()!;
    map.set(name, new Uint8Array(await f.arrayBuffer()));
  }
  return { source: async (path) => map.get(path) ?? null, names: [...map.keys()] };
}

/** Wraps a source to remember what it read (for the model card). */
export function recording(source: FileSource): { source: FileSource; read: Map<string, number> } {
  const read = new Map<string, number>();
  return {
    read,
    source: async (path) => {
      const b = await source(path);
      if (b) read.set(path, b.length);
      return b;
    },
  };
}
