// CPU references (float64) for src/shaders/matmul.wgsl.
type Arr = ArrayLike<number>;

/** out[M,N] = alpha * opA @ opB + bias (+ prior when given). Same storage conventions as `matmul`. */
export function matmulRef(
  a: Arr,
  b: Arr,
  o: { M: number; N: number; K: number; transA?: boolean; transB?: boolean; bias?: Arr; prior?: Arr; alpha?: number },
): Float64Array {
  const { M, N, K } = o;
  const alpha = o.alpha ?? 1;
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const av = o.transA ? a[k * M + m] : a[m * K + k];
        const bv = o.transB ? b[n * K + k] : b[k * N + n];
        s += av * bv;
      }
      let v = alpha * s;
      if (o.bias) v += o.bias[n];
      if (o.prior) v += o.prior[m * N + n];
      out[m * N + n] = v;
    }
  }
  return out;
}

/** out[c] = sum_r x[r, c] (+ prior[c]). */
export function sumRowsRef(x: Arr, rows: number, cols: number, prior?: Arr): Float64Array {
  const out = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    let s = prior ? prior[c] : 0;
    for (let r = 0; r < rows; r++) s += x[r * cols + c];
    out[c] = s;
  }
  return out;
}
