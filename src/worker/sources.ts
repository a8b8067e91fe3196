// Where model files come from: a folder served over HTTP (the built-in demo), a Hugging Face Hub repo
// (`${hubUrl}/${repo}/resolve/${revision}/${path}`, cached in Cache Storage so a reload does not download
// again), or files the user picked from disk. Each is a FileSource for loadCheckpoint.
import type { FileSource } from '../model/weights';

export class ModelSourceError extends Error {
  override name = 'ModelSourceError';
}

export type DownloadProgress = (file: string, loaded: number, total: number | null) => void;

const HUB_CACHE = 'dpo-playground-hub-v1';

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

async function openCache(): Promise<Cache | null> {
  try {
    return typeof caches !== 'undefined' ? await caches.open(HUB_CACHE) : null;
  } catch {
    return null; // opaque origins, private mode
  }
}

/** Fetches `${base}${path}`; 404 means "no such file" (null). Other failures are sentences. */
async function fetchFile(url: string, path: string, what: string, onProgress?: DownloadProgress, cache?: Cache | null): Promise<Uint8Array | null> {
  if (cache) {
    const hit = await cache.match(url);
    if (hit) return new Uint8Array(await hit.arrayBuffer());
  }
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ModelSourceError(`Could not reach ${url} (${(e as Error).message}). Check the address and your connection.`);
  }
  if (res.status === 404) return null;
  if (res.status === 401 || res.status === 403) {
    throw new ModelSourceError(`${what} answered ${res.status} for ${path}: the repository is private or gated. Download it yourself and pick the files from disk.`);
  }
  if (!res.ok) throw new ModelSourceError(`${what} answered ${res.status} ${res.statusText} for ${path}.`);
  // Vite's dev server answers unknown paths with index.html: that is "not found", not a model file.
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/html') && !path.endsWith('.html')) return null;
  const bytes = await readBody(res, path, onProgress);
  if (cache) {
    try {
      await cache.put(url, new Response(bytes.slice().buffer, { headers: { 'content-type': 'application/octet-stream' } }));
    } catch {
      // quota exceeded: still usable, just not cached
    }
  }
  return bytes;
}

/** A folder served over HTTP; `baseUrl` ends with '/'. */
export function urlSource(baseUrl: string, onProgress?: DownloadProgress): FileSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return (path) => fetchFile(base + path, path, base, onProgress);
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/** A Hugging Face Hub repository (or anything that answers like one), cached in the browser. */
export function hubSource(hubUrl: string, repo: string, revision = 'main', onProgress?: DownloadProgress): FileSource {
  const id = repo.trim();
  if (!REPO_ID.test(id)) {
    throw new ModelSourceError(`'${repo}' is not a Hugging Face repo id; it looks like "owner/name", e.g. "openai-community/gpt2".`);
  }
  let hub: URL;
  try {
    hub = new URL(hubUrl);
  } catch {
    throw new ModelSourceError(`The Hub address '${hubUrl}' is not a URL (e.g. https://huggingface.co).`);
  }
  const base = `${hub.href.replace(/\/$/, '')}/${id}/resolve/${encodeURIComponent(revision)}/`;
  let cache: Promise<Cache | null> | undefined;
  return async (path) => fetchFile(base + path, path, `The Hub (${hub.host})`, onProgress, await (cache ??= openCache()));
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
