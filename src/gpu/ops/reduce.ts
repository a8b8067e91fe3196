// Reductions over f32 tensors: per-sequence log-prob sums (and backward), a masked sum into one scalar
// slot (metrics), and the global gradient L2 norm with torch's clip coefficient, all on the GPU (no readback).
// Each sum has a workgroup tree-reduction form (GPUs) and a barrier-free one (CPU adapters): variant.ts.
import { f32, groups, type Gpu, type Tensor } from '../context';
import code from '../../shaders/reduce.wgsl?raw';
import { reduceVariant, THREAD_WG } from './variant';

const WG = 256;
/** Workgroups per gradient tensor in the first stage of the norm (enough to fill a large GPU). */
const NORM_GROUPS = 256;
const kernel = (entryPoint: string) => ({ name: 'reduce', code, entryPoint });
/** The barrier-free variant of an entry point (CPU adapters, see variant.ts). */
const threadKernel = (entryPoint: string) => ({ name: 'reduce', code, entryPoint: `${entryPoint}_thread`, constants: { TWG: THREAD_WG } });
const singleKernel = (entryPoint: string) => ({ name: 'reduce', code, entryPoint: `${entryPoint}_thread` });
/** Elements per invocation in the first stage of the norm's 'thread' variant. */
const THREAD_NORM_ELEMS = 4096;

/** Throws a RangeError naming the op and tensor when `t` holds fewer than `need` elements. */
export function needElems(op: string, what: string, t: Tensor, need: number): void {
  if (t.size < need) throw new RangeError(`${op}: ${what} holds ${t.size} elements but ${need} are needed (shape [${t.shape}]).`);
}

/** Throws unless v is an integer >= min. */
export function needInt(op: string, what: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${op}: ${what} must be an integer >= ${min}, got ${v}.`);
}

/**
 * Throws when a written tensor's buffer is bound more than once in one call (WebGPU forbids a writable
 * binding aliasing any other binding). `bound` lists every tensor of the call, `written` those it writes.
 */
export function needNoAlias(op: string, written: readonly Tensor[], bound: readonly Tensor[]): void {
  for (const w of written) {
    if (bound.filter((t) => t.buf === w.buf).length > 1) {
      throw new RangeError(`${op}: an output must not share its buffer with another tensor of the same call.`);
    }
  }
}

/** out[s] = sum_t tokenLogp[s*T+t] * mask[s*T+t] for s < S. */
export function sequenceLogps(gpu: Gpu, tokenLogp: Tensor, mask: Tensor, out: Tensor, o: { S: number; T: number }): void {
  const op = 'sequenceLogps';
  needInt(op, 'S', o.S);
  needInt(op, 'T', o.T);
  needElems(op, 'tokenLogp', tokenLogp, o.S * o.T);
  needElems(op, 'mask', mask, o.S * o.T);
  needElems(op, 'out', out, o.S);
  needNoAlias(op, [out], [tokenLogp, mask, out]);
  if (reduceVariant(gpu) === 'thread') gpu.dispatch(threadKernel('seq_logps'), [tokenLogp, mask, out], [o.S, o.T], groups(o.S, THREAD_WG));
  else gpu.dispatch(kernel('seq_logps'), [tokenLogp, mask, out], [o.S, o.T], o.S);
}

/** dtoken[s*T+t] = dseq[s] * mask[s*T+t] (overwrites dtoken). */
export function sequenceLogpsBackward(gpu: Gpu, dseq: Tensor, mask: Tensor, dtoken: Tensor, o: { S: number; T: number }): void {
  const op = 'sequenceLogpsBackward';
  needInt(op, 'S', o.S);
  needInt(op, 'T', o.T);
  needElems(op, 'dseq', dseq, o.S);
  needElems(op, 'mask', mask, o.S * o.T);
  needElems(op, 'dtoken', dtoken, o.S * o.T);
  needNoAlias(op, [dtoken], [dseq, mask, dtoken]);
  gpu.dispatch(kernel('seq_logps_backward'), [dseq, mask, dtoken], [o.S, o.T], groups(o.S * o.T, WG));
}

/** out[outIndex] = sum_{r < R} x[r] * mask[r] (one workgroup; the other elements of out are untouched). */
export function maskedSum(gpu: Gpu, x: Tensor, mask: Tensor, out: Tensor, o: { R: number; outIndex: number }): void {
  const op = 'maskedSum';
  needInt(op, 'R', o.R);
  needInt(op, 'outIndex', o.outIndex, 0);
  needElems(op, 'x', x, o.R);
  needElems(op, 'mask', mask, o.R);
  needElems(op, 'out', out, o.outIndex + 1);
  needNoAlias(op, [out], [x, mask, out]);
  gpu.dispatch(reduceVariant(gpu) === 'thread' ? singleKernel('masked_sum') : kernel('masked_sum'), [x, mask, out], [o.R, o.outIndex], 1);
}

/**
 * partial[i] = sum of squares of grads[i] (only the first grads[i].size elements). One dispatch per
 * tensor (storage bindings per shader stage are few), each with a fixed number of workgroups striding over
 * the tensor, then one dispatch that folds the per-workgroup sums.
 */
export function sumSquares(gpu: Gpu, grads: readonly Tensor[], partial: Tensor): void {
  const op = 'sumSquares';
  if (grads.length === 0) throw new RangeError(`${op}: there are no gradient tensors to measure.`);
  needElems(op, 'partial', partial, grads.length);
  grads.forEach((g, i) => {
    if (g.buf === partial.buf) throw new RangeError(`${op}: partial must not share its buffer with gradient ${i}.`);
  });
  // Unused slots must read as 0 in the finishing sum: small tensors get few workgroups (each
  // workgroup's tree reduction costs barriers, which are slow on CPU adapters).
  const scratch = gpu.tensor([grads.length * NORM_GROUPS], 'f32', true);
  if (reduceVariant(gpu) === 'thread') {
    // G invocations per tensor, each summing a strided share; then one invocation per tensor.
    grads.forEach((g, i) => {
      const G = Math.max(1, Math.min(NORM_GROUPS, Math.ceil(g.size / THREAD_NORM_ELEMS)));
      gpu.dispatch(threadKernel('sum_squares_partial'), [g, scratch], [g.size, i * NORM_GROUPS, G], groups(G, THREAD_WG));
    });
    gpu.dispatch(threadKernel('sum_squares_finish'), [scratch, partial], [grads.length, NORM_GROUPS], groups(grads.length, THREAD_WG));
  } else {
    grads.forEach((g, i) => {
      const G = Math.max(1, Math.min(NORM_GROUPS, Math.ceil(g.size / (256 * 64))));
      gpu.dispatch(kernel('sum_squares_partial'), [g, scratch], [g.size, i * NORM_GROUPS, G], G);
    });
    gpu.dispatch(kernel('sum_squares_finish'), [scratch, partial], [grads.length, NORM_GROUPS], grads.length);
  }
  // The pool may hand the buffer out again; anything recorded later runs after these dispatches.
  gpu.release(scratch);
}

/**
 * out[0] = sqrt(sum partial[0..count)) (the global L2 norm), out[1] = clip coefficient
 * min(1, maxNorm / (norm + 1e-6)) as torch.nn.utils.clip_grad_norm_; maxNorm <= 0 or Infinity: 1.
 */
export function gradNormAndClip(gpu: Gpu, partial: Tensor, count: number, out: Tensor, maxNorm: number): void {
  const op = 'gradNormAndClip';
  needInt(op, 'count', count);
  needElems(op, 'partial', partial, count);
  needElems(op, 'out', out, 2);
  needNoAlias(op, [out], [partial, out]);
  if (Number.isNaN(maxNorm)) throw new RangeError(`${op}: maxNorm is NaN; use a positive number, or 0 or Infinity for no clipping.`);
  const clips = maxNorm > 0 && Number.isFinite(maxNorm);
  const k = reduceVariant(gpu) === 'thread' ? singleKernel('grad_norm_clip') : kernel('grad_norm_clip');
  gpu.dispatch(k, [partial, out], [count, clips ? 1 : 0, f32(clips ? maxNorm : 0)], 1);
}
