// Per-token log-softmax + gather over vocabulary CHUNKS. The model computes logitsChunk = h @ W[v0:v0+Vc]^T,
// calls logprobChunkUpdate for that chunk and frees it, so [tokens x vocab] logits never exist at once.
// Row n's target is targets[n] (u32 id of the next token); an id outside the vocabulary (e.g. 0xffffffff)
// means "no target": logp = 0 (lse is still computed, the KL uses it).
import { groups, type Gpu, type Kernel, type Tensor, kernelSections } from '../context';
import src from '../../shaders/logprob.wgsl?raw';
import { reduceVariant, THREAD_WG } from './variant';

export interface LogprobState {
  max: Tensor; // [N] running max of the logits seen so far
  sumExp: Tensor; // [N] running sum of exp(logit - max)
  target: Tensor; // [N] the target's logit once its chunk was seen
  logitSum: Tensor; // [N] sum of the raw logits seen (TRL's logits/* metrics are means of raw logits)
  /** [N] u32: 1 once the target's chunk was seen (rows with an out-of-vocabulary target stay 0). */
  found: Tensor;
}

const K = kernelSections('logprob', src);
const WG = 64;

/** A per-row reduction (update, kl) over N rows, in the variant chosen for this adapter (variant.ts). */
function rowDispatch(gpu: Gpu, name: 'update' | 'kl', tensors: Tensor[], params: number[], N: number): void {
  if (reduceVariant(gpu) === 'thread') {
    gpu.dispatch({ ...K[`${name}_thread`], constants: { TWG: THREAD_WG } }, tensors, params, groups(N, THREAD_WG));
  } else {
    gpu.dispatch(K[name], tensors, params, N);
  }
}

function checkDims(what: string, o: Record<string, number>): void {
  for (const [k, v] of Object.entries(o)) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${what}: ${k} must be a non-negative integer, got ${v}.`);
  }
}

function checkSizes(what: string, ts: Record<string, [Tensor, number]>): void {
  for (const [n, [t, size]] of Object.entries(ts)) {
    if (t.size !== size) throw new RangeError(`${what}: ${n} must hold ${size} values, it holds ${t.size}.`);
  }
}

function checkTargets(what: string, targets: Tensor, N: number): void {
  if (targets.dtype !== 'u32') throw new TypeError(`${what}: targets must be a u32 tensor of token ids, got ${targets.dtype}.`);
  checkSizes(what, { targets: [targets, N] });
}

export function createLogprobState(gpu: Gpu, N: number): LogprobState {
  checkDims('createLogprobState', { N });
  return { max: gpu.tensor([N]), sumExp: gpu.tensor([N]), target: gpu.tensor([N]), logitSum: gpu.tensor([N]), found: gpu.tensor([N], 'u32') };
}

export function releaseLogprobState(gpu: Gpu, s: LogprobState): void {
  gpu.release(s.max, s.sumExp, s.target, s.logitSum, s.found);
}

function stateTensors(s: LogprobState): Tensor[] {
  return [s.max, s.sumExp, s.target, s.logitSum, s.found];
}

function checkState(what: string, s: LogprobState, N: number): void {
  checkSizes(what, { 'state.max': [s.max, N], 'state.sumExp': [s.sumExp, N], 'state.target': [s.target, N], 'state.logitSum': [s.logitSum, N], 'state.found': [s.found, N] });
}

/** max = -3e38 (a finite -inf), sumExp = 0, target = 0, logitSum = 0, found = 0. */
export function logprobInit(gpu: Gpu, state: LogprobState, N: number): void {
  checkDims('logprobInit', { N });
  checkState('logprobInit', state, N);
  gpu.dispatch(K.init, stateTensors(state), [N], groups(N, WG));
}

/**
 * Merges the chunk logits [N, Vc] (vocabulary ids vOffset..vOffset+Vc-1) into the running logsumexp,
 * picks up the target logit where targets[n] falls in this chunk, and adds the chunk's logits to logitSum.
 */
export function logprobChunkUpdate(gpu: Gpu, logits: Tensor, targets: Tensor, state: LogprobState, o: { N: number; Vc: number; vOffset: number }): void {
  const what = 'logprobChunkUpdate';
  checkDims(what, o);
  if (o.Vc === 0) throw new RangeError(`${what}: a vocabulary chunk must hold at least one column.`);
  checkSizes(what, { logits: [logits, o.N * o.Vc] });
  checkTargets(what, targets, o.N);
  checkState(what, state, o.N);
  const [max, sumExp, target, logitSum, found] = stateTensors(state);
  rowDispatch(gpu, 'update', [logits, targets, max, sumExp, target, logitSum, found], [o.N, o.Vc, o.vOffset], o.N);
}

/** lse = max + log(sumExp); logp = target logit - lse, or 0 for rows whose target was not in any chunk. */
export function logprobFinalize(gpu: Gpu, state: LogprobState, targets: Tensor, lse: Tensor, logp: Tensor, o: { N: number }): void {
  const what = 'logprobFinalize';
  checkDims(what, o);
  checkState(what, state, o.N);
  // targets is part of the API (the found flag already says which rows had one); checked for consistency.
  checkTargets(what, targets, o.N);
  checkSizes(what, { lse: [lse, o.N], logp: [logp, o.N] });
  gpu.dispatch(K.finalize, [state.max, state.sumExp, state.target, state.found, lse, logp], [o.N], groups(o.N, WG));
}

/** dlogits[n,v] = g[n] * ([v + vOffset == targets[n]] - exp(logits[n,v] - lse[n])), overwritten. */
export function logprobChunkBackward(
  gpu: Gpu,
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  g: Tensor,
  dlogits: Tensor,
  o: { N: number; Vc: number; vOffset: number },
): void {
  const what = 'logprobChunkBackward';
  checkDims(what, o);
  checkTargets(what, targets, o.N);
  checkSizes(what, { logits: [logits, o.N * o.Vc], dlogits: [dlogits, o.N * o.Vc], lse: [lse, o.N], g: [g, o.N] });
  if (logits.buf === dlogits.buf) throw new Error(`${what}: logits and dlogits must be different tensors (WebGPU cannot bind one buffer as read and read_write in one dispatch).`);
  gpu.dispatch(K.backward, [logits, targets, lse, g, dlogits], [o.N, o.Vc, o.vOffset], groups(o.N * o.Vc, WG));
}

/** kl[n] += sum_v p(v) * ((pl - polLse) - (rl - refLse)) with p = exp(pl - polLse): KL(pi_theta || pi_ref) per row. */
export function klChunkUpdate(
  gpu: Gpu,
  polLogits: Tensor,
  refLogits: Tensor,
  polLse: Tensor,
  refLse: Tensor,
  kl: Tensor,
  o: { N: number; Vc: number },
): void {
  const what = 'klChunkUpdate';
  checkDims(what, o);
  checkSizes(what, { polLogits: [polLogits, o.N * o.Vc], refLogits: [refLogits, o.N * o.Vc], polLse: [polLse, o.N], refLse: [refLse, o.N], kl: [kl, o.N] });
  rowDispatch(gpu, 'kl', [polLogits, refLogits, polLse, refLse, kl], [o.N, o.Vc], o.N);
}
