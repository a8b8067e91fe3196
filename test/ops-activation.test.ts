import { describe, expect, it } from 'vitest';
import { geluNewBackward, geluNewForward, swigluBackward, swigluForward } from '../src/gpu/ops/activation';
import {
  geluNewBackwardRef,
  geluNewForwardRef,
  swigluBackwardRef,
  swigluForwardRef,
} from '../src/gpu/reference/activation';
import { maxRelErr, randn, testGpu } from './helpers/gpu';

/** Central finite differences of sum(dy * f(x)) w.r.t. each x, in float64. */
function finiteDiff(f: (x: number[]) => Float64Array, x: number[], dy: ArrayLike<number>, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xp = x.slice();
    const xm = x.slice();
    xp[i] += h;
    xm[i] -= h;
    g[i] = (dy[i] * (f(xp)[i] - f(xm)[i])) / (2 * h);
  }
  return g;
}

describe('activations', () => {
  const n = 1037;
  // wide range, plus extremes where a naive tanh/exp would overflow
  const x = randn(n, 11, 3);
  x[0] = 60;
  x[1] = -60;
  x[2] = 0;
  x[3] = -100;
  const dy = randn(n, 12);
  const up = randn(n, 13);

  it('gelu_new forward/backward match the reference and stay finite at |x| = 60, 100', async () => {
    const gpu = await testGpu();
    const tx = gpu.upload(x);
    const tdy = gpu.upload(dy);
    const tout = gpu.tensor([n]);
    const tdx = gpu.tensor([n]);
    geluNewForward(gpu, tx, tout, n);
    geluNewBackward(gpu, tx, tdy, tdx, n);
    const [out, dx] = await gpu.read(tout, tdx);
    expect(maxRelErr(out, geluNewForwardRef(x, n))).toBeLessThan(1e-5);
    expect(maxRelErr(dx, geluNewBackwardRef(x, dy, n))).toBeLessThan(1e-5);
    expect(out[0]).toBeCloseTo(60, 4);
    expect(out[1]).toBeCloseTo(0, 5);
    expect(dx[0]).toBeCloseTo(dy[0], 5);
    expect(Number.isFinite(out[3]) && Number.isFinite(dx[3])).toBe(true);
    gpu.release(tx, tdy, tout, tdx);
  });

  it('swiglu forward/backward match the reference', async () => {
    const gpu = await testGpu();
    const tg = gpu.upload(x);
    const tu = gpu.upload(up);
    const tdy = gpu.upload(dy);
    const tout = gpu.tensor([n]);
    const tdg = gpu.tensor([n]);
    const tdu = gpu.tensor([n]);
    swigluForward(gpu, tg, tu, tout, n);
    swigluBackward(gpu, tg, tu, tdy, tdg, tdu, n);
    const [out, dg, du] = await gpu.read(tout, tdg, tdu);
    const ref = swigluBackwardRef(x, up, dy, n);
    expect(maxRelErr(out, swigluForwardRef(x, up, n))).toBeLessThan(1e-5);
    expect(maxRelErr(dg, ref.dgate)).toBeLessThan(1e-5);
    expect(maxRelErr(du, ref.dup)).toBeLessThan(1e-5);
    expect(Number.isFinite(dg[3]) && Number.isFinite(out[3])).toBe(true);
    gpu.release(tg, tu, tdy, tout, tdg, tdu);
  });

  it('backward references agree with finite differences of the forward references', () => {
    const m = 40;
    const xs = Array.from(randn(m, 21, 2));
    const ups = Array.from(randn(m, 22));
    const dys = randn(m, 23);
    const fdGelu = finiteDiff((v) => geluNewForwardRef(v, m), xs, dys);
    expect(maxRelErr(geluNewBackwardRef(xs, dys, m), fdGelu)).toBeLessThan(1e-6);
    const an = swigluBackwardRef(xs, ups, dys, m);
    const fdGate = finiteDiff((v) => swigluForwardRef(v, ups, m), xs, dys);
    const fdUp = finiteDiff((v) => swigluForwardRef(xs, v, m), ups, dys);
    expect(maxRelErr(an.dgate, fdGate)).toBeLessThan(1e-6);
    expect(maxRelErr(an.dup, fdUp)).toBeLessThan(1e-6);
  });
});
