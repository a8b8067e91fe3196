import { afterEach, describe, expect, it } from 'vitest';
import { maxRelErr, randn, rng, testGpu } from './helpers/gpu';
import {
  createLogprobState,
  klChunkUpdate,
  logprobChunkBackward,
  logprobChunkUpdate,
  logprobFinalize,
  logprobInit,
  releaseLogprobState,
} from '../src/gpu/ops/logprob';
import { klCpu, logprobBackwardCpu, logprobCpu } from '../src/gpu/reference/logprob';
import type { Gpu, Tensor } from '../src/gpu/context';
import { setReduceVariant, type ReduceVariant } from '../src/gpu/ops/variant';

// update and kl exist as workgroup tree reductions (GPUs) and one row per invocation (CPU adapters).
const variants: ReduceVariant[] = ['workgroup', 'thread'];
afterEach(() => setReduceVariant('auto'));

const N = 37;
const V = 101;
const NO = 0xffffffff;

function makeTargets(seed: number): Uint32Array {
  const r = rng(seed);
  const t = new Uint32Array(N);
  for (let n = 0; n < N; n++) t[n] = Math.floor(r() * V);
  t[3] = NO; // no target
  t[5] = V; // just past the vocabulary: also no target
  t[6] = 0; // first id of the first chunk
  t[7] = V - 1; // last id of the last chunk
  t[8] = 40; // first id of the second chunk
  t[9] = 39; // last id of the first chunk
  return t;
}

/** Copies the columns [v0, v0+Vc) of [N, V] logits into a chunk [N, Vc]. */
function chunkOf(logits: Float32Array, v0: number, Vc: number): Float32Array {
  const c = new Float32Array(N * Vc);
  for (let n = 0; n < N; n++) c.set(logits.subarray(n * V + v0, n * V + v0 + Vc), n * Vc);
  return c;
}

async function runChunked(gpu: Gpu, logits: Float32Array, targets: Tensor, splits: number[]) {
  const st = createLogprobState(gpu, N);
  logprobInit(gpu, st, N);
  let v0 = 0;
  for (const Vc of splits) {
    const c = gpu.upload(chunkOf(logits, v0, Vc), [N, Vc]);
    logprobChunkUpdate(gpu, c, targets, st, { N, Vc, vOffset: v0 });
    gpu.release(c); // freed right away, as the model does
    v0 += Vc;
  }
  const lse = gpu.tensor([N]);
  const logp = gpu.tensor([N]);
  logprobFinalize(gpu, st, targets, lse, logp, { N });
  const [a, b, s] = await gpu.read(lse, logp, st.logitSum);
  releaseLogprobState(gpu, st);
  gpu.release(lse, logp);
  return { lse: a, logp: b, logitSum: s };
}

describe('chunked log-softmax', () => {
  for (const variant of variants) it(`3 uneven chunks == 1 chunk == CPU reference (lse, logp, logitSum, no-target rows), ${variant} variant`, async () => {
    setReduceVariant(variant);
    const gpu = await testGpu();
    const logits = randn(N * V, 1, 3);
    logits[2 * V + 17] = 60; // a dominant logit: the running max must be merged correctly
    logits[10 * V + 90] = 45; // max in the last chunk only
    const tg = makeTargets(2);
    const targets = gpu.upload(tg);
    const ref = logprobCpu(logits, tg, N, V);
    const one = await runChunked(gpu, logits, targets, [V]);
    const three = await runChunked(gpu, logits, targets, [40, 40, 21]);
    const many = await runChunked(gpu, logits, targets, [1, 70, 30]); // a 1-column chunk and one > workgroup
    for (const r of [one, three, many]) {
      expect(maxRelErr(r.lse, ref.lse)).toBeLessThan(1e-6);
      expect(maxRelErr(r.logp, ref.logp)).toBeLessThan(1e-6);
      expect(maxRelErr(r.logitSum, ref.logitSum)).toBeLessThan(1e-5);
      expect(r.logp[3]).toBe(0);
      expect(r.logp[5]).toBe(0);
      expect(r.logp[6]).toBeLessThan(0);
      expect(r.logp[7]).toBeLessThan(0);
    }
    expect(maxRelErr(three.lse, one.lse)).toBeLessThan(1e-6);
    expect(maxRelErr(three.logp, one.logp)).toBeLessThan(1e-6);
    gpu.release(targets);
  });

  it('chunked backward == CPU reference == finite differences of the CPU logp', async () => {
    const gpu = await testGpu();
    const logits = randn(N * V, 3, 2);
    const tg = makeTargets(4);
    const g = randn(N, 5);
    g[3] = 0; // rows without target have g = 0
    g[5] = 0;
    const targets = gpu.upload(tg);
    const { lse } = logprobCpu(logits, tg, N, V);
    const tl = gpu.upload(Float32Array.from(lse));
    const tgv = gpu.upload(g);
    const d = new Float32Array(N * V);
    let v0 = 0;
    for (const Vc of [40, 40, 21]) {
      const c = gpu.upload(chunkOf(logits, v0, Vc), [N, Vc]);
      const dc = gpu.upload(new Float32Array(N * Vc).fill(9)); // overwritten
      logprobChunkBackward(gpu, c, targets, tl, tgv, dc, { N, Vc, vOffset: v0 });
      const [r] = await gpu.read(dc);
      for (let n = 0; n < N; n++) d.set(r.subarray(n * Vc, (n + 1) * Vc), n * V + v0);
      gpu.release(c, dc);
      v0 += Vc;
    }
    const refD = logprobBackwardCpu(logits, tg, g, N, V);
    expect(maxRelErr(d, refD)).toBeLessThan(1e-5);
    // finite differences of L = sum_n g[n] * logp[n] (CPU, float64) on a sample of logits in every chunk
    const x = Float64Array.from(logits);
    const L = (xx: Float64Array) => logprobCpu(xx, tg, N, V).logp.reduce((s, lp, n) => s + g[n] * lp, 0);
    const eps = 1e-6;
    const idx = [0, 39, 40, 79, 80, 100, 6 * V, 7 * V + V - 1, 8 * V + 40, 9 * V + 39, 3 * V + 12, 20 * V + 55];
    for (const i of idx) {
      const xp = x.slice(); xp[i] += eps;
      const xm = x.slice(); xm[i] -= eps;
      const fd = (L(xp) - L(xm)) / (2 * eps);
      expect(Math.abs(fd - refD[i])).toBeLessThan(1e-7);
      expect(Math.abs(fd - d[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
    }
    gpu.release(targets, tl, tgv);
  });

  for (const variant of variants) it(`chunked exact KL matches the CPU reference, adds into kl, and is 0 against itself, ${variant} variant`, async () => {
    setReduceVariant(variant);
    const gpu = await testGpu();
    const pol = randn(N * V, 7, 2);
    const ref = randn(N * V, 8, 2);
    const none = new Uint32Array(N).fill(NO);
    const tn = gpu.upload(none);
    const pz = gpu.upload(Float32Array.from(logprobCpu(pol, none, N, V).lse));
    const rz = gpu.upload(Float32Array.from(logprobCpu(ref, none, N, V).lse));
    const kl = gpu.upload(new Float32Array(N).fill(0.5)); // += semantics
    const self = gpu.tensor([N], 'f32', true);
    let v0 = 0;
    for (const Vc of [40, 40, 21]) {
      const pc = gpu.upload(chunkOf(pol, v0, Vc), [N, Vc]);
      const rc = gpu.upload(chunkOf(ref, v0, Vc), [N, Vc]);
      klChunkUpdate(gpu, pc, rc, pz, rz, kl, { N, Vc });
      klChunkUpdate(gpu, pc, pc, pz, pz, self, { N, Vc });
      gpu.release(pc, rc);
      v0 += Vc;
    }
    const [k, s] = await gpu.read(kl, self);
    const want = klCpu(pol, ref, N, V).map((x) => x + 0.5);
    expect(maxRelErr(k, want)).toBeLessThan(1e-5);
    for (let n = 0; n < N; n++) {
      expect(want[n]).toBeGreaterThan(0.5 + 1e-3); // real divergence: the test would see a wrong sign or scale
      expect(Math.abs(s[n])).toBeLessThan(1e-6);
    }
    gpu.release(tn, pz, rz, kl, self);
  });

  it('rejects mis-sized and mistyped inputs with a sentence', async () => {
    const gpu = await testGpu();
    const st = createLogprobState(gpu, 4);
    const logits = gpu.tensor([4, 10]);
    const tf = gpu.tensor([4]);
    const tu = gpu.tensor([4], 'u32');
    expect(() => logprobChunkUpdate(gpu, logits, tf, st, { N: 4, Vc: 10, vOffset: 0 })).toThrow(/u32 tensor/);
    expect(() => logprobChunkUpdate(gpu, logits, tu, st, { N: 4, Vc: 9, vOffset: 0 })).toThrow(/logits must hold 36/);
    expect(() => logprobInit(gpu, st, 5)).toThrow(/state.max must hold 5/);
    releaseLogprobState(gpu, st);
    gpu.release(logits, tf, tu);
  });
});
