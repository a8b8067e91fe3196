// CPU references (float64) for src/shaders/norm.wgsl.
type Arr = ArrayLike<number>;

export function layerNormForwardRef(x: Arr, w: Arr, b: Arr, rows: number, cols: number, eps: number) {
  const out = new Float64Array(rows * cols);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m += x[r * cols + c];
    m /= cols;
    let v = 0;
    for (let c = 0; c < cols; c++) v += (x[r * cols + c] - m) ** 2;
    const s = 1 / Math.sqrt(v / cols + eps);
    for (let c = 0; c < cols; c++) out[r * cols + c] = (x[r * cols + c] - m) * s * w[c] + b[c];
    mean[r] = m;
    rstd[r] = s;
  }
  return { out, mean, rstd };
}

/** Gradients of sum(dy * layerNorm(x)) w.r.t. x, w and b (fresh, not accumulated). */
export function layerNormBackwardRef(dy: Arr, x: Arr, w: Arr, rows: number, cols: number, eps: number) {
  const { mean, rstd } = layerNormForwardRef(x, w, new Float64Array(cols), rows, cols, eps);
  const dx = new Float64Array(rows * cols);
  const dw = new Float64Array(cols);
  const db = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    let mg = 0;
    let mgx = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const xhat = (x[i] - mean[r]) * rstd[r];
      const g = dy[i] * w[c];
      mg += g;
      mgx += g * xhat;
      dw[c] += dy[i] * xhat;
      db[c] += dy[i];
    }
    mg /= cols;
    mgx /= cols;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const xhat = (x[i] - mean[r]) * rstd[r];
      dx[i] = rstd[r] * (dy[i] * w[c] - mg - xhat * mgx);
    }
  }
  return { dx, dw, db };
}

export function rmsNormForwardRef(x: Arr, w: Arr, rows: number, cols: number, eps: number) {
  const out = new Float64Array(rows * cols);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let q = 0;
    for (let c = 0; c < cols; c++) q += x[r * cols + c] ** 2;
    const s = 1 / Math.sqrt(q / cols + eps);
    for (let c = 0; c < cols; c++) out[r * cols + c] = w[c] * x[r * cols + c] * s;
    rstd[r] = s;
  }
  return { out, rstd };
}

/** Gradients of sum(dy * rmsNorm(x)) w.r.t. x and w (fresh, not accumulated). */
export function rmsNormBackwardRef(dy: Arr, x: Arr, w: Arr, rows: number, cols: number, eps: number) {
  const { rstd } = rmsNormForwardRef(x, w, rows, cols, eps);
  const dx = new Float64Array(rows * cols);
  const dw = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const s = rstd[r];
    let k = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      k += dy[i] * w[c] * x[i];
      dw[c] += dy[i] * x[i] * s;
    }
    k *= (s * s * s) / cols;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      dx[i] = s * dy[i] * w[c] - x[i] * k;
    }
  }
  return { dx, dw };
}
