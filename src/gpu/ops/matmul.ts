// Matrix multiply for every dense layer, forward and backward, and column sums for bias gradients.
// See src/shaders/matmul.wgsl for the two kernel variants (workgroup-memory tiles for GPUs,
// barrier-free register blocks for CPU WebGPU implementations).
import { f32, groups, type Gpu, type Tensor } from '../context';
import code from '../../shaders/matmul.wgsl?raw';
import { requireDistinct, requireInt, requireSize } from './elementwise';
import { isCpuAdapter } from './variant';

export type MatmulVariant = 'tiled' | 'register';

let variantSetting: MatmulVariant | 'auto' = 'auto';

/** Chooses the matmul kernel: 'auto' picks 'register' on CPU adapters (SwiftShader, llvmpipe, lavapipe), else 'tiled'. */
export function setMatmulVariant(v: MatmulVariant | 'auto'): void {
  if (v !== 'tiled' && v !== 'register' && v !== 'auto') throw new RangeError(`setMatmulVariant: unknown variant "${String(v)}".`);
  variantSetting = v;
}

/** The variant `matmul` uses on this GPU under the current setting. */
export function matmulVariant(gpu: Gpu): MatmulVariant {
  if (variantSetting !== 'auto') return variantSetting;
  return isCpuAdapter(gpu) ? 'register' : 'tiled';
}

// Tile geometry (must match matmul.wgsl: 8x8 per thread in main_register, TM=TN=4 in main_tiled).
const REG = { RM: 8, RN: 8, RWX: 8, RWY: 8 };
const TILE = { TM: 4, TN: 4, WX: 16, WY: 16, BK: 16 };

// 1-element stand-ins bound when there is no bias / no epilogue operand (layout 'auto' needs every
// binding bound; the epilogue's is writable, so it cannot share the bias's stand-in).
const dummies = new WeakMap<Gpu, [Tensor, Tensor]>();
function dummy(gpu: Gpu, which: 0 | 1): Tensor {
  let t = dummies.get(gpu);
  if (!t) {
    t = [gpu.tensor([1], 'f32', true), gpu.tensor([1], 'f32', true)];
    dummies.set(gpu, t);
  }
  return t[which];
}

export interface MatmulOptions {
  M: number;
  N: number;
  K: number;
  /** A is stored [K, M] (opA = A^T). */
  transA?: boolean;
  /** B is stored [N, K] (opB = B^T). */
  transB?: boolean;
  /** bias[N], added once to every row (after alpha). */
  bias?: Tensor;
  /** out += result instead of out = result. */
  accumulate?: boolean;
  alpha?: number;
  /** Also write geluOut[M,N] = gelu_new(out) (bias + activation in the matmul's epilogue). */
  geluOut?: Tensor;
  /** Scale the result by gelu_new'(geluGradOf[M,N]) before storing it (backward through the activation). */
  geluGradOf?: Tensor;
}

/**
 * out[M,N] (=|+=) alpha * opA @ opB (+ bias), optionally followed by gelu_new (geluOut) or scaled by
 * gelu_new' (geluGradOf) in the same kernel. opA is [M,K]: A stored [M,K], or [K,M] with transA.
 * opB is [K,N]: B stored [K,N], or [N,K] with transB.
 */
export function matmul(gpu: Gpu, a: Tensor, b: Tensor, out: Tensor, o: MatmulOptions): void {
  const op = 'matmul';
  const { M, N, K } = o;
  requireInt(op, 'M', M);
  requireInt(op, 'N', N);
  requireInt(op, 'K', K);
  requireSize(op, 'A', a, M * K);
  requireSize(op, 'B', b, K * N);
  requireSize(op, 'out', out, M * N);
  if (o.bias) requireSize(op, 'bias', o.bias, N);
  requireDistinct(op, out, a, b, o.bias);
  if (o.geluOut && o.geluGradOf) throw new RangeError('matmul: geluOut and geluGradOf are two different epilogues; give one.');
  const ep = o.geluOut ?? o.geluGradOf;
  if (ep) {
    requireSize(op, o.geluOut ? 'geluOut' : 'geluGradOf', ep, M * N);
    requireDistinct(op, ep, a, b, o.bias, out);
  }
  const alpha = o.alpha ?? 1;
  if (!Number.isFinite(alpha)) throw new RangeError(`matmul: alpha must be a finite number, got ${alpha}.`);
  const params = [M, N, K, f32(alpha), o.bias ? 1 : 0, o.accumulate ? 1 : 0];
  const tensors = [a, b, o.bias ?? dummy(gpu, 0), out, ep ?? dummy(gpu, 1)];
  const trans = { TRANS_A: o.transA ? 1 : 0, TRANS_B: o.transB ? 1 : 0, EPILOGUE: o.geluOut ? 1 : o.geluGradOf ? 2 : 0 };
  if (matmulVariant(gpu) === 'register') {
    const { RM, RN, RWX, RWY } = REG;
    gpu.dispatch({ name: 'matmul', code, entryPoint: 'main_register', constants: { ...trans, RWX, RWY } }, tensors, params, [
      groups(N, RN * RWX),
      groups(M, RM * RWY),
    ]);
  } else {
    const { TM, TN, WX, WY, BK } = TILE;
    gpu.dispatch({ name: 'matmul', code, entryPoint: 'main_tiled', constants: { ...trans, WX, WY, BK } }, tensors, params, [
      groups(N, TN * WX),
      groups(M, TM * WY),
    ]);
  }
}

const SUM_BLOCK = 256; // rows per partial sum

/** out[c] (=|+=) sum_r x[r, c] over x [rows, cols] (bias gradients; deterministic). */
export function sumRows(gpu: Gpu, x: Tensor, out: Tensor, o: { rows: number; cols: number; accumulate?: boolean }): void {
  const op = 'sumRows';
  const { rows, cols } = o;
  requireInt(op, 'rows', rows);
  requireInt(op, 'cols', cols);
  requireSize(op, 'x', x, rows * cols);
  requireSize(op, 'out', out, cols);
  requireDistinct(op, out, x);
  const k = { name: 'matmul', code, entryPoint: 'sum_cols' };
  const acc = o.accumulate ? 1 : 0;
  if (rows <= SUM_BLOCK) {
    gpu.dispatch(k, [x, out], [rows, cols, rows, acc], [groups(cols, 64), 1]);
    return;
  }
  const blocks = Math.ceil(rows / SUM_BLOCK);
  const part = gpu.tensor([blocks, cols]);
  gpu.dispatch(k, [x, part], [rows, cols, SUM_BLOCK, 0], [groups(cols, 64), blocks]);
  gpu.dispatch(k, [part, out], [blocks, cols, blocks, acc], [groups(cols, 64), 1]);
  // Safe to return to the pool now: later users of the buffer are recorded after these dispatches.
  gpu.release(part);
}
