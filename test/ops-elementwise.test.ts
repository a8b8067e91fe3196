import { describe, expect, it } from 'vitest';
import { add, addInPlace, fill, scale } from '../src/gpu/ops/elementwise';
import { addRef, scaleRef } from '../src/gpu/reference/elementwise';
import { maxRelErr, randn, testGpu } from './helpers/gpu';

describe('elementwise ops', () => {
  it('add, addInPlace, scale and fill match the CPU reference and leave the tail alone', async () => {
    const gpu = await testGpu();
    const n = 1037; // not a multiple of the 256-thread workgroup
    const a = randn(n + 5, 1);
    const b = randn(n + 5, 2);
    const ta = gpu.upload(a);
    const tb = gpu.upload(b);
    const tsum = gpu.upload(new Float32Array(n + 5).fill(7));
    const tacc = gpu.upload(b);
    const tsc = gpu.upload(new Float32Array(n + 5).fill(7));
    const tfill = gpu.upload(new Float32Array(n + 5).fill(7));
    add(gpu, ta, tb, tsum, n);
    addInPlace(gpu, tacc, ta, n);
    scale(gpu, ta, tsc, n, -0.37);
    fill(gpu, tfill, n, 2.5);
    const [sum, acc, sc, fl] = await gpu.read(tsum, tacc, tsc, tfill);
    const ref = addRef(a, b, n);
    expect(maxRelErr(sum.subarray(0, n), ref)).toBeLessThan(1e-6);
    expect(maxRelErr(acc.subarray(0, n), ref)).toBeLessThan(1e-6);
    expect(maxRelErr(sc.subarray(0, n), scaleRef(a, n, -0.37))).toBeLessThan(1e-6);
    expect(Array.from(fl.subarray(0, n)).every((v) => v === 2.5)).toBe(true);
    // elements past n untouched
    expect(Array.from(sum.subarray(n, n + 5))).toEqual([7, 7, 7, 7, 7]);
    expect(Array.from(acc.subarray(n, n + 5))).toEqual(Array.from(b.subarray(n, n + 5)));
    expect(Array.from(sc.subarray(n, n + 5))).toEqual([7, 7, 7, 7, 7]);
    expect(Array.from(fl.subarray(n, n + 5))).toEqual([7, 7, 7, 7, 7]);
    gpu.release(ta, tb, tsum, tacc, tsc, tfill);
  });

  it('refuses too-small tensors and aliased outputs with a sentence', async () => {
    const gpu = await testGpu();
    const t = gpu.tensor([10]);
    const u = gpu.tensor([20]);
    expect(() => add(gpu, t, u, u, 20)).toThrow(/a holds 10 elements but 20/);
    expect(() => addInPlace(gpu, t, t, 10)).toThrow(/same buffer/);
    gpu.release(t, u);
  });
});
