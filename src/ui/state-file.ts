// A run's saved state as a file, for when the browser's storage cannot hold it: 8 bytes "DPOSTATE",
// a u32 version, a u32 length of the JSON run record (config, history; files picked from disk are named,
// not included), the JSON, then the trainer's state (safetensors: weights, AdamW moments, step, data order).
// Written as a Blob of parts, so a large state is not copied once more to be downloaded.
import type { DatasetSpec, ModelSpec } from '../worker/protocol';
import type { RunRecord } from './runs';

const MAGIC = 'DPOSTATE';
const VERSION = 1;
const HEAD = 16;

/** A file that is not a state this page can read; `code` and `params` say it in the page's language (error.statefile.*). */
export class StateFileError extends Error {
  override name = 'StateFileError';
  constructor(
    message: string,
    readonly code?: string,
    readonly params?: Record<string, string | number>,
  ) {
    super(message);
  }
}

/** The run record as the file holds it: a model or dataset picked from disk is null (it must be loaded again). */
export type PortableRun = Omit<RunRecord, 'model' | 'dataset'> & {
  model: { label: string; spec: ModelSpec | null };
  dataset: { label: string; spec: DatasetSpec | null; split: RunRecord['dataset']['split'] };
};

const portableModel = (s: ModelSpec): ModelSpec | null => (s.kind === 'files' ? null : s);
const portableDataset = (s: DatasetSpec): DatasetSpec | null => (s.kind === 'url' ? s : null);

export function stateFileBlob(r: RunRecord, state: Uint8Array): Blob {
  const run: PortableRun = { ...r, model: { label: r.model.label, spec: portableModel(r.model.spec) }, dataset: { label: r.dataset.label, spec: portableDataset(r.dataset.spec), split: r.dataset.split } };
  const json = new TextEncoder().encode(JSON.stringify({ run, stateBytes: state.byteLength }));
  const head = new Uint8Array(HEAD);
  head.set(new TextEncoder().encode(MAGIC));
  const dv = new DataView(head.buffer);
  dv.setUint32(8, VERSION, true);
  dv.setUint32(12, json.byteLength, true);
  return new Blob([head, json, state as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
}

export const stateFileName = (slug: string, step: number) => `${slug}-step${step}.dpostate`;

/** Reads a file written by stateFileBlob; a different or cut-short file is refused with a sentence. */
export async function readStateFile(file: Blob & { name?: string }): Promise<{ run: PortableRun; state: Uint8Array }> {
  const name = file.name ? `"${file.name}"` : 'The file';
  const fail = (message: string, code: string, params: Record<string, string | number> = {}) => new StateFileError(message, `statefile.${code}`, { file: file.name ? ` "${file.name}"` : '', ...params });
  const head = new Uint8Array(await file.slice(0, HEAD).arrayBuffer());
  if (head.byteLength < HEAD || new TextDecoder().decode(head.subarray(0, 8)) !== MAGIC) {
    throw fail(`${name} is not a run state saved by this page (a .dpostate file from "Download the state").`, 'not-state');
  }
  const dv = new DataView(head.buffer);
  const version = dv.getUint32(8, true);
  if (version !== VERSION) throw fail(`${name} is a state file of version ${version}; this page reads version ${VERSION}.`, 'version', { version, expected: VERSION });
  const jsonBytes = dv.getUint32(12, true);
  if (HEAD + jsonBytes > file.size) throw fail(`${name} is cut short: its run record needs ${jsonBytes} bytes, the file has ${file.size - HEAD}.`, 'cut-record', { need: jsonBytes, have: file.size - HEAD });
  let meta: { run: PortableRun; stateBytes: number };
  try {
    meta = JSON.parse(new TextDecoder().decode(await file.slice(HEAD, HEAD + jsonBytes).arrayBuffer()));
  } catch (e) {
    throw fail(`${name} has a damaged run record (${(e as Error).message}).`, 'damaged');
  }
  const have = file.size - HEAD - jsonBytes;
  if (!meta?.run || typeof meta.stateBytes !== 'number') throw fail(`${name} has no run record.`, 'no-record');
  if (have !== meta.stateBytes) throw fail(`${name} is cut short: it holds ${have} of the ${meta.stateBytes} bytes of the trainer state.`, 'cut-state', { have, need: meta.stateBytes });
  const state = new Uint8Array(await file.slice(HEAD + jsonBytes).arrayBuffer());
  return { run: meta.run, state };
}
