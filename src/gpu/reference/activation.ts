// CPU references (float64) for src/shaders/activation.wgsl.
type Arr = ArrayLike<number>;

const C = Math.sqrt(2 / Math.PI);
const A = 0.044715;

export const geluNew = (x: number): number => 0.5 * x * (1 + Math.tanh(C * (x + A * x * x * x)));
export const silu = (g: number): number => g / (1 + Math.exp(-g));

export function geluNewForwardRef(x: Arr, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = geluNew(x[i]);
  return out;
}

export function geluNewBackwardRef(x: Arr, dy: Arr, n: number): Float64Array {
  const dx = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const t = Math.tanh(C * (v + A * v * v * v));
    dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * C * (1 + 3 * A * v * v));
  }
  return dx;
}

export function swigluForwardRef(gate: Arr, up: Arr, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = silu(gate[i]) * up[i];
  return out;
}

export function swigluBackwardRef(gate: Arr, up: Arr, dy: Arr, n: number): { dgate: Float64Array; dup: Float64Array } {
  const dgate = new Float64Array(n);
  const dup = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const s = 1 / (1 + Math.exp(-g));
    dgate[i] = dy[i] * up[i] * s * (1 + g * (1 - s));
    dup[i] = dy[i] * g * s;
  }
  return { dgate, dup };
}
