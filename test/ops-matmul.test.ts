import { afterAll, describe, expect, it } from 'vitest';
import { matmul, matmulVariant, setMatmulVariant, sumRows } from '../src/gpu/ops/matmul';
import { matmulRef, sumRowsRef } from '../src/gpu/reference/matmul';
import { geluNewBackwardRef, geluNewForwardRef } from '../src/gpu/reference/activation';
import { maxRelErr, randn, testGpu } from './helpers/gpu';

const shapes = [
  { M: 37, N: 50, K: 13 },
  { M: 1, N: 1, K: 1 },
  { M: 70, N: 130, K: 67 },
  { M: 3, N: 200, K: 5 },
];
const transposes = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

afterAll(() => setMatmulVariant('auto'));

describe('matmul', () => {
  for (const variant of ['register', 'tiled'] as const) {
    it(`${variant}: all transposes, bias, accumulate and alpha match the float64 reference`, async () => {
      const gpu = await testGpu();
      setMatmulVariant(variant);
      expect(matmulVariant(gpu)).toBe(variant);
      let seed = 100;
      let combo = 0;
      for (const { M, N, K } of shapes) {
        for (const [transA, transB] of transposes) {
          // cycle through the epilogue options so every shape/transpose sees several of them
          const withBias = combo % 2 === 1;
          const accumulate = combo % 3 !== 0;
          const alpha = combo % 4 === 2 ? -0.75 : 1;
          combo++;
          const a = randn(M * K, seed++);
          const b = randn(K * N, seed++);
          const bias = randn(N, seed++);
          const prior = randn(M * N, seed++);
          const ta = gpu.upload(a);
          const tb = gpu.upload(b);
          const tbias = gpu.upload(bias);
          const tout = gpu.upload(accumulate ? prior : new Float32Array(M * N).fill(NaN));
          matmul(gpu, ta, tb, tout, { M, N, K, transA, transB, bias: withBias ? tbias : undefined, accumulate, alpha });
          const [out] = await gpu.read(tout);
          const ref = matmulRef(a, b, { M, N, K, transA, transB, alpha, bias: withBias ? bias : undefined, prior: accumulate ? prior : undefined });
          const what = `${variant} M=${M} N=${N} K=${K} tA=${transA} tB=${transB} bias=${withBias} acc=${accumulate} alpha=${alpha}`;
          expect(maxRelErr(out, ref), what).toBeLessThan(1e-5);
          gpu.release(ta, tb, tbias, tout);
        }
      }
    });
  }

  for (const variant of ['register', 'tiled'] as const) {
    it(`${variant}: the gelu epilogues (bias + gelu_new forward, backward through gelu_new) match the float64 reference`, async () => {
      const gpu = await testGpu();
      setMatmulVariant(variant);
      for (const [i, { M, N, K }] of [{ M: 37, N: 50, K: 13 }, { M: 70, N: 130, K: 67 }].entries()) {
        const a = randn(M * K, 300 + i);
        const b = randn(N * K, 310 + i);
        const bias = randn(N, 320 + i);
        const h = randn(M * N, 330 + i).map((x) => 3 * x); // pre-activations over gelu's curved range
        const [ta, tb, tbias, th] = [a, b, bias, h].map((x) => gpu.upload(x));
        // forward, transB (nn.Linear layout): out = a b^T + bias, act = gelu_new(out)
        const out = gpu.upload(new Float32Array(M * N).fill(NaN));
        const act = gpu.upload(new Float32Array(M * N).fill(NaN));
        matmul(gpu, ta, tb, out, { M, N, K, transB: true, bias: tbias, geluOut: act });
        const lin = matmulRef(a, b, { M, N, K, transB: true, bias });
        const [o, g] = await gpu.read(out, act);
        expect(maxRelErr(o, lin), `${variant} ${M}x${N}x${K} linear`).toBeLessThan(1e-5);
        expect(maxRelErr(g, geluNewForwardRef(lin, M * N)), `${variant} ${M}x${N}x${K} gelu`).toBeLessThan(1e-5);
        // backward: dh = (a b^T) * gelu_new'(h)
        const dh = gpu.upload(new Float32Array(M * N).fill(NaN));
        matmul(gpu, ta, tb, dh, { M, N, K, transB: true, geluGradOf: th });
        const [d] = await gpu.read(dh);
        expect(maxRelErr(d, geluNewBackwardRef(h, matmulRef(a, b, { M, N, K, transB: true }), M * N)), `${variant} ${M}x${N}x${K} gelu'`).toBeLessThan(1e-5);
        expect(() => matmul(gpu, ta, tb, dh, { M, N, K, transB: true, geluGradOf: dh })).toThrow(/distinct|same|differ/i);
        gpu.release(ta, tb, tbias, th, out, act, dh);
      }
    });
  }

  it('register and tiled variants agree on a 130x67x70 product, and no variant writes past M*N', async () => {
    const gpu = await testGpu();
    const [M, N, K] = [130, 67, 70];
    const a = randn(M * K, 1);
    const b = randn(N * K, 2);
    const ta = gpu.upload(a);
    const tb = gpu.upload(b);
    const outs = [];
    for (const v of ['register', 'tiled'] as const) {
      setMatmulVariant(v);
      const t = gpu.upload(new Float32Array(M * N + 64).fill(3)); // sentinel tail
      matmul(gpu, ta, tb, t, { M, N, K, transB: true });
      outs.push(t);
    }
    const [r, t] = await gpu.read(...outs);
    expect(maxRelErr(r.subarray(0, M * N), t.subarray(0, M * N))).toBeLessThan(1e-5);
    expect(Array.from(r.subarray(M * N)).every((v) => v === 3)).toBe(true);
    expect(Array.from(t.subarray(M * N)).every((v) => v === 3)).toBe(true);
    gpu.release(ta, tb, ...outs);
  });

  it('auto picks the register variant on CPU adapters and tiled on GPUs', async () => {
    const gpu = await testGpu();
    setMatmulVariant('auto');
    const cpu = /swiftshader|llvmpipe|lavapipe|cpu/i.test(gpu.info.adapterName);
    expect(matmulVariant(gpu)).toBe(cpu ? 'register' : 'tiled');
    expect(() => setMatmulVariant('fast' as never)).toThrow(/unknown variant/);
  });

  it('refuses wrong sizes and aliased output with a sentence', async () => {
    const gpu = await testGpu();
    const a = gpu.tensor([4, 5]);
    const b = gpu.tensor([5, 6]);
    const c = gpu.tensor([4, 6]);
    expect(() => matmul(gpu, a, b, c, { M: 4, N: 6, K: 6 })).toThrow(/A holds 20 elements but 24/);
    expect(() => matmul(gpu, a, b, a, { M: 4, N: 5, K: 5 })).toThrow(/same buffer/);
    expect(() => matmul(gpu, a, b, c, { M: 0, N: 6, K: 5 })).toThrow(/M must be an integer >= 1/);
    gpu.release(a, b, c);
  });
});

describe('sumRows', () => {
  for (const rows of [1, 37, 600]) {
    it(`sums ${rows} rows (overwrite and accumulate)`, async () => {
      const gpu = await testGpu();
      const cols = 50;
      const x = randn(rows * cols, rows);
      const prior = randn(cols, 7);
      const tx = gpu.upload(x);
      const t1 = gpu.upload(new Float32Array(cols).fill(NaN));
      const t2 = gpu.upload(prior);
      sumRows(gpu, tx, t1, { rows, cols });
      sumRows(gpu, tx, t2, { rows, cols, accumulate: true });
      const [o1, o2] = await gpu.read(t1, t2);
      expect(maxRelErr(o1, sumRowsRef(x, rows, cols))).toBeLessThan(1e-5);
      expect(maxRelErr(o2, sumRowsRef(x, rows, cols, prior))).toBeLessThan(1e-5);
      gpu.release(tx, t1, t2);
    });
  }
});
