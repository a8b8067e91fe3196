// Fused causal attention (FlashAttention-2 style), GQA, any head_dim: forward saves out and the per-row
// logsumexp L [B*H*T] instead of the probabilities [B, H, T, T]; backward recomputes them tile by tile.
// Kernels (src/shaders/flash_attention.wgsl): fwd (query block per workgroup, key/value tiles in workgroup
// memory, online softmax), rowdot (Dr = rowsum(dout * out)), dq (per query row over key tiles) and dkv (per
// key row over query tiles of every head in the group). The head dim is compiled in (`const HD`), so each
// invocation keeps its head vectors in registers: one pipeline per head dim.
// Optional key lengths (u32 [B], right padding): query i of sequence b attends to keys j <= i with j < len_b, as
// transformers does with an attention_mask, so pad queries see only their row's real keys (TRL's CPO/ORPO
// average logits over pad positions too). Rows below len_b are exactly what the plain causal kernel computes.
import { f32, groups, type Gpu, type Kernel, type Tensor, kernelSections } from '../context';
import src from '../../shaders/flash_attention.wgsl?raw';
import { reduceVariant } from './variant';

export interface AttentionOptions {
  B: number;
  T: number;
  H: number; // query heads
  KVH: number; // key/value heads (divides H)
  D: number; // head dim
  scale: number; // usually 1/sqrt(D)
}

/** Floats of one workgroup-memory tile pair (2 * BT * HD * 4 bytes stays under 16 KiB, the WebGPU default). */
const TILE_FLOATS = 1920;

/** Rows per key/value (forward, dq) or query (dkv) tile in workgroup memory for head dim D. */
export const tileRows = (D: number): number => Math.max(1, Math.min(32, Math.floor(TILE_FLOATS / (Math.ceil(D / 4) * 4))));

const modules = new Map<number, Record<string, Kernel>>();
function kernels(D: number): Record<string, Kernel> {
  let k = modules.get(D);
  if (!k) {
    k = kernelSections(`flash_attention.d${D}`, `const HD: u32 = ${D}u;\nconst BT: u32 = ${tileRows(D)}u;\n${src}`);
    modules.set(D, k);
  }
  return k;
}

/**
 * Query (forward, dq) or key (dkv) rows per workgroup: 64 on GPUs, 16 on CPU adapters (the 'thread'
 * setting of variant.ts), which run a workgroup's invocations as coroutines: small workgroups spread short
 * sequences over the cores.
 */
export const rowsPerGroup = (gpu: Gpu): number => (reduceVariant(gpu) === 'thread' ? 16 : 64);

function check(what: string, o: AttentionOptions, ts: Record<string, [Tensor, number]>): void {
  for (const key of ['B', 'T', 'H', 'KVH', 'D'] as const) {
    const v = o[key];
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${what}: ${key} must be a positive integer, got ${v}.`);
  }
  if (o.H % o.KVH !== 0) throw new RangeError(`${what}: the number of query heads (${o.H}) must be a multiple of the number of key/value heads (${o.KVH}).`);
  if (o.D > 256) throw new RangeError(`${what}: head dim ${o.D} is above the 256 this kernel supports.`);
  if (!Number.isFinite(o.scale)) throw new RangeError(`${what}: scale must be a finite number, got ${o.scale}.`);
  for (const [n, [t, size]] of Object.entries(ts)) {
    if (t.size !== size) throw new RangeError(`${what}: ${n} must hold ${size} values for B=${o.B}, T=${o.T}, H=${o.H}, KVH=${o.KVH}, D=${o.D}; it holds ${t.size}.`);
  }
}

const params = (o: AttentionOptions) => [o.B, o.T, o.H, o.KVH, o.D, f32(o.scale)];

// Without lens every key is real: one buffer per gpu of "no limit" lengths (the kernels clamp a length to T), so
// it serves every B up to its size and every T; it grows only when a batch holds more sequences. Never released.
const NO_LIMIT = 0xffffffff;
const fullLengths = new WeakMap<Gpu, Tensor>();

/** The key lengths the kernels read (at least B of them): the caller's (checked), or no limit for every sequence. */
function keyLengths(gpu: Gpu, what: string, o: AttentionOptions, lens: Tensor | undefined): Tensor {
  if (lens) {
    if (lens.size !== o.B || lens.dtype !== 'u32') throw new RangeError(`${what}: lens must be ${o.B} u32 key lengths (one per sequence); it holds ${lens.size} ${lens.dtype} values.`);
    return lens;
  }
  let t = fullLengths.get(gpu);
  if (!t || t.size < o.B) {
    // safe to hand back: work recorded before keeps its buffer, the pool reuses it only for later work
    if (t) gpu.release(t);
    t = gpu.upload(new Uint32Array(Math.max(o.B, 2 * (t?.size ?? 0), 64)).fill(NO_LIMIT));
    fullLengths.set(gpu, t);
  }
  return t;
}

/**
 * out [B*T, H*D] = causal softmax(scale * q k^T) v; lse [B*H*T] = logsumexp of the scaled scores each row sees
 * (keys j <= i, and j < lens[b] when lens, u32 [B] in 1..T, is given).
 */
export function flashAttentionForward(gpu: Gpu, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, o: AttentionOptions, lens?: Tensor): void {
  const nq = o.B * o.T * o.H * o.D;
  const nkv = o.B * o.T * o.KVH * o.D;
  check('flashAttentionForward', o, { q: [q, nq], k: [k, nkv], v: [v, nkv], out: [out, nq], lse: [lse, o.B * o.H * o.T] });
  const kl = keyLengths(gpu, 'flashAttentionForward', o, lens);
  const wg = rowsPerGroup(gpu);
  const K = kernels(o.D);
  gpu.dispatch({ ...K.fwd, constants: { WG: wg } }, [q, k, v, out, lse, kl], params(o), o.B * o.H * Math.ceil(o.T / wg));
}

/**
 * Overwrites dq [B*T,H*D], dk and dv [B*T,KVH*D] (summed over the query heads sharing a kv head), from the
 * forward's inputs, its out and lse, and dout; lens as given to the forward (pad keys get 0).
 */
export function flashAttentionBackward(
  gpu: Gpu,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  out: Tensor,
  lse: Tensor,
  dout: Tensor,
  dq: Tensor,
  dk: Tensor,
  dv: Tensor,
  o: AttentionOptions,
  lens?: Tensor,
): void {
  const nq = o.B * o.T * o.H * o.D;
  const nkv = o.B * o.T * o.KVH * o.D;
  const rows = o.B * o.H * o.T;
  check('flashAttentionBackward', o, {
    q: [q, nq], k: [k, nkv], v: [v, nkv], out: [out, nq], lse: [lse, rows],
    dout: [dout, nq], dq: [dq, nq], dk: [dk, nkv], dv: [dv, nkv],
  });
  const p = params(o);
  const wg = rowsPerGroup(gpu);
  const K = kernels(o.D);
  const kl = keyLengths(gpu, 'flashAttentionBackward', o, lens);
  // row dots, then the key lengths (dkv has no binding left for them)
  const dr = gpu.tensor([rows + o.B]);
  gpu.copy(kl, dr, 0, rows, o.B);
  gpu.dispatch(K.rowdot, [out, dout, dr], p, groups(rows, 64));
  gpu.dispatch({ ...K.dq, constants: { WG: wg } }, [q, k, v, lse, dr, dout, dq], p, o.B * o.H * Math.ceil(o.T / wg));
  gpu.dispatch({ ...K.dkv, constants: { WG: wg } }, [q, k, v, lse, dr, dout, dk, dv], p, o.B * o.KVH * Math.ceil(o.T / wg));
  // Safe to hand back now: later users of this buffer are recorded after these dispatches.
  gpu.release(dr);
}
