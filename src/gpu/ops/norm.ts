// LayerNorm and RMSNorm, forward (saving per-row statistics) and backward. Backward always
// accumulates parameter gradients (dw += ..., db += ...); dx is overwritten or, with accumulateDx,
// added to (residual streams).
import { f32, groups, type Gpu, type Tensor } from '../context';
import code from '../../shaders/norm.wgsl?raw';
import { requireDistinct, requireInt, requireSize } from './elementwise';
import { sumRows } from './matmul';
import { reduceVariant, THREAD_WG } from './variant';

const kernel = (entryPoint: string) => ({ name: 'norm', code, entryPoint, constants: { NWG: 128 } });

/** A per-row kernel in the variant chosen for this adapter (see variant.ts): `${entry}` or `${entry}_thread`. */
function rowDispatch(gpu: Gpu, entry: string, tensors: Tensor[], params: Parameters<Gpu['dispatch']>[2], rows: number): void {
  if (reduceVariant(gpu) === 'thread') {
    gpu.dispatch({ name: 'norm', code, entryPoint: `${entry}_thread`, constants: { TWG: THREAD_WG } }, tensors, params, groups(rows, THREAD_WG));
  } else {
    gpu.dispatch(kernel(entry), tensors, params, rows);
  }
}
const PARAM_BLOCK = 256; // rows per partial parameter-gradient sum

interface RowShape {
  rows: number;
  cols: number;
}

function checkShape(op: string, o: RowShape): void {
  requireInt(op, 'rows', o.rows);
  requireInt(op, 'cols', o.cols);
}

function checkEps(op: string, eps: number): void {
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new RangeError(`${op}: eps must be a finite number >= 0, got ${eps}.`);
}

/**
 * Parameter gradients: one dispatch straight into the gradients when the rows fit one block,
 * otherwise per-block partial sums, then a fixed-order sum added into the gradients.
 */
function paramGrads(gpu: Gpu, entry: string, inputs: Tensor[], grads: Tensor[], o: RowShape): void {
  const { rows, cols } = o;
  const wgx = Math.ceil(cols / 64);
  if (rows <= PARAM_BLOCK) {
    gpu.dispatch(kernel(entry), [...inputs, ...grads], [rows, cols, f32(0), 1, rows], [wgx, 1]);
    return;
  }
  const blocks = Math.ceil(rows / PARAM_BLOCK);
  const parts = grads.map(() => gpu.tensor([blocks, cols]));
  gpu.dispatch(kernel(entry), [...inputs, ...parts], [rows, cols, f32(0), 0, PARAM_BLOCK], [wgx, blocks]);
  parts.forEach((part, i) => sumRows(gpu, part, grads[i], { rows: blocks, cols, accumulate: true }));
  gpu.release(...parts); // later users of these buffers are recorded after the reads above
}

/** torch LayerNorm over the last dim: out = (x - mean) * rstd * w + b, biased variance; saves mean/rstd [rows]. */
export function layerNormForward(
  gpu: Gpu,
  x: Tensor,
  w: Tensor,
  b: Tensor,
  out: Tensor,
  mean: Tensor,
  rstd: Tensor,
  o: { rows: number; cols: number; eps: number },
): void {
  const op = 'layerNormForward';
  checkShape(op, o);
  checkEps(op, o.eps);
  requireSize(op, 'x', x, o.rows * o.cols);
  requireSize(op, 'w', w, o.cols);
  requireSize(op, 'b', b, o.cols);
  requireSize(op, 'out', out, o.rows * o.cols);
  requireSize(op, 'mean', mean, o.rows);
  requireSize(op, 'rstd', rstd, o.rows);
  for (const t of [out, mean, rstd]) requireDistinct(op, t, x, w, b);
  requireDistinct(op, out, mean, rstd);
  requireDistinct(op, mean, rstd);
  rowDispatch(gpu, 'ln_forward', [x, w, b, out, mean, rstd], [o.rows, o.cols, f32(o.eps), 0, 0], o.rows);
}

/** LayerNorm backward: dw += sum_r dy * xhat, db += sum_r dy (skipped when both are null), dx (=|+=) d(loss)/dx. */
export function layerNormBackward(
  gpu: Gpu,
  dy: Tensor,
  x: Tensor,
  w: Tensor,
  mean: Tensor,
  rstd: Tensor,
  dx: Tensor,
  dw: Tensor | null,
  db: Tensor | null,
  o: { rows: number; cols: number; accumulateDx?: boolean },
): void {
  const op = 'layerNormBackward';
  checkShape(op, o);
  const n = o.rows * o.cols;
  requireSize(op, 'dy', dy, n);
  requireSize(op, 'x', x, n);
  requireSize(op, 'w', w, o.cols);
  requireSize(op, 'mean', mean, o.rows);
  requireSize(op, 'rstd', rstd, o.rows);
  requireSize(op, 'dx', dx, n);
  requireDistinct(op, dx, dy, x, w, mean, rstd);
  if (!dw !== !db) throw new RangeError(`${op}: dw and db are both given or both null (a frozen norm).`);
  if (dw && db) {
    requireSize(op, 'dw', dw, o.cols);
    requireSize(op, 'db', db, o.cols);
    for (const t of [dx, dw, db]) requireDistinct(op, t, dy, x, w, mean, rstd);
    requireDistinct(op, dx, dw, db);
    requireDistinct(op, dw, db);
  }
  rowDispatch(gpu, 'ln_backward_dx', [dy, x, w, mean, rstd, dx], [o.rows, o.cols, f32(0), o.accumulateDx ? 1 : 0, 0], o.rows);
  if (dw && db) paramGrads(gpu, 'ln_backward_params', [dy, x, mean, rstd], [dw, db], o);
}

/** HF LlamaRMSNorm: out = w * (x * rsqrt(mean(x^2) + eps)); saves rstd [rows]. */
export function rmsNormForward(gpu: Gpu, x: Tensor, w: Tensor, out: Tensor, rstd: Tensor, o: { rows: number; cols: number; eps: number }): void {
  const op = 'rmsNormForward';
  checkShape(op, o);
  checkEps(op, o.eps);
  requireSize(op, 'x', x, o.rows * o.cols);
  requireSize(op, 'w', w, o.cols);
  requireSize(op, 'out', out, o.rows * o.cols);
  requireSize(op, 'rstd', rstd, o.rows);
  for (const t of [out, rstd]) requireDistinct(op, t, x, w);
  requireDistinct(op, out, rstd);
  rowDispatch(gpu, 'rms_forward', [x, w, out, rstd], [o.rows, o.cols, f32(o.eps), 0, 0], o.rows);
}

/** RMSNorm backward: dw += sum_r dy * x * rstd (skipped when dw is null), dx (=|+=) d(loss)/dx. */
export function rmsNormBackward(
  gpu: Gpu,
  dy: Tensor,
  x: Tensor,
  w: Tensor,
  rstd: Tensor,
  dx: Tensor,
  dw: Tensor | null,
  o: { rows: number; cols: number; accumulateDx?: boolean },
): void {
  const op = 'rmsNormBackward';
  checkShape(op, o);
  const n = o.rows * o.cols;
  requireSize(op, 'dy', dy, n);
  requireSize(op, 'x', x, n);
  requireSize(op, 'w', w, o.cols);
  requireSize(op, 'rstd', rstd, o.rows);
  requireSize(op, 'dx', dx, n);
  requireDistinct(op, dx, dy, x, w, rstd);
  if (dw) {
    requireSize(op, 'dw', dw, o.cols);
    for (const t of [dx, dw]) requireDistinct(op, t, dy, x, w, rstd);
    requireDistinct(op, dx, dw);
  }
  rowDispatch(gpu, 'rms_backward_dx', [dy, x, w, rstd, dx], [o.rows, o.cols, f32(0), o.accumulateDx ? 1 : 0, 0], o.rows);
  if (dw) paramGrads(gpu, 'rms_backward_params', [dy, x, rstd], [dw], o); // null: a frozen norm (LoRA)
}
