// Causal multi-head attention with grouped-query heads (GQA/MQA) and any head_dim.
// q [B*T, H*D], k/v [B*T, KVH*D] straight from the projection matmuls; query head h uses kv head
// floor(h / (H / KVH)); every sequence has positions 0..T-1 and a causal mask only (right padding needs
// nothing else: padded positions come after every real one, so real rows never read them).
// Forward saves probs [B, H, T, T] for backward. Kernels: softmax (one workgroup per score row, or one
// invocation per row on CPU adapters: see variant.ts), pv (one thread per output), and backward ds (per
// row, same two variants), dq, dkv (per element). On CPU adapters, head dims that are a multiple of 4 use
// vec4 loads of the head vectors in every kernel (fewer loads and bounds checks).
import { f32, groups, type Gpu, type Kernel, type Tensor, kernelSections } from '../context';
import src from '../../shaders/attention.wgsl?raw';
import { reduceVariant, THREAD_WG } from './variant';

export interface AttentionOptions {
  B: number;
  T: number;
  H: number; // query heads
  KVH: number; // key/value heads (divides H)
  D: number; // head dim
  scale: number; // usually 1/sqrt(D)
}

const K = kernelSections('attention', src);
const WG = 64;

function check(gpu: Gpu, what: string, o: AttentionOptions, ts: Record<string, [Tensor, number]>): void {
  for (const key of ['B', 'T', 'H', 'KVH', 'D'] as const) {
    const v = o[key];
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${what}: ${key} must be a positive integer, got ${v}.`);
  }
  if (o.H % o.KVH !== 0) throw new RangeError(`${what}: the number of query heads (${o.H}) must be a multiple of the number of key/value heads (${o.KVH}).`);
  if (!Number.isFinite(o.scale)) throw new RangeError(`${what}: scale must be a finite number, got ${o.scale}.`);
  for (const [n, [t, size]] of Object.entries(ts)) {
    if (t.size !== size) throw new RangeError(`${what}: ${n} must hold ${size} values for B=${o.B}, T=${o.T}, H=${o.H}, KVH=${o.KVH}, D=${o.D}; it holds ${t.size}.`);
  }
  const probBytes = o.B * o.H * o.T * o.T * 4;
  if (probBytes > gpu.maxBindingBytes) {
    throw new RangeError(
      `${what}: the attention probabilities for batch ${o.B} x ${o.H} heads x ${o.T}^2 positions need ${(probBytes / 2 ** 20).toFixed(0)} MiB, more than this GPU binds at once (${(gpu.maxBindingBytes / 2 ** 20).toFixed(0)} MiB). Use a smaller batch or a shorter maximum length.`,
    );
  }
}

const params = (o: AttentionOptions) => [o.B, o.T, o.H, o.KVH, o.D, f32(o.scale)];

/** pv, dq, dkv with vec4 head vectors: on CPU adapters (the 'thread' setting) when D % 4 == 0. */
const vec4Elementwise = (gpu: Gpu, o: AttentionOptions): boolean => reduceVariant(gpu) === 'thread' && o.D % 4 === 0;

/** A row kernel (softmax, ds) over the B*H*T score rows, in the variant chosen for this adapter. */
function rowDispatch(gpu: Gpu, name: 'softmax' | 'ds', tensors: Tensor[], o: AttentionOptions): void {
  const rows = o.B * o.H * o.T;
  if (reduceVariant(gpu) === 'thread') {
    // vec4 loads of the head vectors when D allows (every tensor bound as vec4 then holds a multiple of 4)
    const k = K[o.D % 4 === 0 ? `${name}_thread4` : `${name}_thread`];
    gpu.dispatch({ ...k, constants: { TWG: THREAD_WG } }, tensors, params(o), groups(rows, THREAD_WG));
  } else {
    gpu.dispatch(K[name], tensors, params(o), rows);
  }
}

/** probs [B,H,T,T] = causal softmax(scale * q k^T) (0 above the diagonal), out [B*T, H*D] = probs @ v. */
export function attentionForward(gpu: Gpu, q: Tensor, k: Tensor, v: Tensor, out: Tensor, probs: Tensor, o: AttentionOptions): void {
  const nq = o.B * o.T * o.H * o.D;
  const nkv = o.B * o.T * o.KVH * o.D;
  check(gpu, 'attentionForward', o, { q: [q, nq], k: [k, nkv], v: [v, nkv], out: [out, nq], probs: [probs, o.B * o.H * o.T * o.T] });
  const p = params(o);
  rowDispatch(gpu, 'softmax', [q, k, probs], o);
  if (vec4Elementwise(gpu, o)) gpu.dispatch(K.pv4, [probs, v, out], p, groups(nq / 4, WG));
  else gpu.dispatch(K.pv, [probs, v, out], p, groups(nq, WG));
}

/** Overwrites dq [B*T,H*D], dk and dv [B*T,KVH*D] (summed over the query heads sharing a kv head). */
export function attentionBackward(
  gpu: Gpu,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  probs: Tensor,
  dout: Tensor,
  dq: Tensor,
  dk: Tensor,
  dv: Tensor,
  o: AttentionOptions,
): void {
  const nq = o.B * o.T * o.H * o.D;
  const nkv = o.B * o.T * o.KVH * o.D;
  check(gpu, 'attentionBackward', o, {
    q: [q, nq], k: [k, nkv], v: [v, nkv], probs: [probs, o.B * o.H * o.T * o.T],
    dout: [dout, nq], dq: [dq, nq], dk: [dk, nkv], dv: [dv, nkv],
  });
  const p = params(o);
  const ds = gpu.tensor([o.B, o.H, o.T, o.T]);
  rowDispatch(gpu, 'ds', [probs, dout, v, ds], o);
  if (vec4Elementwise(gpu, o)) {
    gpu.dispatch(K.dq4, [ds, k, dq], p, groups(nq / 4, WG));
    gpu.dispatch(K.dkv4, [ds, probs, q, dout, dk, dv], p, groups(nkv / 4, WG));
  } else {
    gpu.dispatch(K.dq, [ds, k, dq], p, groups(nq, WG));
    gpu.dispatch(K.dkv, [ds, probs, q, dout, dk, dv], p, groups(nkv, WG));
  }
  // Safe to hand back now: later users of this buffer are recorded after these dispatches.
  gpu.release(ds);
}
