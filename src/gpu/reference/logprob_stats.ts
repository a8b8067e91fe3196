// CPU reference (float64) for src/shaders/logprob_stats.wgsl, over the whole vocabulary at once.

/**
 * Per row n of logits [N, V]: entropy of softmax, 1 when the first argmax equals targets[n], and WPO's
 * log p(target) - log sum_v p(v)^2 (TRL 1.13: per_token_logps - (logsumexp(2 l) - 2 logsumexp(l))).
 */
export function tokenStatsCpu(logits: ArrayLike<number>, targets: ArrayLike<number>, N: number, V: number): { entropy: Float64Array; hit: Float64Array; aligned: Float64Array } {
  const entropy = new Float64Array(N);
  const hit = new Float64Array(N);
  const aligned = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let m = -Infinity;
    let am = 0;
    for (let v = 0; v < V; v++) {
      if (logits[n * V + v] > m) {
        m = logits[n * V + v];
        am = v;
      }
    }
    let s = 0;
    let q = 0;
    for (let v = 0; v < V; v++) {
      const e = Math.exp(logits[n * V + v] - m);
      s += e;
      q += e * e;
    }
    const lse = m + Math.log(s);
    let h = 0;
    for (let v = 0; v < V; v++) {
      const lp = logits[n * V + v] - lse;
      h -= Math.exp(lp) * lp;
    }
    entropy[n] = h;
    const t = targets[n];
    hit[n] = am === t ? 1 : 0;
    const logp = t < V ? logits[n * V + t] - lse : 0;
    aligned[n] = logp - (2 * m + Math.log(q) - 2 * lse);
  }
  return { entropy, hit, aligned };
}
