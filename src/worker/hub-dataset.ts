// A preference dataset from the Hub, by repo id, config and split: the dataset viewer's Parquet files
// (GET /api/datasets/{repo}/parquet/{config}/{split} lists them; the files live on the repo's
// refs/convert/parquet branch), each streamed through the same reader as an uploaded file with progress,
// then validated as one file (rows numbered across the files), so the report reads the same.
import { pairsFromRecords, readRecords, DatasetError, type PreferenceDataset, type RawRecord } from '../data/index';
import { checkRef, hubBase, hubFetch, HubError, resolveUrl, type HubRef } from './hub';
import { errorCode } from './error-code';

export interface HubDatasetRef extends HubRef {
  config: string;
  split: string;
}

export interface DatasetDownloadProgress {
  file: string;
  fileIndex: number;
  fileCount: number;
  loaded: number;
  total: number | null;
  rows: number;
}

/** The Parquet file URLs of one config/split (the viewer's listing; its conventional path when the listing API is missing). */
export async function listParquetFiles(ref: HubDatasetRef): Promise<string[]> {
  const r = checkRef({ ...ref, type: 'dataset' });
  const api = `${hubBase(r)}/api/datasets/${r.repo}/parquet/${encodeURIComponent(ref.config)}/${encodeURIComponent(ref.split)}`;
  const res = await hubFetch(r, api, `the Parquet listing of ${ref.config}/${ref.split}`);
  if (res) {
    let list: unknown;
    try {
      list = await res.json();
    } catch {
      list = null;
    }
    if (!Array.isArray(list) || !list.every((u) => typeof u === 'string')) throw new HubError(`The Hub's Parquet listing for '${r.repo}' (${ref.config}/${ref.split}) is not a list of file URLs.`);
    if (list.length === 0) throw new HubError(`'${r.repo}' has no Parquet files for config '${ref.config}', split '${ref.split}'.`);
    return list as string[];
  }
  const fallback = resolveUrl({ ...r, revision: 'refs/convert/parquet' }, `${ref.config}/${ref.split}/0000.parquet`);
  const head = await hubFetch(r, fallback, `${ref.config}/${ref.split}/0000.parquet`, { method: 'HEAD' });
  if (!head) {
    throw new HubError(
      `The Hub has no Parquet files for '${r.repo}', config '${ref.config}', split '${ref.split}': check the repo id (the dataset's page shows its configs and splits, e.g. "default" and "train").`,
    );
  }
  return [fallback];
}

/** Downloads and reads every Parquet file of the split; one report over all of them. */
export async function loadHubDataset(ref: HubDatasetRef, onProgress?: (p: DatasetDownloadProgress) => void): Promise<PreferenceDataset> {
  const r = checkRef({ ...ref, type: 'dataset' });
  const urls = await listParquetFiles(ref);
  const records: RawRecord[] = [];
  for (const [i, url] of urls.entries()) {
    const file = decodeURIComponent(url.split('/').slice(-3).join('/'));
    const res = await hubFetch(r, url, file);
    if (!res || !res.body) throw new HubError(`${file} of '${r.repo}' is listed but could not be downloaded (404).`);
    const len = res.headers.get('content-length');
    const total = len !== null ? Number(len) : null;
    let read;
    try {
      read = await readRecords(res.body, {
        fileName: file,
        totalBytes: total ?? undefined,
        onProgress: (p) => onProgress?.({ file, fileIndex: i + 1, fileCount: urls.length, loaded: p.bytesRead, total, rows: records.length + p.rows }),
      });
    } catch (e) {
      if (e instanceof DatasetError) {
        // the file's name goes in front of the English; the page keeps the reader's code (a cut Parquet file: dataset.truncated)
        const c = errorCode(e);
        throw new DatasetError(`${file}: ${e.message}`, c?.code, c?.params);
      }
      throw new HubError(`The download of ${file} broke off (${(e as Error).message}): load again.`);
    }
    if (read.kind !== 'parquet') throw new DatasetError(`${file} of '${r.repo}' is not a Parquet file.`, 'dataset.hub-not-parquet', { file, repo: r.repo });
    const offset = records.length;
    for (const rec of read.records) records.push({ ...rec, row: rec.row + offset });
    onProgress?.({ file, fileIndex: i + 1, fileCount: urls.length, loaded: read.bytesRead, total: total ?? read.bytesRead, rows: records.length });
  }
  // TRL's unpaired format (prompt, completion, label) too: the run refuses it unless its trainer is KTO
  return pairsFromRecords(records, { fileKind: 'parquet', gzipped: false, allowUnpaired: true });
}
