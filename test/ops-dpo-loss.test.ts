import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dpoLoss, type DpoLossKind } from '../src/dpo/loss';
import { dpoLossReference, type DpoLossOptions } from '../src/gpu/reference/dpo_loss';
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

async function runLoss(gpu: Gpu, policy: Float32Array, reference: Float32Array | null, lengths: Float32Array, o: DpoLossOptions) {
  const N = o.N;
  const tp = gpu.upload(policy);
  const tr = reference ? gpu.upload(reference) : undefined;
  const tl = gpu.upload(lengths);
  // outputs prefilled with garbage: the kernel must overwrite them
  const out = {
    losses: gpu.upload(new Float32Array(N).fill(NaN)),
    rewards: gpu.upload(new Float32Array(2 * N).fill(NaN)),
    dlogp: gpu.upload(new Float32Array(2 * N).fill(NaN)),
  };
  dpoLoss(gpu, { policy: tp, reference: tr, lengths: tl }, out, o);
  const [losses, rewards, dlogp] = await gpu.read(out.losses, out.rewards, out.dlogp);
  gpu.release(tp, tr, tl, out.losses, out.rewards, out.dlogp);
  return { losses, rewards, dlogp };
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
