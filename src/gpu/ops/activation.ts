// Activations: GPT-2's gelu_new and Llama's SwiGLU, forward and backward. Flat tensors of n elements.
import { groups, type Gpu, type Tensor } from '../context';
import code from '../../shaders/activation.wgsl?raw';
import { requireDistinct, requireSize } from './elementwise';

const WG = 256;
const kernel = (entryPoint: string) => ({ name: 'activation', code, entryPoint });

function check(op: string, n: number, read: Record<string, Tensor>, written: Record<string, Tensor>): void {
  for (const [k, t] of Object.entries({ ...read, ...written })) requireSize(op, k, t, n);
  for (const w of Object.values(written)) requireDistinct(op, w, ...Object.values(read));
  const ws = Object.values(written);
  if (ws.length === 2 && ws[0].buf === ws[1].buf) throw new RangeError(`${op}: the two outputs must be different buffers.`);
}

/** out = gelu_new(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
export function geluNewForward(gpu: Gpu, x: Tensor, out: Tensor, n: number): void {
  check('geluNewForward', n, { x }, { out });
  gpu.dispatch(kernel('gelu_forward'), [x, out], [n], groups(n, WG));
}

/** dx = dy * gelu_new'(x) (overwrites dx). */
export function geluNewBackward(gpu: Gpu, x: Tensor, dy: Tensor, dx: Tensor, n: number): void {
  check('geluNewBackward', n, { x, dy }, { dx });
  gpu.dispatch(kernel('gelu_backward'), [x, dy, dx], [n], groups(n, WG));
}

/** out = silu(gate) * up */
export function swigluForward(gpu: Gpu, gate: Tensor, up: Tensor, out: Tensor, n: number): void {
  check('swigluForward', n, { gate, up }, { out });
  gpu.dispatch(kernel('swiglu_forward'), [gate, up, out], [n], groups(n, WG));
}

/** dgate = dy * up * silu'(gate), dup = dy * silu(gate) (both overwritten). */
export function swigluBackward(gpu: Gpu, gate: Tensor, up: Tensor, dy: Tensor, dgate: Tensor, dup: Tensor, n: number): void {
  check('swigluBackward', n, { gate, up, dy }, { dgate, dup });
  gpu.dispatch(kernel('swiglu_backward'), [gate, up, dy, dgate, dup], [n], groups(n, WG));
}
