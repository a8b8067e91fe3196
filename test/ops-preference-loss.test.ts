// The fused CPO / SimPO / ORPO / KTO loss kernel against its float64 reference, and the reference's gradients
// against central differences of TRL's loss (the batch mean, NLL term included).
import { describe, expect, it } from 'vitest';
import { preferenceLoss } from '../src/dpo/preference-loss';
import { PREFERENCE_KINDS, preferenceLossReference, log1mexp, type PreferenceLossInputs, type PreferenceLossOptions } from '../src/gpu/reference/preference_loss';
import { rng, testGpu } from './helpers/gpu';

function inputs(N: number, seed: number) {
  const r = rng(seed);
  const lengths = Array.from({ length: 2 * N }, (_, i) => (i === 2 ? 0 : 1 + Math.floor(12 * r()))); // one empty completion
  // per-token log-probs in [-9, -0.05] so ORPO's log(1 - p) is defined, sums = mean * length
  const policy = lengths.map((l) => -(0.05 + 9 * r()) * Math.max(l, 1));
  const reference = policy.map((p) => p + 6 * (r() - 0.5));
  const nll = Array.from({ length: N }, (_, i) => policy[i] - 10 * r());
  const labels = Array.from({ length: N }, (_, i) => (i % 3 === 0 ? 0 : 1));
  return { policy, reference, lengths, nll, labels };
}

const optionsFor = (kind: (typeof PREFERENCE_KINDS)[number], N: number): PreferenceLossOptions => ({
  N,
  kind,
  beta: kind === 'cpo_ipo' ? 0.5 : kind === 'cpo_simpo' ? 2 : 0.2,
  labelSmoothing: kind === 'cpo_sigmoid' || kind === 'cpo_simpo' ? 0.1 : 0,
  cpoAlpha: 0.7,
  simpoGamma: 0.5,
  desirableWeight: 1.3,
  undesirableWeight: 0.6,
  nllTokens: 57,
  gradScale: 0.5,
});

describe('fused CPO / SimPO / ORPO / KTO loss', () => {
  it('reference gradients match central differences of the mean loss, for every kind', () => {
    const N = 6;
    const base = inputs(N, 3);
    for (const kind of PREFERENCE_KINDS) {
      const o = optionsFor(kind, N);
      const mean = (x: PreferenceLossInputs) => preferenceLossReference(x, o).losses.reduce((a, b) => a + b, 0) / N;
      const got = preferenceLossReference(base, o);
      const h = 1e-5;
      // KTO's KL completions only move the detached KL point: checked below, not by differences
      for (let i = 0; i < (kind === 'kto' ? N : 2 * N); i++) {
        const pp = base.policy.slice();
        const pm = base.policy.slice();
        pp[i] += h;
        pm[i] -= h;
        const fd = (o.gradScale! * (mean({ ...base, policy: pp }) - mean({ ...base, policy: pm }))) / (2 * h);
        expect(Math.abs(got.dlogp[i] - fd), `${kind} dlogp ${i}: ${got.dlogp[i]} vs ${fd}`).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
      }
      for (let i = 0; i < N; i++) {
        const np = base.nll.slice();
        const nm = base.nll.slice();
        np[i] += h;
        nm[i] -= h;
        const fd = (o.gradScale! * (mean({ ...base, nll: np }) - mean({ ...base, nll: nm }))) / (2 * h);
        expect(Math.abs(got.dnll[i] - fd), `${kind} dnll ${i}`).toBeLessThan(1e-8);
      }
      // KTO: the KL completions get no gradient (the KL point is detached, as TRL's), yet they move the loss
      if (kind === 'kto') {
        for (let i = N; i < 2 * N; i++) expect(got.dlogp[i]).toBe(0);
        const shifted = { ...base, policy: base.policy.map((p, i) => (i >= N ? p + 3 : p)) };
        expect(preferenceLossReference(shifted, o).stats[0]).not.toBeCloseTo(got.stats[0], 3);
      }
    }
  });

  it('reference formulas are TRL 1.13 ones on a hand case', () => {
    // one pair, chosen mean log-prob -1 over 2 tokens, rejected -2 over 4
    const one = { policy: [-2, -8], lengths: [2, 4], nll: [-2], reference: [-1.5, -7], labels: [1] };
    const simpo = preferenceLossReference(one, { N: 1, kind: 'cpo_simpo', beta: 2, simpoGamma: 0.5, cpoAlpha: 0 });
    // -logsigmoid(beta * ((-1 - -2) - gamma / beta)) = -logsigmoid(1.5)
    expect(simpo.losses[0]).toBeCloseTo(Math.log1p(Math.exp(-1.5)), 12);
    expect(simpo.rewards[0]).toBeCloseTo(-2, 12);
    const cpo = preferenceLossReference(one, { N: 1, kind: 'cpo_sigmoid', beta: 0.1, cpoAlpha: 1, nllTokens: 2 });
    expect(cpo.losses[0]).toBeCloseTo(Math.log1p(Math.exp(-0.1 * 6)) + 1, 12); // + nll 2/2
    const orpo = preferenceLossReference(one, { N: 1, kind: 'orpo', beta: 0.1, nllTokens: 4 });
    const lo = -1 - -2 - (log1mexp(-1) - log1mexp(-2));
    expect(orpo.stats[1]).toBeCloseTo(lo, 12);
    expect(orpo.losses[0]).toBeCloseTo(0.5 + 0.1 * Math.log1p(Math.exp(-lo)), 12);
    const kto = preferenceLossReference(one, { N: 1, kind: 'kto', beta: 0.1 });
    // z = max(0, -8 - -7) = 0; desirable: 1 - sigmoid(0.1 * (-2 + 1.5))
    expect(kto.stats[0]).toBe(0);
    expect(kto.losses[0]).toBeCloseTo(1 - 1 / (1 + Math.exp(0.05)), 12);
  });

  it('the kernel matches the float64 reference for every kind (losses, rewards, both gradients, stats)', async () => {
    const gpu = await testGpu();
    const N = 29;
    const x = inputs(N, 8);
    for (const kind of PREFERENCE_KINDS) {
      for (const cpoAlpha of kind.startsWith('cpo') ? [0.7, 0] : [1]) {
        const o = { ...optionsFor(kind, N), cpoAlpha };
        const want = preferenceLossReference(x, o);
        const up = (a: number[]) => gpu.upload(Float32Array.from(a));
        const tin = { policy: up(x.policy), reference: up(x.reference), lengths: up(x.lengths), nll: up(x.nll), labels: up(x.labels) };
        const tout = {
          losses: gpu.upload(new Float32Array(N).fill(NaN)),
          rewards: gpu.upload(new Float32Array(2 * N).fill(NaN)),
          dlogp: gpu.upload(new Float32Array(2 * N).fill(NaN)),
          dnll: gpu.upload(new Float32Array(N).fill(NaN)),
          stats: gpu.upload(new Float32Array(3).fill(NaN)),
        };
        preferenceLoss(gpu, tin, tout, o);
        const [losses, rewards, dlogp, dnll, stats] = await gpu.read(tout.losses, tout.rewards, tout.dlogp, tout.dnll, tout.stats);
        gpu.release(...Object.values(tin), ...Object.values(tout));
        const near = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));
        const gmax = Math.max(...Array.from(want.dlogp, Math.abs));
        expect(gmax, kind).toBeGreaterThan(0);
        for (let i = 0; i < N; i++) expect(near(losses[i], want.losses[i], 3e-5), `${kind} loss ${i}: ${losses[i]} vs ${want.losses[i]}`).toBe(true);
        for (let i = 0; i < 2 * N; i++) {
          expect(near(rewards[i], want.rewards[i], 1e-5), `${kind} reward ${i}`).toBe(true);
          expect(Math.abs(dlogp[i] - want.dlogp[i]), `${kind} dlogp ${i}: ${dlogp[i]} vs ${want.dlogp[i]}`).toBeLessThan(1e-4 * gmax);
        }
        for (let i = 0; i < N; i++) expect(Math.abs(dnll[i] - want.dnll[i])).toBeLessThan(1e-8);
        expect(near(stats[0], want.stats[0], 3e-5), `${kind} stats0 ${stats[0]} vs ${want.stats[0]}`).toBe(true);
        expect(near(stats[1], want.stats[1], 3e-5), `${kind} stats1`).toBe(true);
        expect(near(stats[2], want.stats[2], 3e-5), `${kind} nll`).toBe(true);
      }
    }
  }, 120_000);
});
