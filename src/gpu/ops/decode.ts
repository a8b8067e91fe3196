// Single-token decode attention against a KV cache (generation): the query row of position `pos`
// attends to cache rows 0..pos. Caches are [L, KVH*D] (L = capacity); the caller appends the new
// token's k/v at row `pos` (gpu.copy) before calling. GQA: query head h reads kv head h / (H / KVH).
import { f32, groups, type Gpu, type Kernel, type Tensor, kernelSections } from '../context';
import src from '../../shaders/decode.wgsl?raw';

export interface DecodeAttentionOptions {
  /** Position of the query row (0-based); cache rows 0..pos are read. */
  pos: number;
  /** Cache capacity in rows. */
  L: number;
  H: number;
  KVH: number;
  D: number;
  scale: number;
}

const K = kernelSections('decode', src);

/** Scratch for the scores, [H, L]: allocate once per generation and release at the end. */
export function decodeScratch(gpu: Gpu, o: Pick<DecodeAttentionOptions, 'H' | 'L'>): Tensor {
  return gpu.tensor([o.H, o.L]);
}

/** out [H*D] = softmax(scale * q k_{0..pos}^T) v_{0..pos}, per head; q [H*D], caches [L, KVH*D]. */
export function decodeAttention(gpu: Gpu, q: Tensor, kCache: Tensor, vCache: Tensor, scores: Tensor, out: Tensor, o: DecodeAttentionOptions): void {
  const what = 'decodeAttention';
  for (const key of ['L', 'H', 'KVH', 'D'] as const) {
    if (!Number.isInteger(o[key]) || o[key] <= 0) throw new RangeError(`${what}: ${key} must be a positive integer, got ${o[key]}.`);
  }
  if (!Number.isInteger(o.pos) || o.pos < 0 || o.pos >= o.L) {
    throw new RangeError(`${what}: position ${o.pos} is outside the cache of ${o.L} rows.`);
  }
  if (o.H % o.KVH !== 0) throw new RangeError(`${what}: the number of query heads (${o.H}) must be a multiple of the number of key/value heads (${o.KVH}).`);
  if (!Number.isFinite(o.scale)) throw new RangeError(`${what}: scale must be a finite number, got ${o.scale}.`);
  const sizes: [string, Tensor, number][] = [
    ['q', q, o.H * o.D],
    ['kCache', kCache, o.L * o.KVH * o.D],
    ['vCache', vCache, o.L * o.KVH * o.D],
    ['scores', scores, o.H * o.L],
    ['out', out, o.H * o.D],
  ];
  for (const [n, t, size] of sizes) {
    if (t.size !== size) throw new RangeError(`${what}: ${n} must hold ${size} values for L=${o.L}, H=${o.H}, KVH=${o.KVH}, D=${o.D}; it holds ${t.size}.`);
  }
  const p = [o.pos, o.H, o.KVH, o.D, o.L, f32(o.scale)];
  gpu.dispatch(K.scores, [q, kCache, scores], p, groups(o.H * (o.pos + 1), 64));
  gpu.dispatch(K.pv, [scores, vCache, out], p, groups(o.H * o.D, 64));
}
