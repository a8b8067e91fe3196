import { afterEach, describe, expect, it } from 'vitest';
import { layerNormBackward, layerNormForward, rmsNormBackward, rmsNormForward } from '../src/gpu/ops/norm';
import { layerNormBackwardRef, layerNormForwardRef, rmsNormBackwardRef, rmsNormForwardRef } from '../src/gpu/reference/norm';
import { setReduceVariant, type ReduceVariant } from '../src/gpu/ops/variant';
import { maxRelErr, randn, testGpu } from './helpers/gpu';

// Every row kernel exists as a workgroup tree reduction (GPUs) and one row per invocation (CPU adapters).
const variants: ReduceVariant[] = ['workgroup', 'thread'];
afterEach(() => setReduceVariant('auto'));

const eps = 1e-5;
// rows=300 > 256 exercises the blocked parameter-gradient path; cols=700 several strides per thread
const shapes = [
  { rows: 37, cols: 50 },
  { rows: 300, cols: 13 },
  { rows: 3, cols: 700 },
];

const plus = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]);

/** d/dtheta of sum(dy * f(theta)) by central differences, float64. */
function fd(f: (t: Float64Array) => Float64Array, theta: ArrayLike<number>, dy: ArrayLike<number>, h = 1e-5): Float64Array {
  const g = new Float64Array(theta.length);
  for (let i = 0; i < theta.length; i++) {
    const tp = Float64Array.from(theta);
    const tm = Float64Array.from(theta);
    tp[i] += h;
    tm[i] -= h;
    const yp = f(tp);
    const ym = f(tm);
    let s = 0;
    for (let j = 0; j < yp.length; j++) s += dy[j] * (yp[j] - ym[j]);
    g[i] = s / (2 * h);
  }
  return g;
}

describe('LayerNorm', () => {
  for (const variant of variants) for (const { rows, cols } of shapes) {
    it(`forward and backward match the reference, ${variant} variant, rows=${rows} cols=${cols}`, async () => {
      setReduceVariant(variant);
      const gpu = await testGpu();
      const n = rows * cols;
      const x = randn(n, rows + 1, 2).map((v) => v + 10); // large mean: one-pass variance would lose digits
      const w = randn(cols, 2).map((v) => 1 + 0.5 * v);
      const b = randn(cols, 3);
      const dy = randn(n, 4);
      const dx0 = randn(n, 5);
      const dw0 = randn(cols, 6);
      const db0 = randn(cols, 7);
      const [tx, tw, tb, tdy] = [gpu.upload(x), gpu.upload(w), gpu.upload(b), gpu.upload(dy)];
      const tout = gpu.tensor([rows, cols]);
      const tmean = gpu.tensor([rows]);
      const trstd = gpu.tensor([rows]);
      const tdx = gpu.upload(new Float32Array(n).fill(NaN));
      const tdxAcc = gpu.upload(dx0);
      const tdw = gpu.upload(dw0);
      const tdb = gpu.upload(db0);
      const tdw2 = gpu.upload(dw0);
      const tdb2 = gpu.upload(db0);
      layerNormForward(gpu, tx, tw, tb, tout, tmean, trstd, { rows, cols, eps });
      layerNormBackward(gpu, tdy, tx, tw, tmean, trstd, tdx, tdw, tdb, { rows, cols });
      layerNormBackward(gpu, tdy, tx, tw, tmean, trstd, tdxAcc, tdw2, tdb2, { rows, cols, accumulateDx: true });
      const [out, mean, rstd, dx, dxAcc, dw, db, dw2, db2] = await gpu.read(tout, tmean, trstd, tdx, tdxAcc, tdw, tdb, tdw2, tdb2);
      const f = layerNormForwardRef(x, w, b, rows, cols, eps);
      const g = layerNormBackwardRef(dy, x, w, rows, cols, eps);
      expect(maxRelErr(out, f.out)).toBeLessThan(2e-5);
      expect(maxRelErr(mean, f.mean)).toBeLessThan(1e-6);
      expect(maxRelErr(rstd, f.rstd)).toBeLessThan(2e-5);
      expect(maxRelErr(dx, g.dx)).toBeLessThan(5e-5);
      expect(maxRelErr(dxAcc, plus(g.dx, dx0))).toBeLessThan(5e-5);
      expect(maxRelErr(dw, plus(g.dw, dw0))).toBeLessThan(5e-5);
      expect(maxRelErr(db, plus(g.db, db0))).toBeLessThan(5e-5);
      // two backward calls each added their share into fresh copies: same result
      expect(maxRelErr(dw2, dw)).toBe(0);
      expect(maxRelErr(db2, db)).toBe(0);
      gpu.release(tx, tw, tb, tdy, tout, tmean, trstd, tdx, tdxAcc, tdw, tdb, tdw2, tdb2);
    });
  }

  it('the backward reference agrees with finite differences', () => {
    const [rows, cols] = [3, 7];
    const x = Float64Array.from(randn(rows * cols, 41));
    const w = Float64Array.from(randn(cols, 42));
    const b = Float64Array.from(randn(cols, 43));
    const dy = randn(rows * cols, 44);
    const g = layerNormBackwardRef(dy, x, w, rows, cols, eps);
    expect(maxRelErr(g.dx, fd((t) => layerNormForwardRef(t, w, b, rows, cols, eps).out, x, dy))).toBeLessThan(1e-6);
    expect(maxRelErr(g.dw, fd((t) => layerNormForwardRef(x, t, b, rows, cols, eps).out, w, dy))).toBeLessThan(1e-6);
    expect(maxRelErr(g.db, fd((t) => layerNormForwardRef(x, w, t, rows, cols, eps).out, b, dy))).toBeLessThan(1e-6);
  });
});

describe('RMSNorm', () => {
  for (const variant of variants) for (const { rows, cols } of shapes) {
    it(`forward and backward match the reference, ${variant} variant, rows=${rows} cols=${cols}`, async () => {
      setReduceVariant(variant);
      const gpu = await testGpu();
      const n = rows * cols;
      const x = randn(n, rows + 11, 2);
      const w = randn(cols, 12).map((v) => 1 + 0.5 * v);
      const dy = randn(n, 13);
      const dx0 = randn(n, 14);
      const dw0 = randn(cols, 15);
      const [tx, tw, tdy] = [gpu.upload(x), gpu.upload(w), gpu.upload(dy)];
      const tout = gpu.tensor([rows, cols]);
      const trstd = gpu.tensor([rows]);
      const tdx = gpu.upload(new Float32Array(n).fill(NaN));
      const tdxAcc = gpu.upload(dx0);
      const tdw = gpu.upload(dw0);
      const tdw2 = gpu.upload(dw0);
      rmsNormForward(gpu, tx, tw, tout, trstd, { rows, cols, eps });
      rmsNormBackward(gpu, tdy, tx, tw, trstd, tdx, tdw, { rows, cols });
      rmsNormBackward(gpu, tdy, tx, tw, trstd, tdxAcc, tdw2, { rows, cols, accumulateDx: true });
      const [out, rstd, dx, dxAcc, dw, dw2] = await gpu.read(tout, trstd, tdx, tdxAcc, tdw, tdw2);
      const f = rmsNormForwardRef(x, w, rows, cols, eps);
      const g = rmsNormBackwardRef(dy, x, w, rows, cols, eps);
      expect(maxRelErr(out, f.out)).toBeLessThan(2e-5);
      expect(maxRelErr(rstd, f.rstd)).toBeLessThan(2e-5);
      expect(maxRelErr(dx, g.dx)).toBeLessThan(5e-5);
      expect(maxRelErr(dxAcc, plus(g.dx, dx0))).toBeLessThan(5e-5);
      expect(maxRelErr(dw, plus(g.dw, dw0))).toBeLessThan(5e-5);
      expect(maxRelErr(dw2, dw)).toBe(0);
      gpu.release(tx, tw, tdy, tout, trstd, tdx, tdxAcc, tdw, tdw2);
    });
  }

  it('the backward reference agrees with finite differences', () => {
    const [rows, cols] = [3, 7];
    const x = Float64Array.from(randn(rows * cols, 51));
    const w = Float64Array.from(randn(cols, 52));
    const dy = randn(rows * cols, 53);
    const g = rmsNormBackwardRef(dy, x, w, rows, cols, eps);
    expect(maxRelErr(g.dx, fd((t) => rmsNormForwardRef(t, w, rows, cols, eps).out, x, dy))).toBeLessThan(1e-6);
    expect(maxRelErr(g.dw, fd((t) => rmsNormForwardRef(x, t, rows, cols, eps).out, w, dy))).toBeLessThan(1e-6);
  });

  it('refuses a negative eps and aliased outputs', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([4, 8]);
    const w = gpu.tensor([8]);
    const r = gpu.tensor([4]);
    expect(() => rmsNormForward(gpu, x, w, x, r, { rows: 4, cols: 8, eps: 1e-6 })).toThrow(/same buffer/);
    const o = gpu.tensor([4, 8]);
    expect(() => rmsNormForward(gpu, x, w, o, r, { rows: 4, cols: 8, eps: -1 })).toThrow(/eps must be/);
    gpu.release(x, w, r, o);
  });
});
