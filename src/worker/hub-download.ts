// Downloading Hub files so that a reload does not start over. A finished file is kept whole in Cache
// Storage under its resolve URL (the revision is part of it); while a file downloads, every completed
// chunk (16 MiB) is stored as its own entry, so after a reload (or a dropped connection) the download
// goes on from the last stored chunk with a Range request. A server that ignores Range (answers 200)
// sends the whole file again; a file that changed on the Hub (another ETag or size) starts over.
// Progress is reported per file: bytes, total, speed and time left.
import { hubFetch, HubError, resolveUrl, type HubRef } from './hub';

/** Where downloaded bytes are kept (Cache Storage in the browser; a Map in Node or private windows). */
export interface ByteStore {
  get(key: string): Promise<Uint8Array | null>;
  /** May fail (quota): the download goes on, only not kept. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
}

export const HUB_CACHE = 'dpo-playground-hub-v1';
export const CHUNK_BYTES = 16 * 2 ** 20;

/** Cache Storage, or null where the browser has none (opaque origins, some private modes). */
export async function cacheStorageStore(name = HUB_CACHE): Promise<ByteStore | null> {
  let cache: Cache;
  try {
    if (typeof caches === 'undefined') return null;
    cache = await caches.open(name);
  } catch {
    return null;
  }
  return {
    async get(key) {
      const hit = await cache.match(key);
      return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
    },
    async put(key, bytes) {
      await cache.put(key, new Response(bytes.slice().buffer, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) } }));
    },
    async delete(key) {
      await cache.delete(key);
    },
  };
}

/** Bytes kept in memory only (what a session without Cache Storage gets). */
export function memoryStore(): ByteStore & { keys(): string[] } {
  const m = new Map<string, Uint8Array>();
  return {
    get: async (k) => m.get(k) ?? null,
    put: async (k, b) => void m.set(k, b.slice()),
    delete: async (k) => void m.delete(k),
    keys: () => [...m.keys()],
  };
}

export interface FileProgress {
  file: string;
  /** 1-based position of the file among those of this download, and how many there are. */
  fileIndex: number;
  fileCount: number;
  loaded: number;
  total: number | null;
  /** Bytes that were already in the cache when this file started (a resumed download). */
  resumedFrom: number;
  bytesPerSec: number;
  /** Seconds left for this file at the current speed; null until the speed is known. */
  etaSec: number | null;
}

export interface DownloadOptions {
  store: ByteStore | null;
  onProgress?: (p: FileProgress) => void;
  fileIndex?: number;
  fileCount?: number;
  /** Expected size and ETag (from the plan's HEAD), to tell a changed file from a partial one. */
  bytes?: number | null;
  etag?: string | null;
  chunkBytes?: number;
}

const partKey = (url: string, k: number) => `${url}${url.includes('?') ? '&' : '?'}dpo-part=${k}`;
const metaKey = (url: string) => `${url}${url.includes('?') ? '&' : '?'}dpo-meta=1`;

async function safePut(store: ByteStore | null, key: string, bytes: Uint8Array): Promise<boolean> {
  if (!store) return false;
  try {
    await store.put(key, bytes);
    return true;
  } catch {
    return false; // quota: this download still works, it just will not survive a reload
  }
}

async function dropParts(store: ByteStore, url: string): Promise<void> {
  for (let k = 0; ; k++) {
    const key = partKey(url, k);
    if (!(await store.get(key))) break;
    await store.delete(key);
  }
  await store.delete(metaKey(url));
}

/** One file of a Hub repo, from the cache, resumed from its stored chunks, or downloaded. Null on 404. */
export async function downloadHubFile(ref: HubRef, path: string, o: DownloadOptions): Promise<Uint8Array | null> {
  const url = resolveUrl(ref, path);
  const store = o.store;
  const chunk = o.chunkBytes ?? CHUNK_BYTES;
  const fileIndex = o.fileIndex ?? 1;
  const fileCount = o.fileCount ?? 1;
  const report = (loaded: number, total: number | null, resumedFrom: number, bytesPerSec: number) =>
    o.onProgress?.({ file: path, fileIndex, fileCount, loaded, total, resumedFrom, bytesPerSec, etaSec: bytesPerSec > 0 && total !== null ? (total - loaded) / bytesPerSec : null });

  if (store) {
    const whole = await store.get(url);
    if (whole && (o.bytes == null || whole.length === o.bytes)) {
      report(whole.length, whole.length, whole.length, 0);
      return whole;
    }
  }

  // chunks stored by an earlier, interrupted download of the same file version
  const parts: Uint8Array[] = [];
  if (store) {
    const metaBytes = await store.get(metaKey(url));
    const meta = metaBytes ? (JSON.parse(new TextDecoder().decode(metaBytes)) as { etag: string | null; bytes: number | null; chunk: number }) : null;
    const same = meta && meta.chunk === chunk && meta.etag === (o.etag ?? null) && meta.bytes === (o.bytes ?? null);
    if (same) {
      for (let k = 0; ; k++) {
        const p = await store.get(partKey(url, k));
        if (!p || p.length !== chunk) break;
        parts.push(p);
      }
    } else if (meta) {
      await dropParts(store, url);
    }
  }
  let offset = parts.length * chunk;
  if (o.bytes != null && offset >= o.bytes) {
    parts.length = Math.floor((o.bytes - 1) / chunk);
    offset = parts.length * chunk;
  }

  const res = await hubFetch(ref, url, path, offset > 0 ? { headers: { Range: `bytes=${offset}-` } } : {});
  if (!res) return null;
  if (res.status === 416) throw new HubError(`${path} is shorter on the Hub than the part downloaded before: clear the site's data and load again.`, 'hub.shorter', { path });
  if (offset > 0 && res.status !== 206) {
    // the server ignored Range: it sends everything again
    parts.length = 0;
    offset = 0;
  }
  const lenHeader = res.headers.get('content-length');
  const total = o.bytes ?? (lenHeader !== null ? offset + Number(lenHeader) : null);
  if (store && offset === 0) {
    await dropParts(store, url).catch(() => undefined);
    await safePut(store, metaKey(url), new TextEncoder().encode(JSON.stringify({ etag: o.etag ?? null, bytes: o.bytes ?? null, chunk })));
  }

  const resumedFrom = offset;
  const t0 = Date.now();
  let lastReport = 0;
  const pieces: Uint8Array[] = [...parts];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let loaded = offset;
  let keep = store !== null;
  const flushChunks = async (final: boolean) => {
    // store every full chunk that has arrived (only full ones: a resume starts at a chunk boundary)
    while (pendingBytes >= chunk || (final && pendingBytes > 0)) {
      const n = Math.min(chunk, pendingBytes);
      const buf = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const head = pending[0];
        const take = Math.min(head.length, n - got);
        buf.set(head.subarray(0, take), got);
        got += take;
        if (take === head.length) pending.shift();
        else pending[0] = head.subarray(take);
      }
      pendingBytes -= n;
      if (n === chunk && keep) keep = await safePut(store, partKey(url, pieces.length), buf);
      pieces.push(buf);
    }
  };
  try {
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        pending.push(value);
        pendingBytes += value.length;
        loaded += value.length;
        if (pendingBytes >= chunk) await flushChunks(false);
        const now = Date.now();
        if (now - lastReport > 200) {
          lastReport = now;
          report(loaded, total, resumedFrom, ((loaded - resumedFrom) * 1000) / Math.max(1, now - t0));
        }
      }
    } else {
      const b = new Uint8Array(await res.arrayBuffer());
      pending.push(b);
      pendingBytes += b.length;
      loaded += b.length;
    }
  } catch (e) {
    await flushChunks(false).catch(() => undefined);
    throw new HubError(
      `The download of ${path} broke off at ${loaded} of ${total ?? '?'} bytes (${(e as Error).message}). ${keep ? 'What arrived is kept: load again to continue from there.' : 'Load again to retry.'}`,
      keep ? 'hub.broke-kept' : 'hub.broke',
      { path, loaded, total: total ?? '?', detail: (e as Error).message },
    );
  }
  await flushChunks(true);
  if (total !== null && loaded !== total) {
    throw new HubError(`The download of ${path} ended at ${loaded} of ${total} bytes: the connection was cut. ${keep ? 'What arrived is kept: load again to continue from there.' : 'Load again to retry.'}`, keep ? 'hub.cut-kept' : 'hub.cut', { path, loaded, total });
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  report(loaded, loaded, resumedFrom, ((loaded - resumedFrom) * 1000) / Math.max(1, Date.now() - t0));
  pending = [];
  if (store && (await safePut(store, url, out))) await dropParts(store, url).catch(() => undefined);
  return out;
}
