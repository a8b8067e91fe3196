// CPU float64 references for src/shaders/reduce.wgsl (llm.c convention: the plain loop the kernel must match).

/** out[s] = sum_t tok[s*T+t] * mask[s*T+t] */
export function sequenceLogpsRef(tok: ArrayLike<number>, mask: ArrayLike<number>, S: number, T: number): Float64Array {
  const out = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let acc = 0;
    for (let t = 0; t < T; t++) acc += tok[s * T + t] * mask[s * T + t];
    out[s] = acc;
  }
  return out;
}

/** dtoken[s*T+t] = dseq[s] * mask[s*T+t] */
export function sequenceLogpsBackwardRef(dseq: ArrayLike<number>, mask: ArrayLike<number>, S: number, T: number): Float64Array {
  const out = new Float64Array(S * T);
  for (let s = 0; s < S; s++) for (let t = 0; t < T; t++) out[s * T + t] = dseq[s] * mask[s * T + t];
  return out;
}

/** sum_r x[r] * mask[r] over the first R elements */
export function maskedSumRef(x: ArrayLike<number>, mask: ArrayLike<number>, R: number): number {
  let acc = 0;
  for (let r = 0; r < R; r++) acc += x[r] * mask[r];
  return acc;
}

/** sum of squares of each tensor */
export function sumSquaresRef(grads: readonly ArrayLike<number>[]): Float64Array {
  return Float64Array.from(grads, (g) => {
    let acc = 0;
    for (let i = 0; i < g.length; i++) acc += g[i] * g[i];
    return acc;
  });
}

/** [global L2 norm, clip coefficient] with torch.nn.utils.clip_grad_norm_ semantics; maxNorm <= 0 or Infinity: no clipping. */
export function gradNormAndClipRef(partial: ArrayLike<number>, count: number, maxNorm: number): [number, number] {
  let acc = 0;
  for (let i = 0; i < count; i++) acc += partial[i];
  const norm = Math.sqrt(acc);
  const clips = maxNorm > 0 && Number.isFinite(maxNorm);
  return [norm, clips ? Math.min(1, maxNorm / (norm + 1e-6)) : 1];
}
