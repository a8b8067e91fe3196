// Entropy, argmax hit and WPO's aligned log-prob over vocabulary chunks vs the float64 reference.
import { describe, expect, it } from 'vitest';
import { randn, rng, testGpu } from './helpers/gpu';
import { createTokenStatsState, releaseTokenStatsState, tokenStatsChunk, tokenStatsFinalize } from '../src/gpu/ops/logprob-stats';
import { tokenStatsCpu } from '../src/gpu/reference/logprob_stats';
import { logprobCpu } from '../src/gpu/reference/logprob';

const N = 37;
const V = 101;

describe('token statistics over vocabulary chunks', () => {
  for (const chunks of [[V], [40, 40, 21], [1, 99, 1]]) {
    it(`entropy, argmax == target and log p - log sum p^2 in chunks ${chunks.join('+')} equal the float64 reference`, async () => {
      const gpu = await testGpu();
      const logits = Float32Array.from(randn(N * V, 3, 3));
      // ties for the max across chunks: the first index wins (torch.argmax)
      for (let n = 0; n < 4; n++) {
        logits[n * V + 39] = 20;
        logits[n * V + 41] = 20;
      }
      logits[4 * V + 0] = 30;
      logits[4 * V + V - 1] = 30;
      const r = rng(4);
      const targets = Uint32Array.from({ length: N }, (_, n) => (n < 2 ? 39 : n < 4 ? 41 : n === 4 ? 0 : Math.floor(r() * V)));
      // half the rows target their argmax, so the hit column is not all zeros
      for (let n = 10; n < 20; n++) {
        let am = 0;
        for (let v = 1; v < V; v++) if (logits[n * V + v] > logits[n * V + am]) am = v;
        targets[n] = am;
      }
      const want = tokenStatsCpu(logits, targets, N, V);
      const logp = Float32Array.from(logprobCpu(logits, targets, N, V).logp);
      const s = createTokenStatsState(gpu, N);
      let off = 0;
      const tmp = [];
      for (const [i, Vc] of chunks.entries()) {
        const c = new Float32Array(N * Vc);
        for (let n = 0; n < N; n++) c.set(logits.subarray(n * V + off, n * V + off + Vc), n * Vc);
        const t = gpu.upload(c);
        tmp.push(t);
        tokenStatsChunk(gpu, t, s, { N, Vc, vOffset: off, first: i === 0 });
        off += Vc;
      }
      const tt = gpu.upload(targets, [N]);
      const tl = gpu.upload(logp);
      const out = gpu.tensor([3 * N]);
      tokenStatsFinalize(gpu, s, tt, tl, out, { N });
      const [got] = await gpu.read(out);
      for (let n = 0; n < N; n++) {
        expect(Math.abs(got[n] - want.entropy[n]), `entropy ${n}`).toBeLessThan(2e-5 * Math.max(1, want.entropy[n]));
        expect(got[N + n], `hit ${n}`).toBe(want.hit[n]);
        expect(Math.abs(got[2 * N + n] - want.aligned[n]), `aligned ${n}`).toBeLessThan(2e-5 * Math.max(1, Math.abs(want.aligned[n])));
      }
      expect(want.hit.slice(0, 5)).toEqual(Float64Array.of(1, 1, 0, 0, 1));
      expect(want.hit.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(13);
      gpu.release(...tmp, tt, tl, out);
      releaseTokenStatsState(gpu, s);
    });
  }
});
