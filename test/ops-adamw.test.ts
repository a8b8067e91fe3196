import { describe, expect, it } from 'vitest';
import { adamwStep, writeAdamwHyper } from '../src/dpo/adamw';
import { gradNormAndClip, sumSquares } from '../src/gpu/ops/reduce';
import { adamwStepRef } from '../src/gpu/reference/adamw';
import { gradNormAndClipRef, sumSquaresRef } from '../src/gpu/reference/reduce';
import { maxRelErr, randn, testGpu } from './helpers/gpu';

const H = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

describe('AdamW', () => {
  const cases: [number, boolean, number, number][] = [
    // weight decay, clipping, hyper words, tolerance on m and v (max error / max value)
    [0, true, 8, 2e-6],
    [0, false, 8, 2e-6],
    [0.01, true, 8, 2e-6],
    [0.01, false, 8, 2e-6],
    // 6 words: 1 - f32(0.999) is 1.3e-5 off relative, visible in v
    [0.01, true, 6, 3e-5],
  ];
  for (const [weightDecay, clipping, hyperWords, tolMV] of cases) {
    {
      it(`3 steps match torch.optim.AdamW in float64 (weight decay ${weightDecay}, clipping ${clipping ? 'active' : 'inactive'}, ${hyperWords} hyper words)`, async () => {
        const gpu = await testGpu();
        const sizes = [37, 1037];
        const maxNorm = clipping ? 1.0 : 1e6;
        const p0 = sizes.map((n, i) => randn(n, 100 + i, 0.5));
        const params = p0.map((p) => gpu.upload(p));
        const ms = sizes.map((n) => gpu.tensor([n], 'f32', true));
        const vs = sizes.map((n) => gpu.tensor([n], 'f32', true));
        const grads = sizes.map((n) => gpu.tensor([n]));
        const hyper = gpu.tensor([hyperWords]);
        const partial = gpu.tensor([sizes.length]);
        const clip = gpu.tensor([2]);
        const refP = p0.map((p) => Float64Array.from(p));
        const refM = sizes.map((n) => new Float64Array(n));
        const refV = sizes.map((n) => new Float64Array(n));
        const coefs: number[] = [];
        for (let step = 1; step <= 3; step++) {
          // gradients of very different size per step so the clip coefficient changes
          const g = sizes.map((n, i) => randn(n, 10 * step + i, step === 2 ? 0.002 : 0.3));
          g.forEach((x, i) => gpu.write(grads[i], x));
          writeAdamwHyper(gpu, hyper, { ...H, step });
          sumSquares(gpu, grads, partial);
          gradNormAndClip(gpu, partial, sizes.length, clip, maxNorm);
          sizes.forEach((n, i) => adamwStep(gpu, params[i], grads[i], ms[i], vs[i], hyper, clip, { n, weightDecay }));
          const [, coef] = gradNormAndClipRef(sumSquaresRef(g), sizes.length, maxNorm);
          coefs.push(coef);
          sizes.forEach((_, i) => adamwStepRef(refP[i], g[i], refM[i], refV[i], { ...H, step, weightDecay, clipCoef: coef }));
        }
        if (clipping) {
          expect(coefs[0]).toBeLessThan(0.2);
          expect(coefs[1]).toBe(1); // small gradients are not clipped
        } else expect(coefs).toEqual([1, 1, 1]);
        const got = await gpu.read(...params, ...ms, ...vs);
        for (let i = 0; i < sizes.length; i++) {
          // parameters: relative to the size of the update (3 steps of ~lr), tighter than the fixtures' 1e-3
          const moved = maxRelErr(refP[i], p0[i]);
          expect(moved).toBeGreaterThan(1e-4);
          let err = 0;
          for (let j = 0; j < sizes[i]; j++) err = Math.max(err, Math.abs(got[i][j] - refP[i][j]));
          expect(err).toBeLessThan(1e-6);
          expect(maxRelErr(got[sizes.length + i], refM[i])).toBeLessThan(tolMV);
          expect(maxRelErr(got[2 * sizes.length + i], refV[i])).toBeLessThan(tolMV);
        }
        // weight decay changes the result measurably (for wd 0.01: lr*wd*|p|*3 ~ 1.5e-5 >> 1e-6)
        if (weightDecay > 0) {
          const noWd = Float64Array.from(p0[1]);
          const m = new Float64Array(sizes[1]);
          const v = new Float64Array(sizes[1]);
          for (let step = 1; step <= 3; step++) {
            const g = sizes.map((n, i) => randn(n, 10 * step + i, step === 2 ? 0.002 : 0.3));
            adamwStepRef(noWd, g[1], m, v, { ...H, step, weightDecay: 0, clipCoef: coefs[step - 1] });
          }
          let diff = 0;
          for (let j = 0; j < sizes[1]; j++) diff = Math.max(diff, Math.abs(noWd[j] - refP[1][j]));
          expect(diff).toBeGreaterThan(1e-5);
        }
        gpu.release(...params, ...ms, ...vs, ...grads, hyper, partial, clip);
      });
    }
  }

  it('refuses bad hyperparameters and aliased tensors with a sentence', async () => {
    const gpu = await testGpu();
    const t = gpu.tensor([10]);
    const u = gpu.tensor([10]);
    const w = gpu.tensor([10]);
    const h = gpu.tensor([6]);
    const c = gpu.tensor([2]);
    expect(() => writeAdamwHyper(gpu, h, { ...H, step: 0 })).toThrow(/step must be an integer >= 1/);
    expect(() => writeAdamwHyper(gpu, h, { ...H, beta2: 1, step: 1 })).toThrow(/beta2 must be in \[0, 1\)/);
    expect(() => writeAdamwHyper(gpu, c, { ...H, step: 1 })).toThrow(/hyper holds 2 elements but 6/);
    expect(() => adamwStep(gpu, t, u, w, w, h, c, { n: 10, weightDecay: 0 })).toThrow(/must not share its buffer/);
    expect(() => adamwStep(gpu, t, u, w, h, h, c, { n: 10, weightDecay: 0 })).toThrow(/v holds 6 elements but 10/);
    expect(() => adamwStep(gpu, t, u, w, gpu.tensor([10]), h, c, { n: 10, weightDecay: -1 })).toThrow(/weight decay must be/);
    gpu.release(t, u, w, h, c);
  });
});
