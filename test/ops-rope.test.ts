import { describe, expect, it } from 'vitest';
import { maxRelErr, randn, testGpu } from './helpers/gpu';
import { ropeBackward, ropeForward, ropeTable } from '../src/gpu/ops/rope';
import { ropeBackwardCpu, ropeForwardCpu, ropeTableCpu } from '../src/gpu/reference/rope';

describe('rope', () => {
  for (const D of [8, 6]) {
    it(`forward/backward match the CPU reference and invert each other (D=${D})`, async () => {
      const gpu = await testGpu();
      const B = 3, T = 13, heads = 5, theta = 10000;
      const rows = B * T;
      const o = { rows, T, heads, D };
      const x = randn(rows * heads * D, 11 + D);
      const table = ropeTable(gpu, T, D, theta);
      expect(ropeTable(gpu, T, D, theta)).toBe(table); // cached
      const tx = gpu.upload(x);
      const ty = gpu.tensor([rows, heads * D]);
      const tz = gpu.tensor([rows, heads * D]);
      ropeForward(gpu, tx, ty, table, o);
      ropeBackward(gpu, ty, tz, table, o);
      const [y, z] = await gpu.read(ty, tz);
      const cpuTable = ropeTableCpu(T, D, theta);
      const yRef = ropeForwardCpu(x, cpuTable, o);
      expect(maxRelErr(y, yRef)).toBeLessThan(1e-5);
      expect(maxRelErr(z, x)).toBeLessThan(1e-5); // rotation is orthogonal: backward(forward(x)) == x
      // position 0 is the identity, position 1 actually rotates
      for (let c = 0; c < heads * D; c++) expect(y[c]).toBeCloseTo(x[c], 6);
      expect(maxRelErr(y.subarray(heads * D, 2 * heads * D), x.subarray(heads * D, 2 * heads * D))).toBeGreaterThan(1e-2);
      // HF rotate_half by hand for one element: row 7 (pos 7), head 2, i = 1 (first half) and D/2+1 (second half)
      const half = D / 2, r = 7, h = 2, i = 1, base = (r * heads + h) * D;
      const a = 7 * Math.pow(theta, (-2 * i) / D);
      expect(y[base + i]).toBeCloseTo(x[base + i] * Math.cos(a) - x[base + i + half] * Math.sin(a), 5);
      expect(y[base + i + half]).toBeCloseTo(x[base + i + half] * Math.cos(a) + x[base + i] * Math.sin(a), 5);
      // backward vs the CPU reference on an independent dy
      const dy = randn(rows * heads * D, 99 + D);
      const tdy = gpu.upload(dy);
      ropeBackward(gpu, tdy, tz, table, o);
      const [dx] = await gpu.read(tz);
      expect(maxRelErr(dx, ropeBackwardCpu(dy, cpuTable, o))).toBeLessThan(1e-5);
      gpu.release(tx, ty, tz, tdy);
    });
  }

  it('CPU backward is the transpose of CPU forward (finite differences of sum(dy * rope(x)))', () => {
    const T = 4, D = 6, heads = 2, rows = 8;
    const o = { rows, T, heads, D };
    const table = ropeTableCpu(T, D, 500);
    const x = Array.from(randn(rows * heads * D, 5));
    const dy = randn(rows * heads * D, 6);
    const f = (xx: number[]) => ropeForwardCpu(xx, table, o).reduce((s, v, k) => s + v * dy[k], 0);
    const dx = ropeBackwardCpu(dy, table, o);
    const eps = 1e-6;
    for (let k = 0; k < x.length; k += 5) {
      const xp = x.slice(); xp[k] += eps;
      const xm = x.slice(); xm[k] -= eps;
      expect(Math.abs((f(xp) - f(xm)) / (2 * eps) - dx[k])).toBeLessThan(1e-7);
    }
  });

  it('rejects odd D, shape mismatch and in-place use with a sentence', async () => {
    const gpu = await testGpu();
    expect(() => ropeTable(gpu, 4, 7, 10000)).toThrow(/even head dimension/);
    const table = ropeTable(gpu, 4, 8, 10000);
    const x = gpu.tensor([4, 16]);
    const y = gpu.tensor([4, 8]);
    expect(() => ropeForward(gpu, x, y, table, { rows: 4, T: 4, heads: 2, D: 8 })).toThrow(/rows\*heads\*D = 64/);
    expect(() => ropeForward(gpu, x, x, table, { rows: 4, T: 4, heads: 2, D: 8 })).toThrow(/different tensors/);
    const z = gpu.tensor([4, 16]);
    expect(() => ropeForward(gpu, x, z, table, { rows: 4, T: 8, heads: 2, D: 8 })).toThrow(/RoPE table/);
    gpu.release(x, y, z);
  });
});
