// Parameters on the GPU. Names are Hugging Face's, except that GPT-2's fused c_attn (q|k|v in one
// [C, 3C] matrix) is held as three [C, C] matrices so attention reads q, k and v without a split
// kernel; `toHf`/`fromHf` convert on the CPU when loading, exporting and checking gradients.
// Tables with a vocabulary dimension are stored in row chunks: GPT-2's 50257 x 768 embedding is
// 154 MB, above WebGPU's default 128 MiB storage-binding limit.
import type { Gpu, Tensor } from '../gpu/context';
import { parameterSpecs, type ModelConfig } from './config';

export interface Param {
  /** Internal name (Hugging Face's, or `h.{i}.attn.{q,k,v}.{weight,bias}` for GPT-2's split c_attn). */
  name: string;
  shape: number[];
  decay: boolean;
  /** Rows per chunk (shape[0] for unchunked parameters). */
  chunkRows: number;
  chunks: Tensor[];
}

export type ParamSet = Map<string, Param>;

export interface InternalSpec {
  name: string;
  shape: number[];
  decay: boolean;
  chunked: boolean;
}

/** Rows of a vocabulary chunk: keeps one chunk of the table and of the [tokens x chunk] logits small. */
export function vocabChunkRows(cfg: ModelConfig, maxBindingBytes: number): number {
  const byWidth = Math.floor(Math.min(maxBindingBytes, 64 * 2 ** 20) / (4 * cfg.hidden));
  return Math.max(1, Math.min(cfg.vocabSize, 8192, byWidth));
}

const gpt2Split = /^h\.(\d+)\.attn\.c_attn\.(weight|bias)$/;

export function internalSpecs(cfg: ModelConfig): InternalSpec[] {
  const out: InternalSpec[] = [];
  for (const s of parameterSpecs(cfg)) {
    const m = cfg.arch === 'gpt2' ? gpt2Split.exec(s.name) : null;
    if (m) {
      const C = cfg.hidden;
      for (const part of ['q', 'k', 'v']) {
        out.push({
          name: `h.${m[1]}.attn.${part}.${m[2]}`,
          shape: m[2] === 'weight' ? [C, C] : [C],
          decay: s.decay,
          chunked: false,
        });
      }
    } else {
      out.push({ name: s.name, shape: s.shape, decay: s.decay, chunked: s.kind === 'embedding' || s.name === 'lm_head.weight' });
    }
  }
  return out;
}

/** Hugging Face tensors -> internal host tensors. */
export function fromHf(cfg: ModelConfig, hf: Map<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, data] of hf) {
    const m = cfg.arch === 'gpt2' ? gpt2Split.exec(name) : null;
    if (!m) {
      out.set(name, data);
      continue;
    }
    const C = cfg.hidden;
    if (m[2] === 'bias') {
      ['q', 'k', 'v'].forEach((p, i) => out.set(`h.${m[1]}.attn.${p}.bias`, data.slice(i * C, (i + 1) * C)));
    } else {
      ['q', 'k', 'v'].forEach((p, i) => {
        const w = new Float32Array(C * C);
        for (let r = 0; r < C; r++) w.set(data.subarray(r * 3 * C + i * C, r * 3 * C + (i + 1) * C), r * C);
        out.set(`h.${m[1]}.attn.${p}.weight`, w);
      });
    }
  }
  return out;
}

/** Internal host tensors -> Hugging Face names and layouts (merges GPT-2's q/k/v back into c_attn). */
export function toHf(cfg: ModelConfig, internal: Map<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const C = cfg.hidden;
  for (const [name, data] of internal) {
    const m = /^h\.(\d+)\.attn\.([qkv])\.(weight|bias)$/.exec(name);
    if (!m || cfg.arch !== 'gpt2') {
      out.set(name, data);
      continue;
    }
    const key = `h.${m[1]}.attn.c_attn.${m[3]}`;
    const i = 'qkv'.indexOf(m[2]);
    let merged = out.get(key);
    if (!merged) out.set(key, (merged = new Float32Array(m[3] === 'weight' ? C * 3 * C : 3 * C)));
    if (m[3] === 'bias') merged.set(data, i * C);
    else for (let r = 0; r < C; r++) merged.set(data.subarray(r * C, (r + 1) * C), r * 3 * C + i * C);
  }
  return out;
}


/** Uploads internal host tensors as parameters (or zero-filled buffers of the same layout when `data` is null). */
export function createParams(gpu: Gpu, cfg: ModelConfig, data: Map<string, Float32Array> | null): ParamSet {
  const rowsPerChunk = vocabChunkRows(cfg, gpu.maxBindingBytes);
  const set: ParamSet = new Map();
  for (const s of internalSpecs(cfg)) {
    const rows = s.shape[0];
    const cols = s.shape.length > 1 ? s.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const chunkRows = s.chunked ? rowsPerChunk : rows;
    const chunks: Tensor[] = [];
    const host = data?.get(s.name);
    if (data && !host) throw new Error(`internal error: parameter ${s.name} was not loaded`);
    if (host && host.length !== rows * cols) throw new Error(`parameter ${s.name}: expected ${rows * cols} values, got ${host.length}`);
    for (let r = 0; r < rows; r += chunkRows) {
      const n = Math.min(chunkRows, rows - r);
      const shape = s.shape.length > 1 ? [n, ...s.shape.slice(1)] : [n];
      if (host) chunks.push(gpu.upload(host.subarray(r * cols, (r + n) * cols), shape));
      else chunks.push(gpu.tensor(shape, 'f32', true));
    }
    set.set(s.name, { name: s.name, shape: s.shape, decay: s.decay, chunkRows, chunks });
  }
  return set;
}

/** Zero-filled buffers with the names, shapes and chunking of `set` (gradients, AdamW moments). */
export function zerosLike(gpu: Gpu, set: ParamSet): ParamSet {
  const out: ParamSet = new Map();
  for (const p of set.values()) out.set(p.name, { ...p, chunks: p.chunks.map((c) => gpu.tensor(c.shape, 'f32', true)) });
  return out;
}

export function zeroParams(gpu: Gpu, set: ParamSet): void {
  for (const p of set.values()) for (const c of p.chunks) gpu.zero(c);
}

export function releaseParams(gpu: Gpu, set: ParamSet): void {
  for (const p of set.values()) gpu.release(...p.chunks);
  set.clear();
}

export function allChunks(set: ParamSet): Tensor[] {
  return [...set.values()].flatMap((p) => p.chunks);
}

/** Reads parameters (or gradients) back to the host, internal names. */
export async function downloadParams(gpu: Gpu, set: ParamSet): Promise<Map<string, Float32Array>> {
  const params = [...set.values()];
  const flat = await gpu.read(...params.flatMap((p) => p.chunks));
  const out = new Map<string, Float32Array>();
  let k = 0;
  for (const p of params) {
    const total = p.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(total);
    let off = 0;
    for (let c = 0; c < p.chunks.length; c++) {
      const part = flat[k++].subarray(0, p.chunks[c].size);
      data.set(part, off);
      off += part.length;
    }
    out.set(p.name, data);
  }
  return out;
}

export function param(set: ParamSet, name: string): Tensor {
  const p = set.get(name);
  if (!p) throw new Error(`internal error: no parameter ${name}`);
  if (p.chunks.length !== 1) throw new Error(`internal error: ${name} is chunked`);
  return p.chunks[0];
}
