import { afterEach, describe, expect, it } from 'vitest';
import { maxRelErr, randn, testGpu } from './helpers/gpu';
import { flashAttentionBackward, flashAttentionForward, tileRows, type AttentionOptions } from '../src/gpu/ops/flash-attention';
import { attentionBackwardCpu, attentionForwardCpu } from '../src/gpu/reference/attention';
import type { Gpu } from '../src/gpu/context';
import { setReduceVariant, type ReduceVariant } from '../src/gpu/ops/variant';

// 64 query/key rows per workgroup on GPUs ('workgroup'), 16 on CPU adapters ('thread').
const variants: ReduceVariant[] = ['workgroup', 'thread'];
afterEach(() => setReduceVariant('auto'));

/** float64 logsumexp over the keys row i sees (j <= i, j < lens[b]) of scale * q_i . k_j, per row (b*H + h)*T + i. */
function lseCpu(q: ArrayLike<number>, k: ArrayLike<number>, o: AttentionOptions, lens?: readonly number[]): Float64Array {
  const { B, T, H, KVH, D, scale } = o;
  const out = new Float64Array(B * H * T);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    const kh = Math.floor(h / (H / KVH));
    const s: number[] = [];
    for (let j = 0; j <= Math.min(i, (lens?.[b] ?? T) - 1); j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[(b * T + i) * H * D + h * D + d] * k[(b * T + j) * KVH * D + kh * D + d];
      s.push(scale * dot);
    }
    const m = Math.max(...s);
    out[(b * H + h) * T + i] = m + Math.log(s.reduce((a, x) => a + Math.exp(x - m), 0));
  }
  return out;
}

/** lens: per-sequence key lengths (right padding); padDoutZero: dout 0 at pad rows, as the model's backward gives. */
async function runGpu(gpu: Gpu, o: AttentionOptions, seed: number, lens?: readonly number[], padDoutZero = false) {
  const { B, T, H, KVH, D } = o;
  const q = randn(B * T * H * D, seed);
  const k = randn(B * T * KVH * D, seed + 1);
  const v = randn(B * T * KVH * D, seed + 2);
  const dout = randn(B * T * H * D, seed + 3);
  if (padDoutZero && lens) for (let b = 0; b < B; b++) dout.fill(0, (b * T + lens[b]) * H * D, (b + 1) * T * H * D);
  const [tq, tk, tv, tdo] = [q, k, v, dout].map((a) => gpu.upload(a));
  // garbage in the outputs: everything must be overwritten
  const fill = (n: number) => gpu.upload(new Float32Array(n).fill(123));
  const [tout, tlse, tdq, tdk, tdv] = [B * T * H * D, B * H * T, B * T * H * D, B * T * KVH * D, B * T * KVH * D].map(fill);
  const tl = lens ? gpu.upload(Uint32Array.from(lens)) : undefined;
  flashAttentionForward(gpu, tq, tk, tv, tout, tlse, o, tl);
  flashAttentionBackward(gpu, tq, tk, tv, tout, tlse, tdo, tdq, tdk, tdv, o, tl);
  const [out, lse, dq, dk, dv] = await gpu.read(tout, tlse, tdq, tdk, tdv);
  gpu.release(tq, tk, tv, tdo, tout, tlse, tdq, tdk, tdv, tl);
  return { q, k, v, dout, out, lse, dq, dk, dv };
}

async function expectMatchesReference(o: AttentionOptions, seed: number, lens?: readonly number[]): Promise<void> {
  const gpu = await testGpu();
  const r = await runGpu(gpu, o, seed, lens);
  const ref = attentionForwardCpu(r.q, r.k, r.v, o, lens);
  expect(maxRelErr(r.out, ref.out)).toBeLessThan(1e-5);
  expect(maxRelErr(r.lse, lseCpu(r.q, r.k, o, lens))).toBeLessThan(1e-5);
  const g = attentionBackwardCpu(r.q, r.k, r.v, r.dout, o, lens);
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

  // Key lengths (right padding, transformers' attention_mask): 1 (one real token), a length past the first
  // 16-row query block and the 30/32-row key tile, T itself (no padding), and one mid-tile; MHA and GQA.
  for (const variant of variants) for (const D of [12, 64]) for (const [H, KVH] of [[4, 4], [6, 2]]) {
    it(`key lengths per sequence: pad queries attend to their row's real keys only, pad keys get no gradient; float64 reference, ${variant} blocks (S=4, T=37, H=${H}, KVH=${KVH}, D=${D})`, async () => {
      setReduceVariant(variant);
      const o: AttentionOptions = { B: 4, T: 37, H, KVH, D, scale: 1 / Math.sqrt(D) };
      const lens = [1, 33, 37, 9];
      await expectMatchesReference(o, 20 * D + H, lens);
    });
  }

  it('a wrong mask fails the reference: pad rows differ from plain causal attention, real rows do not', async () => {
    const o: AttentionOptions = { B: 2, T: 9, H: 2, KVH: 1, D: 4, scale: 0.5 };
    const lens = [4, 9];
    const r = await runGpu(await testGpu(), o, 9, lens);
    const masked = attentionForwardCpu(r.q, r.k, r.v, o, lens).out;
    const causal = attentionForwardCpu(r.q, r.k, r.v, o).out;
    const row = (a: ArrayLike<number>, b: number, t: number) => Array.from(a).slice((b * o.T + t) * o.H * o.D, (b * o.T + t + 1) * o.H * o.D);
    for (let t = 0; t < o.T; t++) {
      const d = maxRelErr(row(r.out, 0, t), row(causal, 0, t));
      if (t < lens[0]) expect(d, `real row ${t}`).toBeLessThan(1e-5);
      else expect(d, `pad row ${t} must not be plain causal`).toBeGreaterThan(1e-2);
      expect(maxRelErr(row(r.out, 0, t), row(masked, 0, t))).toBeLessThan(1e-5);
    }
    // sequence 1 has no padding: every row is plain causal attention
    for (let t = 0; t < o.T; t++) expect(maxRelErr(row(r.out, 1, t), row(causal, 1, t))).toBeLessThan(1e-5);
  });

  for (const variant of variants) it(`with pad rows' upstream gradient 0 (as the model gives), real rows' outputs and every gradient are bit-identical to plain causal attention, ${variant} blocks`, async () => {
    setReduceVariant(variant);
    const gpu = await testGpu();
    const o: AttentionOptions = { B: 3, T: 41, H: 4, KVH: 2, D: 16, scale: 0.25 };
    const lens = [41, 17, 2];
    const masked = await runGpu(gpu, o, 11, lens, true);
    // plain causal attention (no lens) on the same q, k, v and dout
    const ins = [masked.q, masked.k, masked.v, masked.dout].map((a) => gpu.upload(a));
    const outs = [o.B * o.T * o.H * o.D, o.B * o.H * o.T, o.B * o.T * o.H * o.D, o.B * o.T * o.KVH * o.D, o.B * o.T * o.KVH * o.D].map((n) => gpu.tensor([n]));
    flashAttentionForward(gpu, ins[0], ins[1], ins[2], outs[0], outs[1], o);
    flashAttentionBackward(gpu, ins[0], ins[1], ins[2], outs[0], outs[1], ins[3], outs[2], outs[3], outs[4], o);
    const [out, , dq, dk, dv] = await gpu.read(...outs);
    gpu.release(...ins, ...outs);
    const rows = (a: Float32Array, w: number, pad: boolean) =>
      Array.from({ length: o.B }, (_, b) => Array.from(a.slice((b * o.T + (pad ? lens[b] : 0)) * w, (b * o.T + (pad ? o.T : lens[b])) * w))).flat();
    const q = o.H * o.D;
    const kv = o.KVH * o.D;
    expect(rows(masked.out, q, false)).toEqual(rows(out, q, false));
    expect(rows(masked.dq, q, false)).toEqual(rows(dq, q, false));
    expect(rows(masked.dk, kv, false)).toEqual(rows(dk, kv, false));
    expect(rows(masked.dv, kv, false)).toEqual(rows(dv, kv, false));
    // pad rows: no gradient at all (their dout is 0 and no query sees a pad key), while their outputs moved
    for (const [g, w] of [[masked.dq, q], [masked.dk, kv], [masked.dv, kv]] as const) expect(rows(g, w, true).every((x) => x === 0)).toBe(true);
    expect(maxRelErr(rows(masked.out, q, true), rows(out, q, true))).toBeGreaterThan(1e-2);
  });

  it('backward matches finite differences of the float64 forward, with and without key lengths (S=2, T=5, H=4, KVH=2, D=3)', async () => {
    for (const lens of [undefined, [2, 5]]) await finiteDifferences(lens);
  });

  async function finiteDifferences(lens: number[] | undefined): Promise<void> {
    const gpu = await testGpu();
    const o: AttentionOptions = { B: 2, T: 5, H: 4, KVH: 2, D: 3, scale: 0.7 };
    const r = await runGpu(gpu, o, 7, lens);
    const base = [Array.from(r.q), Array.from(r.k), Array.from(r.v)];
    const loss = (a: number[][]) => attentionForwardCpu(a[0], a[1], a[2], o, lens).out.reduce((s, x, i) => s + x * r.dout[i], 0);
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
  }

  it('rejects heads that do not group and mis-sized tensors with a sentence', async () => {
    const gpu = await testGpu();
    const t = (n: number) => gpu.tensor([n]);
    const o = { B: 1, T: 3, H: 4, KVH: 3, D: 2, scale: 1 };
    const ts = [t(24), t(18), t(18), t(24), t(12)];
    expect(() => flashAttentionForward(gpu, ts[0], ts[1], ts[2], ts[3], ts[4], o)).toThrow(/multiple of the number of key\/value heads/);
    expect(() => flashAttentionForward(gpu, ts[0], ts[1], ts[2], ts[3], ts[4], { ...o, KVH: 2 })).toThrow(/k must hold 12 values/);
    const okO = { ...o, KVH: 2 };
    const okK = [t(24), t(12), t(12), t(24), t(12)];
    expect(() => flashAttentionForward(gpu, okK[0], okK[1], okK[2], okK[3], okK[4], okO, t(2))).toThrow(/lens must be 1 u32 key lengths/);
    gpu.release(...okK);
    gpu.release(...ts);
  });
});
