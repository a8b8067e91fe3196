// Linear layers in both Hugging Face layouts, forward and backward, as matmuls.
// - 'conv1d' (GPT-2's Conv1D): W is [in, out], y = x W + b
// - 'linear' (torch.nn.Linear, Llama/Qwen): W is [out, in], y = x W^T + b
import type { Gpu, Tensor } from '../gpu/context';
import { matmul, sumRows } from '../gpu/ops/matmul';

export type LinearLayout = 'conv1d' | 'linear';

export interface LinearShape {
  rows: number;
  inF: number;
  outF: number;
  layout: LinearLayout;
}

/** out (=|+=) x W (+ b). */
export function linearForward(gpu: Gpu, x: Tensor, w: Tensor, b: Tensor | undefined, out: Tensor, s: LinearShape, accumulate = false): void {
  matmul(gpu, x, w, out, { M: s.rows, N: s.outF, K: s.inF, transB: s.layout === 'linear', bias: b, accumulate });
}

/** dx (=|+=) dy W^T; dW += x^T dy (in W's layout); db += colsum(dy). dx may be null (frozen input). */
export function linearBackward(
  gpu: Gpu,
  x: Tensor,
  w: Tensor,
  dy: Tensor,
  dx: Tensor | null,
  dw: Tensor | null,
  db: Tensor | null,
  s: LinearShape,
  accumulateDx = false,
): void {
  if (dx) matmul(gpu, dy, w, dx, { M: s.rows, N: s.inF, K: s.outF, transB: s.layout === 'conv1d', accumulate: accumulateDx });
  if (dw) {
    if (s.layout === 'conv1d') matmul(gpu, x, dy, dw, { M: s.inF, N: s.outF, K: s.rows, transA: true, accumulate: true });
    else matmul(gpu, dy, x, dw, { M: s.outF, N: s.inF, K: s.rows, transA: true, accumulate: true });
  }
  if (db) sumRows(gpu, dy, db, { rows: s.rows, cols: s.outF, accumulate: true });
}
