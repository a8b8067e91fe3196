// CPU reference (float64) for the chunked log-softmax ops, over the whole vocabulary at once.

/** lse[n] = log sum_v exp(logits[n,v]); logp[n] = logits[n,t] - lse[n] (0 if t >= V); logitSum[n] = sum_v logits. */
export function logprobCpu(logits: ArrayLike<number>, targets: ArrayLike<number>, N: number, V: number): { lse: Float64Array; logp: Float64Array; logitSum: Float64Array } {
  const lse = new Float64Array(N);
  const logp = new Float64Array(N);
  const logitSum = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let m = -Infinity;
    let s = 0;
    for (let v = 0; v < V; v++) {
      m = Math.max(m, logits[n * V + v]);
      s += logits[n * V + v];
    }
    let e = 0;
    for (let v = 0; v < V; v++) e += Math.exp(logits[n * V + v] - m);
    lse[n] = m + Math.log(e);
    logitSum[n] = s;
    const t = targets[n];
    logp[n] = t < V ? logits[n * V + t] - lse[n] : 0;
  }
  return { lse, logp, logitSum };
}

/** d(sum_n g[n] logp[n]) / dlogits = g[n] * (onehot(t) - softmax). */
export function logprobBackwardCpu(logits: ArrayLike<number>, targets: ArrayLike<number>, g: ArrayLike<number>, N: number, V: number): Float64Array {
  const { lse } = logprobCpu(logits, targets, N, V);
  const d = new Float64Array(N * V);
  for (let n = 0; n < N; n++) {
    for (let v = 0; v < V; v++) d[n * V + v] = g[n] * ((v === targets[n] ? 1 : 0) - Math.exp(logits[n * V + v] - lse[n]));
  }
  return d;
}

/** KL(softmax(pol) || softmax(ref)) per row. */
export function klCpu(pol: ArrayLike<number>, ref: ArrayLike<number>, N: number, V: number): Float64Array {
  const none = new Uint32Array(N).fill(0xffffffff);
  const pz = logprobCpu(pol, none, N, V).lse;
  const rz = logprobCpu(ref, none, N, V).lse;
  const kl = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    for (let v = 0; v < V; v++) {
      const a = pol[n * V + v] - pz[n];
      kl[n] += Math.exp(a) * (a - (ref[n * V + v] - rz[n]));
    }
  }
  return kl;
}
