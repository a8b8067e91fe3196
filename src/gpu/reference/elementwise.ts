// CPU references (float64) for src/shaders/elementwise.wgsl.
type Arr = ArrayLike<number>;

export function addRef(a: Arr, b: Arr, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  return out;
}

export function scaleRef(x: Arr, n: number, s: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = s * x[i];
  return out;
}
