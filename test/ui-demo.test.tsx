// The built-in demo's panels: the "what is DPO doing" curves (loss and gradient weight vs margin,
// checked against finite differences of the engine's reference loss), the store's manifest handling,
// frontier bookkeeping and beta-sweep parsing, and the panels rendered to HTML with their text
// alternatives.
import { renderToString } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { DPO_LOSS_KINDS, type DpoLossKind } from '../src/gpu/reference/dpo_loss';
import { curvePoints, curveRange, dotSummary, gradWeight, niceTicks, pairDots, pairLoss, CurveError } from '../src/ui/demo/curves';
import { DemoSamples } from '../src/ui/demo/DemoSamples';
import { BETA_STOPS, DpoCurves, nearestStop } from '../src/ui/demo/DpoCurves';
import { FrontierChart, frontierAlt } from '../src/ui/demo/FrontierChart';
import { Samples } from '../src/ui/components/Samples';
import { addFrontierPoint, demoSelected, frontierSpec, manifestArgs, manifestFrontier, parseBetas, storeApi, useStore, type DemoManifest } from '../src/ui/store';
import type { FrontierMeasurement } from '../src/worker/protocol';
import type { PairRecord } from '../src/dpo/trainer';

const initial = useStore.getState();
storeApi.getInitialState = storeApi.getState;
beforeEach(() => useStore.setState(initial, true));
const decode = (html: string) => html.replace(/<!-- -->/g, '').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
const sig = (x: number) => 1 / (1 + Math.exp(-x));

describe('loss and gradient-weight curves', () => {
  it('sigmoid DPO: loss log 2 at h = 0 and weight sigma(-beta h)', () => {
    for (const beta of [0.05, 0.1, 0.5, 2]) {
      expect(pairLoss('sigmoid', beta, 0, 0)).toBeCloseTo(Math.LN2, 12);
      for (const h of [-30, -3.7, 0, 1.3, 25]) {
        expect(gradWeight('sigmoid', beta, 0, h)).toBeCloseTo(sig(-beta * h), 12);
        expect(pairLoss('sigmoid', beta, 0, h)).toBeCloseTo(-Math.log(sig(beta * h)), 10);
      }
    }
  });

  it('every loss type: weight = -(1/beta) dLoss/dh (central differences)', () => {
    const d = 1e-5;
    for (const kind of DPO_LOSS_KINDS) {
      for (const [beta, eps] of [[0.1, 0.1], [0.7, 0.25]]) {
        for (const h of [-13.1, -2.3, 0.37, 4.1, 17]) {
          if (kind === 'hinge' && Math.abs(beta * h - 1) < 0.01) continue; // the kink
          const fd = -(pairLoss(kind, beta, eps, h + d) - pairLoss(kind, beta, eps, h - d)) / (2 * d) / beta;
          expect(gradWeight(kind, beta, eps, h), `${kind} beta ${beta} h ${h}`).toBeCloseTo(fd, 5);
        }
      }
    }
    // hinge: weight 1 below the margin 1/beta, 0 above; ipo pushes back past h = 1/(2 beta)
    expect(gradWeight('hinge', 0.5, 0, 1.9)).toBe(1);
    expect(gradWeight('hinge', 0.5, 0, 2.1)).toBe(0);
    expect(gradWeight('ipo', 0.5, 0, 0.5)).toBeCloseTo(2, 12);
    expect(gradWeight('ipo', 0.5, 0, 3)).toBeLessThan(0);
  });

  it('larger beta makes the weight fall off faster for right-ordered pairs', () => {
    expect(gradWeight('sigmoid', 1, 0, 3)).toBeLessThan(gradWeight('sigmoid', 0.1, 0, 3));
    expect(gradWeight('sigmoid', 1, 0, -3)).toBeGreaterThan(gradWeight('sigmoid', 0.1, 0, -3));
  });

  it('samples the curves evenly over a range that holds every dot, and refuses a bad beta', () => {
    const [lo, hi] = curveRange(0.5, [-40, 3]);
    expect(lo).toBeLessThanOrEqual(-40);
    expect(hi).toBeGreaterThanOrEqual(12);
    const c = curvePoints('sigmoid', 0.5, 0, lo, hi, 37);
    expect(c).toHaveLength(37);
    expect(c[0].h).toBe(lo);
    expect(c[36].h).toBeCloseTo(hi, 12);
    for (let i = 1; i < c.length; i++) {
      expect(c[i].loss).toBeLessThan(c[i - 1].loss); // decreasing in h
      expect(c[i].weight).toBeLessThan(c[i - 1].weight);
    }
    expect(() => curvePoints('sigmoid', 0, 0, -1, 1)).toThrow(CurveError);
    expect(niceTicks(-66, 66)).toEqual([-60, -40, -20, 0, 20, 40, 60]);
    expect(niceTicks(-6.3, 13)).toEqual([-5, 0, 5, 10]);
    expect(niceTicks(0.013, 0.05, 4)).toEqual([0.02, 0.03, 0.04, 0.05]);
    expect(() => curvePoints('sigmoid', 0.1, 0, 1, 1)).toThrow(/range is empty/);
  });

  it('places eval pairs at h = margin / run beta; with the run beta the weight is the trainer\'s', () => {
    const runBeta = 0.3;
    const pairs: PairRecord[] = [-0.9, -0.05, 0.2, 1.7].map((m, i) => ({ index: i, policyChosen: 0, policyRejected: 0, referenceChosen: 0, referenceRejected: 0, rewardChosen: m, rewardRejected: 0, margin: m, weight: 1 / (1 + Math.exp(m)) }));
    const dots = pairDots(pairs, runBeta, 'sigmoid', runBeta, 0);
    dots.forEach((d, i) => {
      expect(d.h).toBeCloseTo(pairs[i].margin / runBeta, 12);
      expect(d.weight).toBeCloseTo(pairs[i].weight, 12);
      expect(d.loss).toBeCloseTo(Math.log1p(Math.exp(-pairs[i].margin)), 12);
    });
    expect(dots.map((d) => d.right)).toEqual([false, false, true, true]);
    const s = dotSummary(dots);
    expect(s).toMatchObject({ n: 4, right: 2 });
    expect(s.meanWeight).toBeCloseTo(pairs.reduce((a, p) => a + p.weight, 0) / 4, 12);
    // "what if beta were 3": same h, weight under the other beta
    const what = pairDots(pairs, runBeta, 'sigmoid', 3, 0);
    expect(what[3].weight).toBeCloseTo(sig((-3 * 1.7) / runBeta), 12);
    expect(pairDots(pairs, 0, 'sigmoid', 0.1, 0)).toEqual([]);
  });
});

const manifest: DemoManifest = {
  model: 'http://x/demo/model',
  train: 'http://x/demo/pairs-train.jsonl',
  recommended: { beta: 0.1, learning_rate: 2e-3, max_steps: 40, frontier: { prompts: 16, every_steps: 5, max_new_tokens: 40, temperature: 1, seed: 7 } } as DemoManifest['recommended'],
};

function point(step: number, reward: number, kl: number): FrontierMeasurement {
  return { step, reward, rewardStderr: 0.01, referenceReward: 0.05, kl, klSampled: kl, n: 16, ms: 900, samples: [{ prompt: 'the film was', policy: 'great and wonderful .', reference: 'boring and awful .', policyReward: 0.8, referenceReward: -0.7 }] };
}

describe('demo state in the store', () => {
  it('reads the build script\'s recommended args (without the probe settings) and the frontier settings', () => {
    expect(manifestArgs(manifest)).toEqual({ beta: 0.1, learning_rate: 2e-3, max_steps: 40 });
    expect(manifestArgs({ ...manifest, args: { beta: 0.3 } })).toEqual({ beta: 0.3 });
    expect(manifestFrontier(manifest)).toEqual({ prompts: 16, everySteps: 5, maxNewTokens: 40, temperature: 1, seed: 7, samplesPerPrompt: 1 });
    expect(manifestFrontier({ ...manifest, recommended: { frontier: { every_steps: 0 } } })).toEqual({ prompts: 16, everySteps: 10, maxNewTokens: 48, temperature: 1, seed: 7, samplesPerPrompt: 1 });
    expect(manifestFrontier({ model: 'm', train: 't' })).toBeUndefined();
  });

  it('the demo is selected only when the loaded model is the manifest\'s, and then runs carry the probe settings', () => {
    const m = { ...manifest, frontier: manifestFrontier(manifest) };
    const prompts = Array.from({ length: 20 }, (_, i) => `prompt ${i} was`);
    useStore.setState({ manifest: m, heldoutPrompts: prompts, model: { status: 'ready', spec: { kind: 'url', baseUrl: 'http://x/demo/model/', label: 'demo' } } });
    expect(demoSelected(useStore.getState())).toBe(true);
    const spec = frontierSpec(useStore.getState())!;
    expect(spec.prompts).toEqual(prompts.slice(0, 16));
    expect(spec).toMatchObject({ everySteps: 5, maxNewTokens: 40, temperature: 1, seed: 7, samplesPerPrompt: 1 });
    useStore.setState({ model: { status: 'ready', spec: { kind: 'hub', hubUrl: 'https://huggingface.co', repo: 'gpt2' } } });
    expect(demoSelected(useStore.getState())).toBe(false);
    expect(frontierSpec(useStore.getState())).toBeUndefined();
  });

  it('adds measurements to the current run\'s curve, one curve per run', () => {
    useStore.setState({ run: { ...initial.run, id: 'a' }, args: { ...initial.args, beta: 0.1 } });
    let runs = addFrontierPoint(useStore.getState(), point(0, 0.05, 0));
    useStore.setState({ frontierRuns: runs });
    runs = addFrontierPoint(useStore.getState(), point(10, 0.3, 2));
    expect(runs).toHaveLength(1);
    expect(runs[0].points.map((p) => p.step)).toEqual([0, 10]);
    expect(runs[0].label).toBe('#1 beta 0.1 sigmoid');
    useStore.setState({ frontierRuns: runs, run: { ...initial.run, id: 'b' }, args: { ...initial.args, beta: 1 } });
    runs = addFrontierPoint(useStore.getState(), point(0, 0.05, 0));
    expect(runs.map((r) => [r.label, r.points.length])).toEqual([['#1 beta 0.1 sigmoid', 2], ['#2 beta 1 sigmoid', 1]]);
  });

  it('parses the sweep\'s betas or says what is wrong', () => {
    expect(parseBetas('0.05, 0.1, 0.3, 1')).toEqual([0.05, 0.1, 0.3, 1]);
    expect(parseBetas(' 0.2 0.4;1e-1 ')).toEqual([0.2, 0.4, 0.1]);
    expect(parseBetas('')).toMatch(/at least one beta/);
    expect(parseBetas('0.1, -1')).toBe('Each beta must be a positive number; "-1" is not.');
    expect(parseBetas('0.1, abc')).toMatch(/"abc" is not/);
    expect(parseBetas('1 2 3 4 5 6 7 8 9')).toMatch(/at most 8/);
  });
});

describe('demo panels', () => {
  it('the frontier chart has a text alternative with the reference and each run\'s latest point', () => {
    expect(frontierAlt([])).toMatch(/No measurement yet/);
    useStore.setState({
      frontierRuns: [
        { id: 'a', label: '#1 beta 0.1 sigmoid', beta: 0.1, lossType: 'sigmoid', points: [point(0, 0.05, 0), point(10, 0.31, 2.5)] },
        { id: 'b', label: '#2 beta 1 sigmoid', beta: 1, lossType: 'sigmoid', points: [point(0, 0.05, 0), point(10, 0.12, 0.4)] },
      ],
    });
    const html = decode(renderToString(<FrontierChart />));
    const alt = /data-testid="frontier-alt" data-points="(\d+)" data-runs="(\d+)">([^<]*)</.exec(html)!;
    expect(alt[1]).toBe('4');
    expect(alt[2]).toBe('2');
    expect(alt[3]).toBe('Reference r* 0.0500 at KL 0. #1 beta 0.1 sigmoid: step 10, r* 0.3100, KL 2.5000 nats (2 points); #2 beta 1 sigmoid: step 10, r* 0.1200, KL 0.4000 nats (2 points).');
    expect(html).toContain('Betas to sweep');
    expect(html).toContain('Steps per run');
    expect(html).toMatch(/<button type="submit"[^>]*>Beta sweep<\/button>/);
  });

  it('the curves panel says where the pairs sit, and its slider follows the run while training', () => {
    const pairs: PairRecord[] = [0.4, -0.2, 0.9].map((m, i) => ({ index: i, policyChosen: 0, policyRejected: 0, referenceChosen: 0, referenceRejected: 0, rewardChosen: m, rewardRejected: 0, margin: m, weight: 1 / (1 + Math.exp(m)) }));
    useStore.setState({ args: { ...initial.args, beta: 0.2 }, pairs, pairsBeta: 0.2, evalHistory: [{ step: 10, epoch: 0 }], run: { ...initial.run, phase: 'training' } });
    let html = decode(renderToString(<DpoCurves />));
    const alt = /data-testid="curves-alt" data-points="(\d+)">([^<]*)</.exec(html)!;
    expect(alt[1]).toBe('3');
    const meanW = pairs.reduce((a, p) => a + p.weight, 0) / 3;
    expect(alt[2]).toContain('3 eval pairs at step 10: 2 ordered right, 1 wrong');
    expect(alt[2]).toContain(`mean gradient weight ${meanW.toPrecision(4)}`);
    expect(html).toMatch(/<input type="range"[^>]*disabled=""/);
    expect(html).toContain('this run’s beta');
    useStore.setState({ run: { ...initial.run, phase: 'idle' }, pairs: [] });
    html = decode(renderToString(<DpoCurves />));
    expect(html).not.toMatch(/<input type="range"[^>]*disabled/);
    expect(html).toContain('No evaluated pairs yet');
    // the slider's stops: a typed beta sits at the nearest one (log scale)
    expect(BETA_STOPS[nearestStop(0.1)]).toBe(0.1);
    expect(BETA_STOPS[nearestStop(0.12)]).toBe(0.1);
    expect(BETA_STOPS[nearestStop(0.13)]).toBe(0.15);
    expect(BETA_STOPS[nearestStop(50)]).toBe(3);
    expect(BETA_STOPS[nearestStop(1e-4)]).toBe(0.01);
  });

  it('samples show words tinted by sentiment and each completion\'s r*', () => {
    useStore.setState({ run: { ...initial.run, id: 'a' }, frontierRuns: [{ id: 'a', label: '#1 beta 0.1 sigmoid', beta: 0.1, lossType: 'sigmoid', points: [point(10, 0.31, 2.5)] }] });
    const html = decode(renderToString(<DemoSamples />));
    expect(html).toContain('data-testid="demo-samples" data-step="10"');
    expect(html).toMatch(/class="sent pos"[^>]*title="sentiment \+[\d.]+">great</);
    expect(html).toMatch(/class="sent neg"[^>]*title="sentiment -[\d.]+">boring</);
    expect(html).toContain('r* +0.8000');
    expect(html).toContain('r* -0.7000');
    // the free-prompt samples get the same treatment when the demo is selected
    const m = { ...manifest, frontier: manifestFrontier(manifest) };
    useStore.setState({ manifest: m, model: { status: 'ready', spec: { kind: 'url', baseUrl: 'http://x/demo/model/', label: 'demo' } }, samples: [{ prompt: 'p', reference: 'it was awful', policy: 'it was great' }] });
    const s = decode(renderToString(<Samples />));
    expect(s).toMatch(/Policy <span class="reward-badge pos">r\* \+/);
    expect(s).toMatch(/class="sent neg"[^>]*>awful</);
  });
});
