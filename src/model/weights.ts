// Loading a Hugging Face checkpoint folder (config.json + model.safetensors, or a sharded
// model.safetensors.index.json) into host Float32Arrays named as parameterSpecs() names them.
// Where the files come from is a FileSource, so the same code reads the Hub, a folder the user
// picked in the browser, an in-memory map, or Node's fs.
import { parameterSpecs, parseConfig, type ModelConfig } from './config';
import { parseSafetensorsHeader, readTensor, type TensorEntry } from './safetensors';

/** Returns the file's bytes, or null when the file does not exist. */
export type FileSource = (path: string) => Promise<Uint8Array | null>;

/**
 * The checkpoint folder is incomplete or does not match its config; the message says what, `code`
 * (checkpoint.<case>, or a file's safetensors.<case> with its `file`) and `params` say it in the page's language.
 */
export class CheckpointError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly params?: Record<string, string | number>,
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** A file's safetensors error, prefixed with the file's name; it keeps the inner error's code and numbers. */
function inFile(file: string, e: unknown): CheckpointError {
  const x = e as Error & { code?: unknown; params?: Record<string, string | number> };
  const code = typeof x.code === 'string' && x.code.includes('.') ? x.code : undefined;
  return new CheckpointError(`${file}: ${x.message}`, code, code ? { ...x.params, file } : undefined);
}

export interface LoadedCheckpoint {
  config: ModelConfig;
  /** parameterSpecs(config) name -> data, row-major in the checkpoint's layout. */
  tensors: Map<string, Float32Array>;
  /** Storage dtype of the parameters in the files ('F32', 'BF16', ...); the most common one if mixed. */
  dtype: string;
  /** Tensors in the files that are not parameters of this config (buffers, a tied lm_head...). */
  ignored: string[];
}

/** Buffers that some checkpoints carry but that are not trainable parameters. */
const BUFFER_SUFFIXES = ['.attn.bias', '.attn.masked_bias', 'rotary_emb.inv_freq'];

function isBuffer(name: string): boolean {
  return BUFFER_SUFFIXES.some((s) => name.endsWith(s));
}

/** Checkpoint name -> our name: GPT-2 without `transformer.`, Llama family with `model.`. */
function canonicalName(cfg: ModelConfig, name: string): string {
  if (cfg.arch === 'gpt2') return name.startsWith('transformer.') ? name.slice('transformer.'.length) : name;
  if (name.startsWith('model.') || name === 'lm_head.weight') return name;
  return `model.${name}`; // saved from the bare LlamaModel (base_model_prefix "model")
}

function listShort(items: string[], max = 8): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

function decodeJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new CheckpointError(`${file} is not valid JSON (${(e as Error).message}).`, 'checkpoint.not-json', { file, detail: (e as Error).message });
  }
}

function safeShardPath(p: unknown): string {
  if (typeof p !== 'string' || p === '' || p.startsWith('/') || p.split(/[\\/]/).includes('..')) {
    throw new CheckpointError(`model.safetensors.index.json names a shard file '${String(p)}' that is not a plain file name.`, 'checkpoint.shard-path', { shard: String(p) });
  }
  return p;
}

/** The dtypes a model parameter may be stored in (F64 is read too, converted to float32). */
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Read config.json and the weights; checks every parameter of the config is present with its shape. */
export async function loadCheckpoint(source: FileSource): Promise<LoadedCheckpoint> {
  const cfgBytes = await source('config.json');
  if (!cfgBytes) throw new CheckpointError('The model folder has no config.json.', 'checkpoint.no-config');
  const config = parseConfig(decodeJson(cfgBytes, 'config.json'));

  // file name -> bytes, and which file holds each tensor.
  const files = new Map<string, Uint8Array>();
  const single = await source('model.safetensors');
  if (single) {
    files.set('model.safetensors', single);
  } else {
    const indexBytes = await source('model.safetensors.index.json');
    if (!indexBytes) {
      const bin = await source('pytorch_model.bin');
      throw new CheckpointError(
        bin
          ? 'The model folder only has pytorch_model.bin; convert it to model.safetensors (save_pretrained(..., safe_serialization=True)) to load it here.'
          : 'The model folder has neither model.safetensors nor model.safetensors.index.json.',
        bin ? 'checkpoint.pytorch-bin' : 'checkpoint.no-weights',
      );
    }
    const index = decodeJson(indexBytes, 'model.safetensors.index.json') as { weight_map?: unknown } | null;
    const wm = index && typeof index === 'object' ? index.weight_map : undefined;
    if (!wm || typeof wm !== 'object' || Array.isArray(wm)) {
      throw new CheckpointError('model.safetensors.index.json has no "weight_map" object.', 'checkpoint.no-weight-map');
    }
    for (const shard of new Set(Object.values(wm as Record<string, unknown>).map(safeShardPath))) {
      const b = await source(shard);
      if (!b) throw new CheckpointError(`The shard ${shard} listed in model.safetensors.index.json is missing.`, 'checkpoint.missing-shard', { shard });
      files.set(shard, b);
    }
  }

  // Collect entries from every file (the index is only a hint; the headers are the truth).
  const where = new Map<string, { file: string; bytes: Uint8Array; entry: TensorEntry; dataOffset: number; original: string }>();
  const ignored: string[] = [];
  for (const [file, bytes] of files) {
    let header;
    try {
      header = parseSafetensorsHeader(bytes);
    } catch (e) {
      throw inFile(file, e);
    }
    for (const [original, entry] of header.tensors) {
      if (isBuffer(original)) {
        ignored.push(original);
        continue;
      }
      const name = canonicalName(config, original);
      if (where.has(name)) {
        throw new CheckpointError(`Tensor '${name}' appears twice (in ${where.get(name)!.file} and ${file}).`, 'checkpoint.twice', { tensor: name, first: where.get(name)!.file, second: file });
      }
      where.set(name, { file, bytes, entry, dataOffset: header.dataOffset, original });
    }
  }

  const specs = parameterSpecs(config);
  const missing: string[] = [];
  const wrong: string[] = [];
  const wrongShape: string[] = []; // "name [have] ≠ [expected]", without English words
  for (const s of specs) {
    const w = where.get(s.name);
    if (!w) missing.push(s.name);
    else if (w.entry.shape.length !== s.shape.length || w.entry.shape.some((d, i) => d !== s.shape[i])) {
      wrong.push(`${s.name} is [${w.entry.shape.join(', ')}], expected [${s.shape.join(', ')}]`);
      wrongShape.push(`${s.name} [${w.entry.shape.join(', ')}] ≠ [${s.shape.join(', ')}]`);
    }
  }
  if (missing.length || wrong.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length} tensor(s): ${listShort(missing)}`);
    if (wrong.length) parts.push(`wrong shape: ${listShort(wrong, 5)}`);
    // the page lists the names itself (no English "and N more" inside a Korean sentence)
    const shown = (xs: string[], max: number, sep: string) => xs.slice(0, max).join(sep);
    throw new CheckpointError(
      `The weights do not match config.json (${config.modelType}, ${config.layers} layers, hidden ${config.hidden}): ${parts.join('; ')}.`,
      'checkpoint.mismatch',
      { modelType: config.modelType, layers: config.layers, hidden: config.hidden, missing: missing.length, missingNames: shown(missing, 8, ', '), wrong: wrong.length, wrongNames: shown(wrongShape, 5, '; ') },
    );
  }

  // A parameter stored in an integer (or bool) dtype is a damaged or mis-cast file: converting it would
  // train on integers (grad_norm ~1e4) as if they were weights.
  const notFloat = specs.map((s) => ({ s, w: where.get(s.name)! })).filter(({ w }) => !FLOAT_DTYPES.has(w.entry.dtype));
  if (notFloat.length) {
    const { w } = notFloat[0];
    const more = notFloat.length > 1 ? ` (and ${notFloat.length - 1} more parameter tensor${notFloat.length > 2 ? 's' : ''})` : '';
    throw new CheckpointError(
      `${w.file}: the parameter tensor '${w.original}' is stored as ${w.entry.dtype}${more}, which is not a floating-point type: ` +
        'model weights must be F32, F16 or BF16. The file is damaged or was written with the wrong dtype; save the model again (save_pretrained).',
      'checkpoint.not-float',
      { file: w.file, tensor: w.original, dtype: w.entry.dtype, more: notFloat.length - 1 },
    );
  }

  const specNames = new Set(specs.map((s) => s.name));
  for (const [name, w] of where) if (!specNames.has(name)) ignored.push(w.original);

  const tensors = new Map<string, Float32Array>();
  const dtypeCount = new Map<string, number>();
  for (const s of specs) {
    const w = where.get(s.name)!;
    try {
      tensors.set(s.name, readTensor(w.bytes, { ...w.entry, name: w.original }, w.dataOffset));
    } catch (e) {
      throw inFile(w.file, e);
    }
    const n = s.shape.reduce((a, b) => a * b, 1);
    dtypeCount.set(w.entry.dtype, (dtypeCount.get(w.entry.dtype) ?? 0) + n);
  }
  let dtype = 'F32';
  let best = -1;
  for (const [d, n] of dtypeCount) if (n > best) [dtype, best] = [d, n];
  return { config, tensors, dtype, ignored };
}

/** Files of a folder on disk (Node only; node:fs is imported lazily so browsers never load it). */
export function nodeFolderSource(dir: string): FileSource {
  return async (path: string) => {
    const fsName = 'node:fs/promises';
    const pathName = 'node:path';
    const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
    const np = (await import(/* @vite-ignore */ pathName)) as typeof import('node:path');
    try {
      const b = await fs.readFile(np.join(dir, path));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return null;
      throw e;
    }
  };
}

/** Files held in memory (a folder picked in the browser, a test fixture). */
export function mapSource(files: Map<string, Uint8Array>): FileSource {
  return async (path: string) => files.get(path) ?? files.get(path.replace(/^\.\//, '')) ?? null;
}
