// Talking to a Hugging Face Hub (or anything that answers like one, e.g. the e2e's local server):
// `${hub}/${repo}/resolve/${revision}/${path}` for files, `${hub}/api/datasets/...` for the dataset
// viewer's Parquet listing. An access token, when given, goes as `Authorization: Bearer` on every
// request and lives only in memory (the page keeps it for the session; nothing here stores it).

/** A Hub request that failed, as a sentence; `code` (hub.<case>) and `params` say it in the page's language. */
export class HubError extends Error {
  override name = 'HubError';
  constructor(
    message: string,
    readonly code?: string,
    readonly params?: Record<string, string | number>,
  ) {
    super(message);
  }
}

export interface HubRef {
  hubUrl: string;
  repo: string;
  revision: string;
  /** A user access token for gated or private repos (never persisted). */
  token?: string;
  /** 'model' repos resolve at /{repo}, 'dataset' ones at /datasets/{repo}. */
  type?: 'model' | 'dataset';
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/** Checks the repo id and Hub address; returns the trimmed ref or throws a sentence. */
export function checkRef(ref: HubRef): HubRef {
  const repo = ref.repo.trim();
  if (!REPO_ID.test(repo)) {
    throw new HubError(`'${ref.repo}' is not a Hugging Face repo id; it looks like "owner/name", e.g. "HuggingFaceTB/SmolLM2-135M-Instruct".`, 'hub.repo-id', { repo: ref.repo });
  }
  try {
    new URL(ref.hubUrl);
  } catch {
    throw new HubError(`The Hub address '${ref.hubUrl}' is not a URL (e.g. https://huggingface.co).`, 'hub.address', { url: ref.hubUrl });
  }
  const revision = (ref.revision || 'main').trim();
  const token = ref.token?.trim() || undefined;
  return { ...ref, repo, revision, token };
}

export function hubBase(ref: HubRef): string {
  return new URL(ref.hubUrl).href.replace(/\/$/, '');
}

/** The download URL of one file of the repo at its revision. */
export function resolveUrl(ref: HubRef, path: string): string {
  const prefix = ref.type === 'dataset' ? 'datasets/' : '';
  const file = path.split('/').map(encodeURIComponent).join('/');
  return `${hubBase(ref)}/${prefix}${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${file}`;
}

export function authHeaders(ref: HubRef, extra?: Record<string, string>): Record<string, string> {
  return { ...(ref.token ? { Authorization: `Bearer ${ref.token}` } : {}), ...extra };
}

function describe(ref: HubRef): string {
  return `The Hub (${new URL(ref.hubUrl).host})`;
}

/**
 * fetch() with the token, turning what can go wrong into sentences. 404 answers null (no such file);
 * 401/403 say whether a token was sent. Vite's dev server answers unknown paths with index.html:
 * that is "not found" too.
 */
export async function hubFetch(ref: HubRef, url: string, what: string, init: RequestInit = {}): Promise<Response | null> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: authHeaders(ref, init.headers as Record<string, string> | undefined) });
  } catch (e) {
    throw new HubError(`Could not reach ${url} (${(e as Error).message}). Check the Hub address and your connection.`, 'hub.unreachable', { url, detail: (e as Error).message });
  }
  if (res.status === 404) return null;
  if (res.status === 401 || res.status === 403) {
    throw new HubError(
      ref.token
        ? `${describe(ref)} refused the access token for ${what} (${res.status}): check that the token is valid and that you accepted the repo's terms on its page.`
        : `${describe(ref)} answered ${res.status} for ${what}: '${ref.repo}' is private or gated. Paste an access token (huggingface.co/settings/tokens) in the token field and load again.`,
      ref.token ? 'hub.token-refused' : 'hub.gated',
      { host: new URL(ref.hubUrl).host, status: res.status, what, repo: ref.repo },
    );
  }
  if (res.status === 416) return res; // Range not satisfiable: the caller decides
  if (!res.ok) throw new HubError(`${describe(ref)} answered ${res.status} ${res.statusText} for ${what}.`, 'hub.status', { host: new URL(ref.hubUrl).host, status: res.status, what });
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/html') && !what.endsWith('.html')) return null;
  return res;
}

/** A JSON file of the repo, or null when it has none. */
export async function fetchRepoJson(ref: HubRef, path: string): Promise<unknown | null> {
  const res = await hubFetch(ref, resolveUrl(ref, path), path);
  if (!res) return null;
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HubError(`${path} of '${ref.repo}' is not valid JSON (${(e as Error).message}).`);
  }
}

/** Whether a file exists, and its size, without downloading it (HEAD; the Hub gives X-Linked-Size for LFS files). */
export async function headFile(ref: HubRef, path: string): Promise<{ bytes: number | null; etag: string | null } | null> {
  const res = await hubFetch(ref, resolveUrl(ref, path), path, { method: 'HEAD' });
  if (!res) return null;
  const size = res.headers.get('x-linked-size') ?? res.headers.get('content-length');
  const etag = res.headers.get('x-linked-etag') ?? res.headers.get('etag');
  return { bytes: size !== null && size !== '' ? Number(size) : null, etag };
}

/**
 * The first `length` bytes of a file (a Range request). Servers that ignore Range answer 200 with the
 * whole file; then only the head of the stream is read and the rest is cancelled.
 */
export async function fetchHead(ref: HubRef, path: string, length: number, offset = 0): Promise<Uint8Array | null> {
  const res = await hubFetch(ref, resolveUrl(ref, path), path, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
  if (!res) return null;
  if (res.status === 416) throw new HubError(`${path} of '${ref.repo}' is shorter than ${offset + length} bytes: the file is cut short.`);
  const skip = res.status === 206 ? 0 : offset;
  const want = skip + length;
  if (!res.body) return new Uint8Array(await res.arrayBuffer()).slice(skip, want);
  const reader = res.body.getReader();
  const out = new Uint8Array(want);
  let got = 0;
  while (got < want) {
    const { done, value } = await reader.read();
    if (done) break;
    const n = Math.min(value.length, want - got);
    out.set(value.subarray(0, n), got);
    got += n;
  }
  await reader.cancel().catch(() => undefined);
  return out.slice(skip, got);
}
