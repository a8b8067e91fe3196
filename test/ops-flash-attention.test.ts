import { afterEach, describe, expect, it } from 'vitest';
import { maxRelErr, randn, testGpu } from './helpers/gpu';
import { flashAttentionBackward, flashAttentionForward, tileRows, type AttentionOptions } from '../src/gpu/ops/flash-attention';
import { attentionBackwardCpu, attentionForwardCpu } from '../src/gpu/reference/attention';
import type { Gpu } from '../src/gpu/context';
import { setReduceVariant, type ReduceVariant } from '../src/gpu/ops/variant';

// 64 query/key rows per workgroup on GPUs ('workgroup'), 16 on CPU adapters ('thread').
const variants: ReduceVariant[] = ['workgroup', 'thread'];
afterEach(() => setReduceVariant('auto'));

/** float64 logsumexp_j<=i of scale * q_i . k_j, per row (b*H + h)*T + i. */
function lseCpu(q: ArrayLike<number>, k: ArrayLike<number>, o: AttentionOptions): Float64Array {
  const { B, T, H, KVH, D, scale } = o;
  const out = new Float64Array(B * H * T);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    const kh = Math.floor(h / (H / KVH));
    const s: number[] = [];
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[(b * T + i) * H * D + h * D + d] * k[(b * T + j) * KVH * D + kh * D + d];
      s.push(scale * dot);
    }
    const m = Math.max(...s);
    out[(b * H + h) * T + i] = m + Math.log(s.reduce((a, x) => a + Math.exp(x - m), 0));
  }
  return out;
}

async function runGpu(gpu: Gpu, o: AttentionOptions, seed: number) {
  const { B, T, H, KVH, D } = o;
  const q = randn(B * T * H * D, seed);
  const k = randn(B * T * KVH * D, seed + 1);
  const v = randn(B * T * KVH * D, seed + 2);
  const dout = randn(B * T * H * D, seed + 3);
  const [tq, tk, tv, tdo] = [q, k, v, dout].map((a) => gpu.upload(a));
  // garbage in the outputs: everything must be overwritten
  const fill = (n: number) => gpu.upload(new Float32Array(n).fill(123));
  const [tout, tlse, tdq, tdk, tdv] = [B * T * H * D, B * H * T, B * T * H * D, B * T * KVH * D, B * T * KVH * D].map(fill);
  flashAttentionForward(gpu, tq, tk, tv, tout, tlse, o);
  flashAttentionBackward(gpu, tq, tk, tv, tout, tlse, tdo, tdq, tdk, tdv, o);
  const [out, lse, dq, dk, dv] = await gpu.read(tout, tlse, tdq, tdk, tdv);
  gpu.release(tq, tk, tv, tdo, tout, tlse, tdq, tdk, tdv);
  return { q, k, v, dout, out, lse, dq, dk, dv };
}

async function expectMatchesReference(o: AttentionOptions, seed: number): Promise<void> {
  const gpu = await testGpu();
  const r = await runGpu(gpu, o, seed);
  const ref = attentionForwardCpu(r.q, r.k, r.v, o);
  expect(maxRelErr(r.out, ref.out)).toBeLessThan(1e-5);
  expect(maxRelErr(r.lse, lseCpu(r.q, r.k, o))).toBeLessThan(1e-5);
  const g = attentionBackwardCpu(r.q, r.k, r.v, r.dout, o);
  expect(maxRelErr(r.dq, g.dq)).toBeLessThan(1e-5);
  expect(maxRelErr(r.dk, g.dk)).toBeLessThan(1e-5);
  expect(maxRelErr(r.dv, g.dv)).toBeLessThan(1e-5);
}

describe('flash attention', () => {
  // T = 37 is not a multiple of the key tile (32 rows for D=12, 30 for D=64) nor of the 16- or 64-row
  // query/key blocks; S = 2 sequences; MHA, GQA and MQA.
  for (const variant of variants) for (const D of [12, 64]) for (const [H, KVH] of [[4, 4], [6, 2], [4, 1]]) {
    it(`forward (out, logsumexp) and backward (dq, dk, dv) match the float64 reference, ${variant} blocks (S=2, T=37, H=${H}, KVH=${KVH}, D=${D})`, async () => {
      setReduceVariant(variant);
      await expectMatchesReference({ B: 2, T: 37, H, KVH, D, scale: 1 / Math.sqrt(D) }, 10 * D + H + KVH);
    });
  }

  for (const variant of variants) it(`head dims 16 and 128 (smaller tiles), several tiles and blocks per row (T=70), ${variant} blocks`, async () => {
    setReduceVariant(variant);
    expect(tileRows(128)).toBe(15);
    await expectMatchesReference({ B: 1, T: 70, H: 2, KVH: 1, D: 128, scale: 1 / Math.sqrt(128) }, 3);
    await expectMatchesReference({ B: 2, T: 70, H: 3, KVH: 3, D: 16, scale: 0.25 }, 4);
  });

  it('odd head dims and one-token sequences (T=1, D=3; T=2, D=5)', async () => {
    await expectMatchesReference({ B: 2, T: 1, H: 2, KVH: 1, D: 3, scale: 0.7 }, 5);
    await expectMatchesReference({ B: 3, T: 2, H: 4, KVH: 2, D: 5, scale: 0.7 }, 6);
  });

  it('large scores (scale 3) stay finite and exact: the online softmax rescales by the running max', async () => {
    await expectMatchesReference({ B: 1, T: 40, H: 2, KVH: 2, D: 12, scale: 3 }, 8);
  });

  it('backward matches finite differences of the float64 forward (S=2, T=5, H=4, KVH=2, D=3)', async () => {
    const gpu = await testGpu();
    const o: AttentionOptions = { B: 2, T: 5, H: 4, KVH: 2, D: 3, scale: 0.7 };
    const r = await runGpu(gpu, o, 7);
    const base = [Array.from(r.q), Array.from(r.k), Array.from(r.v)];
    const loss = (a: number[][]) => attentionForwardCpu(a[0], a[1], a[2], o).out.reduce((s, x, i) => s + x * r.dout[i], 0);
    const eps = 1e-5;
    const grads = [r.dq, r.dk, r.dv];
    for (const which of [0, 1, 2]) {
      const num = new Float64Array(grads[which].length);
      for (let i = 0; i < num.length; i++) {
        const a = base.map((x) => x.slice());
        a[which][i] += eps;
        const lp = loss(a);
        a[which][i] -= 2 * eps;
        num[i] = (lp - loss(a)) / (2 * eps);
      }
      expect(maxRelErr(grads[which], num)).toBeLessThan(1e-4);
    }
  });

  it('rejects heads that do not group and mis-sized tensors with a sentence', async () => {
    const gpu = await testGpu();
    const t = (n: number) => gpu.tensor([n]);
    const o = { B: 1, T: 3, H: 4, KVH: 3, D: 2, scale: 1 };
    const ts = [t(24), t(18), t(18), t(24), t(12)];
    expect(() => flashAttentionForward(gpu, ts[0], ts[1], ts[2], ts[3], ts[4], o)).toThrow(/multiple of the number of key\/value heads/);
    expect(() => flashAttentionForward(gpu, ts[0], ts[1], ts[2], ts[3], ts[4], { ...o, KVH: 2 })).toThrow(/k must hold 12 values/);
    gpu.release(...ts);
  });
});
