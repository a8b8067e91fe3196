// CPU references (float64) for src/shaders/embedding.wgsl, on an unchunked table [vocab, dim].
type Arr = ArrayLike<number>;

export function embeddingForwardRef(ids: Arr, table: Arr, n: number, dim: number): Float64Array {
  const vocab = table.length / dim;
  const out = new Float64Array(n * dim);
  for (let t = 0; t < n; t++) {
    if (ids[t] >= vocab) continue;
    for (let d = 0; d < dim; d++) out[t * dim + d] = table[ids[t] * dim + d];
  }
  return out;
}

/** Returns grad + scatter-add of dout into rows ids. */
export function embeddingBackwardRef(ids: Arr, dout: Arr, grad: Arr, n: number, dim: number): Float64Array {
  const g = Float64Array.from(grad);
  const vocab = g.length / dim;
  for (let t = 0; t < n; t++) {
    if (ids[t] >= vocab) continue;
    for (let d = 0; d < dim; d++) g[ids[t] * dim + d] += dout[t * dim + d];
  }
  return g;
}
