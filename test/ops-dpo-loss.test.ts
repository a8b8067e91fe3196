import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dpoLoss, type DpoLossKind } from '../src/dpo/loss';
import { checkDpoLossOptions, DPO_LOSS_KINDS, dpoLossReference, type DpoLossOptions, type FDivergence } from '../src/gpu/reference/dpo_loss';
import type { Gpu, Tensor } from '../src/gpu/context';
import { randn, rng, testGpu } from './helpers/gpu';

const FIXTURES = ['gpt2-tiny', 'llama-tiny'];
// fixture loss name -> [kind, label smoothing]
const FIXTURE_LOSSES: Record<string, [DpoLossKind, number]> = {
  sigmoid: ['sigmoid', 0],
  'sigmoid_label_smoothing_0.1': ['cdpo', 0.1],
  hinge: ['hinge', 0],
  'robust_label_smoothing_0.1': ['robust', 0.1],
  ipo_length_normalized: ['ipo', 0],
};

interface Expected {
  beta: number;
  num_pairs: number;
  policy_chosen_logps: number[];
  policy_rejected_logps: number[];
  reference_chosen_logps: number[];
  reference_rejected_logps: number[];
  completion_lengths: number[];
  losses: Record<string, { per_pair: number[]; mean: number }>;
}

const load = (name: string): Expected => JSON.parse(readFileSync(`/work/shared/fixtures/${name}/expected.json`, 'utf8')) as Expected;

async function runLoss(
  gpu: Gpu,
  policy: Float32Array,
  reference: Float32Array | null,
  lengths: Float32Array,
  o: DpoLossOptions,
  extra: { plain?: Float32Array; wpoSum?: Float32Array; wpoLen?: Float32Array } = {},
) {
  const N = o.N;
  const tp = gpu.upload(policy);
  const tr = reference ? gpu.upload(reference) : undefined;
  const tl = gpu.upload(lengths);
  const up = (x?: Float32Array) => (x ? gpu.upload(x) : undefined);
  const side = { plain: up(extra.plain), wpoSum: up(extra.wpoSum), wpoLen: up(extra.wpoLen) };
  // outputs prefilled with garbage: the kernel must overwrite them
  const out = {
    losses: gpu.upload(new Float32Array(N).fill(NaN)),
    rewards: gpu.upload(new Float32Array(2 * N).fill(NaN)),
    dlogp: gpu.upload(new Float32Array(2 * N).fill(NaN)),
    dplain: gpu.upload(new Float32Array(2 * N).fill(NaN)),
  };
  dpoLoss(gpu, { policy: tp, reference: tr, lengths: tl, ...side }, out, o);
  const [losses, rewards, dlogp, dplain] = await gpu.read(out.losses, out.rewards, out.dlogp, out.dplain);
  gpu.release(tp, tr, tl, side.plain, side.wpoSum, side.wpoLen, out.losses, out.rewards, out.dlogp, out.dplain);
  return { losses, rewards, dlogp, dplain };
}

const close = (got: number, want: number, rel = 1e-4) => Math.abs(got - want) <= rel * Math.max(1, Math.abs(want));

describe('fused DPO loss', () => {
  for (const fx of FIXTURES) {
    it(`reproduces ${fx}'s per-pair losses for all five kinds from the four logps`, async () => {
      const gpu = await testGpu();
      const e = load(fx);
      const N = e.num_pairs;
      const policy = Float32Array.from([...e.policy_chosen_logps, ...e.policy_rejected_logps]);
      const reference = Float32Array.from([...e.reference_chosen_logps, ...e.reference_rejected_logps]);
      const lengths = Float32Array.from(e.completion_lengths);
      const policy64 = [...e.policy_chosen_logps, ...e.policy_rejected_logps];
      const reference64 = [...e.reference_chosen_logps, ...e.reference_rejected_logps];
      for (const [name, [kind, labelSmoothing]] of Object.entries(FIXTURE_LOSSES)) {
        const want = e.losses[name];
        expect(want, name).toBeDefined();
        const o = { N, beta: e.beta, kind, labelSmoothing };
        // the float64 reference reproduces the fixture tightly
        const ref = dpoLossReference({ policy: policy64, reference: reference64, lengths: e.completion_lengths }, o);
        for (let i = 0; i < N; i++) expect(close(ref.losses[i], want.per_pair[i], 1e-10), `${name} ref pair ${i}`).toBe(true);
        expect(close(ref.mean, want.mean, 1e-10)).toBe(true);
        // the kernel within the fixture tolerance
        const got = await runLoss(gpu, policy, reference, lengths, o);
        for (let i = 0; i < N; i++) {
          expect(close(got.losses[i], want.per_pair[i]), `${fx} ${name} pair ${i}: ${got.losses[i]} vs ${want.per_pair[i]}`).toBe(true);
        }
        const mean = got.losses.reduce((a, b) => a + b, 0) / N;
        expect(close(mean, want.mean)).toBe(true);
        // TRL's rewards: beta * (policy - reference), not length-normalized even for ipo
        for (let i = 0; i < 2 * N; i++) {
          expect(close(got.rewards[i], e.beta * (policy64[i] - reference64[i]), 1e-5), `${name} reward ${i}`).toBe(true);
        }
        for (let i = 0; i < 2 * N; i++) expect(Math.abs(got.dlogp[i] - ref.dlogp[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.dlogp[i])));
      }
    });
  }

  it('reference gradient matches finite differences of the reference loss (all kinds)', () => {
    const N = 7;
    const r = rng(11);
    const policy = Array.from({ length: 2 * N }, () => -40 * r() - 2);
    const reference = policy.map((p) => p + 20 * (r() - 0.5));
    const lengths = Array.from({ length: 2 * N }, (_, i) => (i === 3 ? 0 : 1 + Math.floor(9 * r()))); // one empty completion
    for (const kind of ['sigmoid', 'cdpo', 'robust', 'hinge', 'ipo'] as DpoLossKind[]) {
      for (const referenceFree of [false, true]) {
        const o = { N, beta: 0.3, kind, labelSmoothing: 0.15, referenceFree, gradScale: 0.5 };
        const base = dpoLossReference({ policy, reference, lengths }, o);
        const h = 1e-6;
        for (let i = 0; i < 2 * N; i++) {
          const pp = policy.slice();
          const pm = policy.slice();
          pp[i] += h;
          pm[i] -= h;
          const fd = (0.5 * (dpoLossReference({ policy: pp, reference, lengths }, o).mean - dpoLossReference({ policy: pm, reference, lengths }, o).mean)) / (2 * h);
          expect(Math.abs(base.dlogp[i] - fd), `${kind} ${referenceFree} ${i}`).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
        }
      }
    }
  });

  it('kernel matches the float64 reference on random pairs: gradients, reference-free, gradScale, hinge both sides', async () => {
    const gpu = await testGpu();
    const N = 37;
    const r = rng(5);
    const policy = Float32Array.from({ length: 2 * N }, () => -60 * r() - 1);
    const noise = randn(2 * N, 9, 8);
    const reference = Float32Array.from(policy, (p, i) => p + noise[i]);
    const lengths = Float32Array.from({ length: 2 * N }, (_, i) => (i === 5 ? 0 : 1 + Math.floor(30 * r())));
    let hingeActive = 0;
    for (const kind of ['sigmoid', 'cdpo', 'robust', 'hinge', 'ipo'] as DpoLossKind[]) {
      for (const referenceFree of [false, true]) {
        const o = { N, beta: 0.25, kind, labelSmoothing: 0.2, referenceFree, gradScale: 0.25 };
        const want = dpoLossReference({ policy, reference, lengths }, o);
        const got = await runLoss(gpu, policy, referenceFree ? null : reference, lengths, o);
        for (let i = 0; i < N; i++) {
          expect(close(got.losses[i], want.losses[i], 2e-5), `${kind} ${referenceFree} loss ${i}: ${got.losses[i]} vs ${want.losses[i]}`).toBe(true);
        }
        const gscale = Math.max(...Array.from(want.dlogp, Math.abs));
        expect(gscale).toBeGreaterThan(0);
        for (let i = 0; i < 2 * N; i++) {
          expect(Math.abs(got.dlogp[i] - want.dlogp[i]), `${kind} ${referenceFree} dlogp ${i}`).toBeLessThan(1e-5 * gscale);
          expect(close(got.rewards[i], want.rewards[i], 1e-5)).toBe(true);
        }
        if (kind === 'hinge' && !referenceFree) hingeActive = Array.from(want.dlogp).filter((d) => d !== 0).length;
      }
    }
    // the hinge case saw pairs on both sides of the margin
    expect(hingeActive).toBeGreaterThan(0);
    expect(hingeActive).toBeLessThan(2 * N);
  });

  // Every TRL 1.13 kind (and cdpo) alone, each f-divergence on the kinds that allow one, TRL's MPO combination,
  // WPO weighting, reference-free: the float64 gradient against central differences of the float64 loss
  // (policy logps and the sft term's plain sums), then the kernel against the float64 reference.
  const ALL_CASES: { name: string; o: Partial<DpoLossOptions>; wpo?: boolean }[] = [
    ...DPO_LOSS_KINDS.map((kind) => ({ name: kind, o: { kind } })),
    ...(['forward_kl', 'js_divergence', 'alpha_divergence'] as FDivergence[]).flatMap((fDivergence) =>
      (['sigmoid', 'hinge', 'ipo', 'exo_pair', 'robust', 'discopop', 'sigmoid_norm'] as DpoLossKind[]).map((kind) => ({
        name: `${kind} ${fDivergence}`,
        o: { kind, fDivergence, fAlphaCoef: 0.3 },
      })),
    ),
    { name: 'MPO sigmoid+bco_pair+sft 0.8/0.2/1.0', o: { terms: [{ kind: 'sigmoid', weight: 0.8 }, { kind: 'bco_pair', weight: 0.2 }, { kind: 'sft', weight: 1 }] } },
    { name: 'aot+aot_unpaired+apo_down 1/0.5/2', o: { terms: [{ kind: 'aot', weight: 1 }, { kind: 'aot_unpaired', weight: 0.5 }, { kind: 'apo_down', weight: 2 }] } },
    ...(['sigmoid', 'ipo', 'nca_pair', 'discopop', 'apo_zero'] as DpoLossKind[]).map((kind) => ({ name: `${kind} WPO`, o: { kind, useWeighting: true }, wpo: true })),
    { name: 'discopop tau 0.5 js', o: { kind: 'discopop', discopopTau: 0.5, fDivergence: 'js_divergence' } },
  ];

  function randomBatch(N: number, seed: number) {
    const r = rng(seed);
    const policy = Array.from({ length: 2 * N }, () => -30 * r() - 2);
    // log-ratios of a few units (beta 0.3 puts z in the curved part of every loss)
    const reference = policy.map((p) => p + 8 * (r() - 0.5));
    const lengths = Array.from({ length: 2 * N }, (_, i) => (i === 3 ? 0 : 1 + Math.floor(9 * r())));
    const plain = policy.map((p) => p - 3 * r());
    const wpoLen = lengths.map((l) => Math.max(l, 1));
    const wpoSum = wpoLen.map((l) => -0.4 * l * r());
    return { policy, reference, lengths, plain, wpoSum, wpoLen };
  }

  it('every TRL 1.13 loss kind, f-divergence, combination and WPO: float64 gradient = central differences', () => {
    const N = 7;
    const b = randomBatch(N, 21);
    for (const c of ALL_CASES) {
      // reference-free log-ratios are whole log-probs (~ -30): exp(-u) of the f-divergences overflows there
      for (const referenceFree of c.o.fDivergence ? [false] : [false, true]) {
        const o: DpoLossOptions = { N, beta: 0.3, labelSmoothing: 0.15, referenceFree, gradScale: 0.5, chosenTokens: 23, ...c.o };
        const inp = (policy: number[], plain: number[]) => ({ ...b, policy, plain, reference: referenceFree ? undefined : b.reference });
        const base = dpoLossReference(inp(b.policy, b.plain), o);
        expect(base.losses.every(Number.isFinite), c.name).toBe(true);
        const h = 1e-6;
        const fd = (which: 'policy' | 'plain', i: number) => {
          const xp = b[which].slice();
          const xm = b[which].slice();
          xp[i] += h;
          xm[i] -= h;
          const f = (x: number[]) => dpoLossReference(which === 'policy' ? inp(x, b.plain) : inp(b.policy, x), o).mean;
          return (0.5 * (f(xp) - f(xm))) / (2 * h);
        };
        let nonzero = 0;
        for (let i = 0; i < 2 * N; i++) {
          const g = fd('policy', i);
          if (Math.abs(g) > 1e-9) nonzero++;
          expect(Math.abs(base.dlogp[i] - g), `${c.name} ref-free ${referenceFree} dlogp ${i}: ${base.dlogp[i]} vs ${g}`).toBeLessThan(2e-7 * Math.max(1, Math.abs(g)));
          const gp = fd('plain', i);
          expect(Math.abs(base.dplain[i] - gp), `${c.name} dplain ${i}`).toBeLessThan(2e-7 * Math.max(1, Math.abs(gp)));
        }
        // every case depends on the policy log-probs (sft on the plain sums)
        if (c.o.kind !== 'sft') expect(nonzero, c.name).toBeGreaterThan(0);
        else expect(Math.abs(base.dplain[0])).toBeGreaterThan(0);
      }
    }
  });

  it('kernel = float64 reference for every kind, f-divergence, combination and WPO (losses, rewards, both gradients)', async () => {
    const gpu = await testGpu();
    const N = 13;
    const b = randomBatch(N, 8);
    const F = (x: number[]) => Float32Array.from(x);
    // the float64 reference sees exactly the float32 inputs the kernel sees
    const f32in = { policy: F(b.policy), reference: F(b.reference), lengths: F(b.lengths), plain: F(b.plain), wpoSum: F(b.wpoSum), wpoLen: F(b.wpoLen) };
    for (const c of ALL_CASES) {
      for (const referenceFree of c.o.fDivergence ? [false] : [false, true]) {
        const o: DpoLossOptions = { N, beta: 0.3, labelSmoothing: 0.15, referenceFree, gradScale: 0.25, chosenTokens: 41, ...c.o };
        const want = dpoLossReference({ ...f32in, reference: referenceFree ? undefined : f32in.reference }, o);
        const got = await runLoss(gpu, f32in.policy, referenceFree ? null : f32in.reference, f32in.lengths, o, {
          plain: f32in.plain,
          wpoSum: c.wpo ? f32in.wpoSum : undefined,
          wpoLen: c.wpo ? f32in.wpoLen : undefined,
        });
        const lscale = Math.max(1, ...Array.from(want.losses, Math.abs));
        for (let i = 0; i < N; i++) {
          expect(Math.abs(got.losses[i] - want.losses[i]), `${c.name} ${referenceFree} loss ${i}: ${got.losses[i]} vs ${want.losses[i]}`).toBeLessThan(3e-5 * lscale);
        }
        const gscale = Math.max(1e-12, ...Array.from(want.dlogp, Math.abs), ...Array.from(want.dplain, Math.abs));
        for (let i = 0; i < 2 * N; i++) {
          expect(Math.abs(got.dlogp[i] - want.dlogp[i]), `${c.name} ${referenceFree} dlogp ${i}: ${got.dlogp[i]} vs ${want.dlogp[i]}`).toBeLessThan(3e-5 * gscale);
          expect(Math.abs(got.dplain[i] - want.dplain[i]), `${c.name} dplain ${i}`).toBeLessThan(3e-5 * gscale);
          expect(close(got.rewards[i], want.rewards[i], 1e-5)).toBe(true);
        }
      }
    }
  });

  it('refuses combinations TRL refuses, with a sentence', () => {
    const base = { N: 2, beta: 0.1, labelSmoothing: 0 };
    expect(() => checkDpoLossOptions({ ...base, kind: 'bco_pair', fDivergence: 'js_divergence' })).toThrow(/f_divergence_type js_divergence is only defined for/);
    expect(() => checkDpoLossOptions({ ...base, kind: 'aot', useWeighting: true })).toThrow(/use_weighting \(WPO\) cannot be combined/);
    expect(() => checkDpoLossOptions({ ...base, kind: 'exo_pair' })).toThrow(/exo_pair loss needs label smoothing in \(0, 1\)/);
    expect(() => checkDpoLossOptions({ ...base, kind: 'discopop', discopopTau: 0 })).toThrow(/discopop_tau must be a positive/);
    expect(() => checkDpoLossOptions({ ...base, terms: [] })).toThrow(/at least one loss type/);
  });

  it('the sigmoid weight is large where the implicit reward orders the pair wrongly', async () => {
    const gpu = await testGpu();
    // pair 0 ordered right (chosen reward far above rejected), pair 1 ordered wrong
    const policy = Float32Array.of(-10, -50, -50, -10);
    const reference = Float32Array.of(-30, -30, -30, -30);
    const got = await runLoss(gpu, policy, reference, Float32Array.of(1, 1, 1, 1), { N: 2, beta: 0.1, kind: 'sigmoid', labelSmoothing: 0 });
    // dlogp chosen = -beta * sigma(r_l - r_w) / N
    expect(got.dlogp[0]).toBeCloseTo((-0.1 * (1 / (1 + Math.exp(4)))) / 2, 6);
    expect(got.dlogp[1]).toBeCloseTo((-0.1 * (1 / (1 + Math.exp(-4)))) / 2, 6);
    expect(got.dlogp[2]).toBeCloseTo(-got.dlogp[0], 7);
    expect(Math.abs(got.dlogp[1])).toBeGreaterThan(50 * Math.abs(got.dlogp[0]));
  });

  it('refuses bad options and too-small or aliased tensors with a sentence', async () => {
    const gpu = await testGpu();
    const t6 = gpu.tensor([6]);
    const t3 = gpu.tensor([3]);
    const a = gpu.tensor([6]);
    const b = gpu.tensor([6]);
    const c = gpu.tensor([6]);
    const inp = { policy: t6, reference: a, lengths: b };
    const out = { losses: t3, rewards: c, dlogp: gpu.tensor([6]) };
    const base = { N: 3, beta: 0.1, kind: 'sigmoid' as DpoLossKind, labelSmoothing: 0 };
    expect(() => dpoLoss(gpu, inp, out, { ...base, kind: 'robust', labelSmoothing: 0.5 })).toThrow(/robust loss needs label smoothing in \[0, 0.5\)/);
    expect(() => dpoLoss(gpu, inp, out, { ...base, kind: 'kto' as DpoLossKind })).toThrow(/unknown loss kind "kto"/);
    expect(() => dpoLoss(gpu, inp, out, { ...base, beta: 0 })).toThrow(/beta must be a positive/);
    expect(() => dpoLoss(gpu, inp, out, { ...base, N: 4 })).toThrow(/policy holds 6 elements but 8/);
    expect(() => dpoLoss(gpu, { policy: t6, lengths: b }, out, base)).toThrow(/reference log-probs are required/);
    expect(() => dpoLoss(gpu, inp, { ...out, rewards: t6 }, base)).toThrow(/must not share its buffer/);
    const tensors: Tensor[] = [t6, t3, a, b, c, out.dlogp];
    gpu.release(...tensors);
  });
});
