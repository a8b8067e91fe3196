// Linear layers in both Hugging Face layouts, forward and backward, as matmuls.
// - 'conv1d' (GPT-2's Conv1D): W is [in, out], y = x W + b
// - 'linear' (torch.nn.Linear, Llama/Qwen): W is [out, in], y = x W^T + b
// A LoRA adapter (PEFT's layout in both cases: A [r, in], B [out, r]) can be attached to a weight
// tensor; every linear that reads that weight (training forward and backward, KV-cache decoding)
// then adds scaling * (x A^T) B^T while the adapters' switch is on. The base W stays frozen: its
// gradient is simply not asked for (dw = null).
import type { Gpu, Tensor } from '../gpu/context';
import { geluNewBackward, geluNewForward } from '../gpu/ops/activation';
import { matmul, sumRows } from '../gpu/ops/matmul';

export type LinearLayout = 'conv1d' | 'linear';

export interface LinearShape {
  rows: number;
  inF: number;
  outF: number;
  layout: LinearLayout;
}

/** One low-rank adapter on one weight: A [r, in], B [out, r], their gradients, and the shared on/off switch. */
export interface LoraLinear {
  r: number;
  scaling: number;
  a: Tensor;
  b: Tensor;
  /** Gradients (accumulated); several weights may share one A (GPT-2's split c_attn). */
  da: Tensor;
  db: Tensor;
  /** One switch per model: off = the base model (the DPO reference). */
  toggle: { enabled: boolean };
}

const adapters = new WeakMap<Tensor, LoraLinear>();

export function attachLora(w: Tensor, adapter: LoraLinear): void {
  adapters.set(w, adapter);
}

export function detachLora(w: Tensor): void {
  adapters.delete(w);
}

function activeLora(w: Tensor): LoraLinear | null {
  const l = adapters.get(w);
  return l && l.toggle.enabled ? l : null;
}

/** out (=|+=) x W (+ b) (+ scaling * (x A^T) B^T with an active adapter). */
export function linearForward(gpu: Gpu, x: Tensor, w: Tensor, b: Tensor | undefined, out: Tensor, s: LinearShape, accumulate = false): void {
  matmul(gpu, x, w, out, { M: s.rows, N: s.outF, K: s.inF, transB: s.layout === 'linear', bias: b, accumulate });
  const l = activeLora(w);
  if (!l) return;
  const t = gpu.tensor([s.rows, l.r]);
  matmul(gpu, x, l.a, t, { M: s.rows, N: l.r, K: s.inF, transB: true });
  matmul(gpu, t, l.b, out, { M: s.rows, N: s.outF, K: l.r, transB: true, alpha: l.scaling, accumulate: true });
  gpu.release(t); // later users of the buffer are recorded after these dispatches
}

/**
 * dx (=|+=) dy W^T; dW += x^T dy (in W's layout); db += colsum(dy). dx may be null (frozen input), dW and
 * db null (frozen weight). With an active adapter also dx += s (dy B) A, dB += s dy^T (x A^T), dA += s (dy B)^T x.
 */
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
  const l = activeLora(w);
  if (!l) return;
  const t = gpu.tensor([s.rows, l.r]); // x A^T, recomputed (rows x r is small)
  matmul(gpu, x, l.a, t, { M: s.rows, N: l.r, K: s.inF, transB: true });
  matmul(gpu, dy, t, l.db, { M: s.outF, N: l.r, K: s.rows, transA: true, alpha: l.scaling, accumulate: true });
  const u = gpu.tensor([s.rows, l.r]); // s * dy B
  matmul(gpu, dy, l.b, u, { M: s.rows, N: l.r, K: s.outF, alpha: l.scaling });
  matmul(gpu, u, x, l.da, { M: l.r, N: s.inF, K: s.rows, transA: true, accumulate: true });
  if (dx) matmul(gpu, u, l.a, dx, { M: s.rows, N: s.inF, K: l.r, accumulate: true });
  gpu.release(t, u);
}

/**
 * h = x W + b and act = gelu_new(h) (GPT-2's MLP up-projection). Without an active adapter the bias and
 * the activation run in the matmul's epilogue (one dispatch); with one, after the adapter's update.
 */
export function linearGeluForward(gpu: Gpu, x: Tensor, w: Tensor, b: Tensor | undefined, h: Tensor, act: Tensor, s: LinearShape): void {
  if (!activeLora(w)) {
    matmul(gpu, x, w, h, { M: s.rows, N: s.outF, K: s.inF, transB: s.layout === 'linear', bias: b, geluOut: act });
    return;
  }
  linearForward(gpu, x, w, b, h, s);
  geluNewForward(gpu, h, act, s.rows * s.outF);
}

/**
 * Backward of y = gelu_new(h) W + b with act = gelu_new(h) its saved input: dh = (dy W^T) * gelu_new'(h)
 * (the activation's backward in the matmul's epilogue when no adapter is active), dW += act^T dy, db.
 */
export function linearBackwardThroughGelu(gpu: Gpu, act: Tensor, h: Tensor, w: Tensor, dy: Tensor, dh: Tensor, dw: Tensor | null, db: Tensor | null, s: LinearShape): void {
  if (!activeLora(w)) {
    matmul(gpu, dy, w, dh, { M: s.rows, N: s.inF, K: s.outF, transB: s.layout === 'conv1d', geluGradOf: h });
    linearBackward(gpu, act, w, dy, null, dw, db, s);
    return;
  }
  const dact = gpu.tensor([s.rows, s.inF]);
  linearBackward(gpu, act, w, dy, dact, dw, db, s);
  geluNewBackward(gpu, h, dact, dh, s.rows * s.inF);
  gpu.release(dact);
}
