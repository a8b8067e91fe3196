// CPU reference (float64) for single-token decode attention; layouts as in ops/decode.ts.
import type { DecodeAttentionOptions } from '../ops/decode';

/** out [H*D] for the query at position pos against cache rows 0..pos ([L, KVH*D]). */
export function decodeAttentionCpu(q: ArrayLike<number>, kCache: ArrayLike<number>, vCache: ArrayLike<number>, o: DecodeAttentionOptions): Float64Array {
  const { pos, H, KVH, D, scale } = o;
  const G = H / KVH;
  const out = new Float64Array(H * D);
  const s = new Float64Array(pos + 1);
  for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / G);
    let m = -Infinity;
    for (let j = 0; j <= pos; j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[h * D + d] * kCache[j * KVH * D + kh * D + d];
      s[j] = scale * dot;
      m = Math.max(m, s[j]);
    }
    let z = 0;
    for (let j = 0; j <= pos; j++) z += (s[j] = Math.exp(s[j] - m));
    for (let j = 0; j <= pos; j++) for (let d = 0; d < D; d++) out[h * D + d] += (s[j] / z) * vCache[j * KVH * D + kh * D + d];
  }
  return out;
}
