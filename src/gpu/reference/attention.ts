// CPU reference (float64) for causal grouped-query attention; layouts as in ops/flash-attention.ts.
// keyLens (one per sequence, right padding) is transformers' attention_mask: query i of sequence b sees keys
// j <= i with j < keyLens[b] (clamped to 1..T, as the kernel does), so pad queries see their row's real keys.
import type { AttentionOptions } from '../ops/flash-attention';

/** Number of keys query i sees (keys 0..n-1). */
const keysSeen = (i: number, T: number, len: number | undefined) => Math.min(i + 1, Math.min(Math.max(len ?? T, 1), T));

/** out [B*T, H*D] and probs [B,H,T,T] (0 for keys the query does not see). */
export function attentionForwardCpu(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  o: AttentionOptions,
  keyLens?: ArrayLike<number>,
): { out: Float64Array; probs: Float64Array } {
  const { B, T, H, KVH, D, scale } = o;
  const G = H / KVH;
  const out = new Float64Array(B * T * H * D);
  const probs = new Float64Array(B * H * T * T);
  const s = new Float64Array(T);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / G);
    for (let i = 0; i < T; i++) {
      const qo = (b * T + i) * H * D + h * D;
      const n = keysSeen(i, T, keyLens?.[b]);
      let m = -Infinity;
      for (let j = 0; j < n; j++) {
        const ko = (b * T + j) * KVH * D + kh * D;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
        s[j] = scale * dot;
        m = Math.max(m, s[j]);
      }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += (s[j] = Math.exp(s[j] - m));
      const pr = ((b * H + h) * T + i) * T;
      for (let j = 0; j < n; j++) {
        const pij = s[j] / sum;
        probs[pr + j] = pij;
        const vo = (b * T + j) * KVH * D + kh * D;
        for (let d = 0; d < D; d++) out[qo + d] += pij * v[vo + d];
      }
    }
  }
  return { out, probs };
}

/** Gradients of sum(out * dout) with respect to q, k, v. */
export function attentionBackwardCpu(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  dout: ArrayLike<number>,
  o: AttentionOptions,
  keyLens?: ArrayLike<number>,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { B, T, H, KVH, D, scale } = o;
  const G = H / KVH;
  const { probs } = attentionForwardCpu(q, k, v, o, keyLens);
  const dq = new Float64Array(B * T * H * D);
  const dk = new Float64Array(B * T * KVH * D);
  const dv = new Float64Array(B * T * KVH * D);
  const dp = new Float64Array(T);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / G);
    for (let i = 0; i < T; i++) {
      const qo = (b * T + i) * H * D + h * D;
      const pr = ((b * H + h) * T + i) * T;
      const n = keysSeen(i, T, keyLens?.[b]);
      let rowDot = 0;
      for (let j = 0; j < n; j++) {
        const vo = (b * T + j) * KVH * D + kh * D;
        let x = 0;
        for (let d = 0; d < D; d++) {
          x += dout[qo + d] * v[vo + d];
          dv[vo + d] += probs[pr + j] * dout[qo + d];
        }
        dp[j] = x;
        rowDot += probs[pr + j] * x;
      }
      for (let j = 0; j < n; j++) {
        const dsij = scale * probs[pr + j] * (dp[j] - rowDot);
        const ko = (b * T + j) * KVH * D + kh * D;
        for (let d = 0; d < D; d++) {
          dq[qo + d] += dsij * k[ko + d];
          dk[ko + d] += dsij * q[qo + d];
        }
      }
    }
  }
  return { dq, dk, dv };
}
