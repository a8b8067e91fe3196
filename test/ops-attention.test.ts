import { afterEach, describe, expect, it } from 'vitest';
import { maxRelErr, randn, testGpu } from './helpers/gpu';
import { attentionBackward, attentionForward, type AttentionOptions } from '../src/gpu/ops/attention';
import { attentionBackwardCpu, attentionForwardCpu } from '../src/gpu/reference/attention';
import type { Gpu } from '../src/gpu/context';
import { setReduceVariant, type ReduceVariant } from '../src/gpu/ops/variant';

// softmax and ds exist as workgroup tree reductions (GPUs) and one row per invocation (CPU adapters).
const variants: ReduceVariant[] = ['workgroup', 'thread'];
afterEach(() => setReduceVariant('auto'));

async function runGpu(gpu: Gpu, o: AttentionOptions, seed: number) {
  const { B, T, H, KVH, D } = o;
  const q = randn(B * T * H * D, seed);
  const k = randn(B * T * KVH * D, seed + 1);
  const v = randn(B * T * KVH * D, seed + 2);
  const dout = randn(B * T * H * D, seed + 3);
  const [tq, tk, tv, tdo] = [q, k, v, dout].map((a) => gpu.upload(a));
  const tout = gpu.tensor([B * T, H * D]);
  const tp = gpu.tensor([B, H, T, T]);
  // garbage in the outputs: everything must be overwritten
  const [tdq, tdk, tdv] = [B * T * H * D, B * T * KVH * D, B * T * KVH * D].map((n) => gpu.upload(new Float32Array(n).fill(123)));
  gpu.write(tp, new Float32Array(B * H * T * T).fill(7));
  attentionForward(gpu, tq, tk, tv, tout, tp, o);
  attentionBackward(gpu, tq, tk, tv, tp, tdo, tdq, tdk, tdv, o);
  const [out, probs, dq, dk, dv] = await gpu.read(tout, tp, tdq, tdk, tdv);
  gpu.release(tq, tk, tv, tdo, tout, tp, tdq, tdk, tdv);
  return { q, k, v, dout, out, probs, dq, dk, dv };
}

describe('attention', () => {
  for (const variant of variants) for (const [H, KVH] of [[6, 2], [6, 6], [6, 1]]) {
    it(`forward and backward match the CPU reference, ${variant} variant (B=2,T=13,H=${H},KVH=${KVH},D=10)`, async () => {
      setReduceVariant(variant);
      const gpu = await testGpu();
      const o: AttentionOptions = { B: 2, T: 13, H, KVH, D: 10, scale: 1 / Math.sqrt(10) };
      const r = await runGpu(gpu, o, 100 + H + KVH);
      const ref = attentionForwardCpu(r.q, r.k, r.v, o);
      expect(maxRelErr(r.out, ref.out)).toBeLessThan(1e-5);
      expect(maxRelErr(r.probs, ref.probs)).toBeLessThan(1e-5);
      // causal: zero above the diagonal, rows sum to 1
      const { B, T } = o;
      for (let row = 0; row < B * H * T; row++) {
        const i = row % T;
        let s = 0;
        for (let j = 0; j < T; j++) {
          if (j > i) expect(r.probs[row * T + j]).toBe(0);
          s += r.probs[row * T + j];
        }
        expect(s).toBeCloseTo(1, 5);
      }
      const g = attentionBackwardCpu(r.q, r.k, r.v, r.dout, o);
      expect(maxRelErr(r.dq, g.dq)).toBeLessThan(1e-5);
      expect(maxRelErr(r.dk, g.dk)).toBeLessThan(1e-5);
      expect(maxRelErr(r.dv, g.dv)).toBeLessThan(1e-5);
    });
  }

  for (const variant of variants) it(`rows longer than the workgroup (T=70 > 64) match the CPU reference, ${variant} variant`, async () => {
    setReduceVariant(variant);
    const gpu = await testGpu();
    const o: AttentionOptions = { B: 1, T: 70, H: 2, KVH: 1, D: 5, scale: 0.9 };
    const r = await runGpu(gpu, o, 31);
    const ref = attentionForwardCpu(r.q, r.k, r.v, o);
    expect(maxRelErr(r.out, ref.out)).toBeLessThan(1e-5);
    expect(maxRelErr(r.probs, ref.probs)).toBeLessThan(1e-5);
    const g = attentionBackwardCpu(r.q, r.k, r.v, r.dout, o);
    expect(maxRelErr(r.dq, g.dq)).toBeLessThan(1e-5);
    expect(maxRelErr(r.dk, g.dk)).toBeLessThan(1e-5);
    expect(maxRelErr(r.dv, g.dv)).toBeLessThan(1e-5);
  });

  for (const variant of variants) it(`head dims that are a multiple of 4 (vec4 loads) match the CPU reference, ${variant} variant (B=2,T=11,H=4,KVH=2,D=8)`, async () => {
    setReduceVariant(variant);
    const gpu = await testGpu();
    const o: AttentionOptions = { B: 2, T: 11, H: 4, KVH: 2, D: 8, scale: 1 / Math.sqrt(8) };
    const r = await runGpu(gpu, o, 57);
    const ref = attentionForwardCpu(r.q, r.k, r.v, o);
    expect(maxRelErr(r.out, ref.out)).toBeLessThan(1e-5);
    expect(maxRelErr(r.probs, ref.probs)).toBeLessThan(1e-5);
    const g = attentionBackwardCpu(r.q, r.k, r.v, r.dout, o);
    expect(maxRelErr(r.dq, g.dq)).toBeLessThan(1e-5);
    expect(maxRelErr(r.dk, g.dk)).toBeLessThan(1e-5);
    expect(maxRelErr(r.dv, g.dv)).toBeLessThan(1e-5);
  });

  for (const variant of variants) it(`backward matches finite differences of the CPU forward, ${variant} variant (B=2,T=5,H=4,KVH=2,D=3)`, async () => {
    setReduceVariant(variant);
    const gpu = await testGpu();
    const o: AttentionOptions = { B: 2, T: 5, H: 4, KVH: 2, D: 3, scale: 0.7 };
    const r = await runGpu(gpu, o, 7);
    const q = Array.from(r.q), k = Array.from(r.k), v = Array.from(r.v);
    const loss = (qq: number[], kk: number[], vv: number[]) => attentionForwardCpu(qq, kk, vv, o).out.reduce((s, x, i) => s + x * r.dout[i], 0);
    const eps = 1e-5;
    const fd = (which: 0 | 1 | 2, idx: number) => {
      const args = [q, k, v].map((a) => a.slice());
      args[which][idx] += eps;
      const lp = loss(args[0], args[1], args[2]);
      args[which][idx] -= 2 * eps;
      const lm = loss(args[0], args[1], args[2]);
      return (lp - lm) / (2 * eps);
    };
    const grads = [r.dq, r.dk, r.dv];
    for (const which of [0, 1, 2] as const) {
      const n = grads[which].length;
      const num = new Float64Array(n);
      for (let i = 0; i < n; i++) num[i] = fd(which, i);
      expect(maxRelErr(grads[which], num)).toBeLessThan(1e-4);
      // the CPU backward agrees with the finite differences to float64 precision
      const cpu = attentionBackwardCpu(q, k, v, r.dout, o);
      expect(maxRelErr([cpu.dq, cpu.dk, cpu.dv][which], num)).toBeLessThan(1e-7);
    }
  });

  it('rejects heads that do not group and mis-sized tensors with a sentence', async () => {
    const gpu = await testGpu();
    const t = (n: number) => gpu.tensor([n]);
    const o = { B: 1, T: 3, H: 4, KVH: 3, D: 2, scale: 1 };
    const ts = [t(24), t(18), t(18), t(24), t(48)];
    expect(() => attentionForward(gpu, ts[0], ts[1], ts[2], ts[3], ts[4], o)).toThrow(/multiple of the number of key\/value heads/);
    expect(() => attentionForward(gpu, ts[0], ts[1], ts[2], ts[3], ts[4], { ...o, KVH: 2 })).toThrow(/k must hold 12 values/);
    gpu.release(...ts);
  });
});
