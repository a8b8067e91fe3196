import { afterEach, describe, expect, it } from 'vitest';
import { gradNormAndClip, maskedSum, sequenceLogps, sequenceLogpsBackward, sumSquares } from '../src/gpu/ops/reduce';
import { gradNormAndClipRef, maskedSumRef, sequenceLogpsBackwardRef, sequenceLogpsRef, sumSquaresRef } from '../src/gpu/reference/reduce';
import { isCpuAdapter, reduceVariant, setReduceVariant, type ReduceVariant } from '../src/gpu/ops/variant';
import type { Gpu } from '../src/gpu/context';
import { maxRelErr, randn, rng, testGpu } from './helpers/gpu';

// Every sum exists as a workgroup tree reduction (GPUs) and as one invocation's loop (CPU adapters).
const variants: ReduceVariant[] = ['workgroup', 'thread'];
afterEach(() => setReduceVariant('auto'));

const randomMask = (n: number, seed: number, p = 0.6): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < p ? 1 : 0));
};

describe('reductions', () => {
  for (const variant of variants) it(`sequenceLogps sums masked token log-probs per sequence (T below and above the workgroup), ${variant} variant`, async () => {
    setReduceVariant(variant);
    const gpu = await testGpu();
    for (const [S, T, seed] of [[5, 37, 1], [3, 613, 2]] as const) {
      const tok = randn(S * T, seed, 3);
      const mask = randomMask(S * T, seed + 10);
      const tt = gpu.upload(tok);
      const tm = gpu.upload(mask);
      const out = gpu.upload(new Float32Array(S + 2).fill(7));
      sequenceLogps(gpu, tt, tm, out, { S, T });
      const [got] = await gpu.read(out);
      const want = sequenceLogpsRef(tok, mask, S, T);
      // the mask matters: an unmasked sum would differ
      expect(maxRelErr(want, sequenceLogpsRef(tok, new Float32Array(S * T).fill(1), S, T))).toBeGreaterThan(1e-2);
      expect(maxRelErr(got.subarray(0, S), want)).toBeLessThan(1e-5);
      expect(Array.from(got.subarray(S))).toEqual([7, 7]);
      gpu.release(tt, tm, out);
    }
  });

  it('sequenceLogpsBackward overwrites dtoken with dseq[s] * mask', async () => {
    const gpu = await testGpu();
    const S = 6;
    const T = 50;
    const dseq = randn(S, 3);
    const mask = randomMask(S * T, 4);
    const td = gpu.upload(dseq);
    const tm = gpu.upload(mask);
    const out = gpu.upload(new Float32Array(S * T).fill(9));
    sequenceLogpsBackward(gpu, td, tm, out, { S, T });
    const [got] = await gpu.read(out);
    expect(maxRelErr(got, sequenceLogpsBackwardRef(dseq, mask, S, T))).toBe(0);
    gpu.release(td, tm, out);
  });

  for (const variant of variants) it(`maskedSum writes one slot and leaves the others alone, ${variant} variant`, async () => {
    setReduceVariant(variant);
    const gpu = await testGpu();
    const R = 1013;
    const x = randn(R, 5);
    const mask = randomMask(R, 6, 0.3);
    const tx = gpu.upload(x);
    const tm = gpu.upload(mask);
    const out = gpu.upload(Float32Array.of(1, 2, 3, 4));
    maskedSum(gpu, tx, tm, out, { R, outIndex: 2 });
    const [got] = await gpu.read(out);
    const want = maskedSumRef(x, mask, R);
    expect(Math.abs(got[2] - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
    expect([got[0], got[1], got[3]]).toEqual([1, 2, 4]);
    gpu.release(tx, tm, out);
  });

  for (const variant of variants) it(`sumSquares and gradNormAndClip match torch clip_grad_norm_ semantics on odd sizes, ${variant} variant`, async () => {
    setReduceVariant(variant);
    const gpu = await testGpu();
    const sizes = [1, 37, 100003, 300];
    const grads = sizes.map((n, i) => randn(n, 20 + i, 0.01 * (i + 1)));
    const tg = grads.map((g) => gpu.upload(g));
    const partial = gpu.upload(new Float32Array(sizes.length + 1).fill(5));
    sumSquares(gpu, tg, partial);
    const outs = [0.5, 1e9, 0, Infinity].map(() => gpu.tensor([2]));
    [0.5, 1e9, 0, Infinity].forEach((maxNorm, i) => gradNormAndClip(gpu, partial, sizes.length, outs[i], maxNorm));
    const [p, ...o] = await gpu.read(partial, ...outs);
    const wantP = sumSquaresRef(grads);
    expect(maxRelErr(p.subarray(0, sizes.length), wantP)).toBeLessThan(1e-5);
    for (let i = 0; i < sizes.length; i++) expect(Math.abs(p[i] - wantP[i]) / wantP[i]).toBeLessThan(1e-5);
    expect(p[sizes.length]).toBe(5);
    const [norm, coef] = gradNormAndClipRef(wantP, sizes.length, 0.5);
    expect(norm).toBeGreaterThan(0.5); // clipping is active in the first case
    expect(Math.abs(o[0][0] - norm) / norm).toBeLessThan(1e-5);
    expect(Math.abs(o[0][1] - coef) / coef).toBeLessThan(1e-5);
    expect(coef).toBeCloseTo(0.5 / (norm + 1e-6), 12);
    for (const k of [1, 2, 3]) {
      expect(Math.abs(o[k][0] - norm) / norm).toBeLessThan(1e-5);
      expect(o[k][1]).toBe(1);
    }
    gpu.release(...tg, partial, ...outs);
  });

  for (const variant of variants) it(`the clip coefficient keeps the 1e-6 of torch in the denominator (visible for tiny norms), ${variant} variant`, async () => {
    setReduceVariant(variant);
    const gpu = await testGpu();
    const g = randn(37, 31, 1e-7);
    const tg = gpu.upload(g);
    const partial = gpu.tensor([1]);
    const out = gpu.tensor([2]);
    sumSquares(gpu, [tg], partial);
    gradNormAndClip(gpu, partial, 1, out, 1e-7);
    const [o] = await gpu.read(out);
    const [norm, coef] = gradNormAndClipRef(sumSquaresRef([g]), 1, 1e-7);
    expect(norm).toBeLessThan(2e-6);
    expect(Math.abs(o[0] - norm) / norm).toBeLessThan(1e-5);
    expect(Math.abs(o[1] - coef) / coef).toBeLessThan(1e-5);
    expect(Math.abs(coef - 1e-7 / norm) / coef).toBeGreaterThan(0.1); // without the 1e-6 it would be far off
    gpu.release(tg, partial, out);
  });

  it('picks the barrier-free variant on CPU adapters only, and can be forced either way', async () => {
    const fake = (adapterName: string) => ({ info: { adapterName } }) as unknown as Gpu;
    for (const name of ['google swiftshader SwiftShader driver 5.0.0', 'mesa llvmpipe (LLVM 19.1.7, 256 bits)', 'lavapipe', 'Some CPU device']) {
      expect(isCpuAdapter(fake(name))).toBe(true);
      expect(reduceVariant(fake(name))).toBe('thread');
    }
    for (const name of ['nvidia hopper NVIDIA H100 80GB HBM3', 'apple metal-3 Apple M2', 'amd rdna-3']) {
      expect(isCpuAdapter(fake(name))).toBe(false);
      expect(reduceVariant(fake(name))).toBe('workgroup');
    }
    setReduceVariant('workgroup');
    expect(reduceVariant(fake('SwiftShader'))).toBe('workgroup');
    setReduceVariant('thread');
    expect(reduceVariant(fake('NVIDIA H100'))).toBe('thread');
    expect(() => setReduceVariant('fast' as ReduceVariant)).toThrow(/unknown variant "fast"/);
  });

  it('refuses bad sizes with a sentence', async () => {
    const gpu = await testGpu();
    const a = gpu.tensor([10]);
    const b = gpu.tensor([10]);
    const c = gpu.tensor([1]);
    expect(() => sequenceLogps(gpu, a, b, c, { S: 2, T: 5 })).toThrow(/out holds 1 elements but 2/);
    expect(() => sequenceLogps(gpu, a, b, c, { S: 1, T: 0 })).toThrow(/T must be an integer >= 1/);
    expect(() => maskedSum(gpu, a, b, c, { R: 10, outIndex: 1 })).toThrow(/out holds 1 elements but 2/);
    expect(() => maskedSum(gpu, a, b, a, { R: 10, outIndex: 0 })).toThrow(/must not share its buffer/);
    expect(() => sumSquares(gpu, [a, b], c)).toThrow(/partial holds 1 elements but 2/);
    expect(() => sumSquares(gpu, [], c)).toThrow(/no gradient tensors/);
    expect(() => gradNormAndClip(gpu, a, 10, c, 1)).toThrow(/out holds 1 elements but 2/);
    expect(() => gradNormAndClip(gpu, a, 10, b, NaN)).toThrow(/maxNorm is NaN/);
    gpu.release(a, b, c);
  });
});
