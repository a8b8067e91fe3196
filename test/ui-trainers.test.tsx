// The page's method selector: DPO, CPO / SimPO, ORPO, KTO with TRL's option names and defaults; choosing one
// sets the run's args as the CLI would (and they validate), the memory line says what the weights hold, each
// trainer's metrics are charted under TRL's names, the frontier says which run moves r* most per nat of KL, and
// the charts take the history at most every CHART_THROTTLE_MS.
import { renderToString } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { HyperParams } from '../src/ui/components/HyperParams';
import { Charts, CHART_THROTTLE_MS, explainKey, subscribeThrottled } from '../src/ui/components/Charts';
import { TRAINER_FIELDS, TRAINER_OPTIONS, memoryKey, trainerSwitch } from '../src/ui/components/TrainerSelector';
import { bestPerNat, gainPerNat } from '../src/ui/demo/FrontierChart';
import { DpoCurves } from '../src/ui/demo/DpoCurves';
import { methodName } from '../src/ui/store/method-name';
import { frontierLabel } from '../src/ui/store/run-control';
import { sweepRunArgs } from '../src/ui/store/sweep';
import { TRAINER_INFO } from '../src/ui/params';
import { setArg } from '../src/ui/store/args';
import { storeApi, useStore, type FrontierRun } from '../src/ui/store';
import { defaultTrainerArgs, validateArgs, type LogRecord, type TrainerArgs } from '../src/dpo/trainer';
import { TRAINER_KINDS } from '../src/dpo/preference-trainer';
import { estimateMemory } from '../src/worker/memory';
import { parseConfig } from '../src/model/config';
import { en } from '../src/ui/i18n/en';
import { ko } from '../src/ui/i18n/ko';

const initial = useStore.getState();
storeApi.getInitialState = storeApi.getState;
beforeEach(() => useStore.setState(initial, true));
const decode = (h: string) => h.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/<!-- -->/g, '');
const ids = (html: string) => [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
const optionsBox = (html: string) => /data-testid="trainer-options"[\s\S]*?<\/div><\/div>(?=<(?:p|\/fieldset))/.exec(html)?.[0] ?? '';
const choose = (k: (typeof TRAINER_KINDS)[number]) => {
  const changes = trainerSwitch(k, useStore.getState().args);
  setArg('trainer', k);
  for (const [n, v] of changes) setArg(n, v);
};

describe('method selector', () => {
  it("shows each trainer's own TRL options with TRL's defaults, once each in the page", () => {
    // TRL 1.13's config defaults (CPOConfig, ORPOConfig, KTOConfig): beta 0.1, label_smoothing 0, cpo_alpha 1, simpo_gamma 0.5, weights 1
    const trl: Partial<Record<keyof TrainerArgs, string>> = { beta: '0.1', label_smoothing: '0', cpo_alpha: '1', simpo_gamma: '0.5', desirable_weight: '1', undesirable_weight: '1' };
    for (const k of TRAINER_KINDS) {
      choose(k);
      const html = decode(renderToString(<HyperParams />));
      for (const j of TRAINER_KINDS) {
        expect(html, k).toContain(`data-testid="trainer-${j}"`);
        expect(html, k).toContain(TRAINER_INFO[j].paper);
      }
      const box = optionsBox(html);
      const shown = [...box.matchAll(/<label for="arg-([\w-]+)"><code>([\w]+)<\/code>/g)].map((m) => m[2]);
      expect(shown, k).toEqual([...(k === 'cpo' ? ['loss_type'] : []), ...TRAINER_OPTIONS[k]]);
      for (const name of TRAINER_OPTIONS[k]) {
        expect(box, `${k} ${name}`).toMatch(new RegExp(`id="arg-${name}"[^>]*value="${trl[name]!.replace('.', '\\.')}"`));
        expect(box, `${k} ${name}`).toMatch(new RegExp(`id="arg-${name}-hint"[^>]*>[^<]*TRL default ${trl[name]!.replace('.', '\\.')}<`));
      }
      // no id twice (the form leaves the selector's options out), DPO's loss selector only for DPO
      const all = ids(html);
      expect(all.filter((x, i) => all.indexOf(x) !== i), k).toEqual([]);
      expect(html.includes('data-testid="loss-selector"'), k).toBe(k === 'dpo');
    }
    expect([...TRAINER_FIELDS].sort()).toEqual(['beta', 'cpo_alpha', 'desirable_weight', 'label_smoothing', 'simpo_gamma', 'undesirable_weight']);
    choose('orpo');
    expect(decode(renderToString(<HyperParams />))).toContain("ORPOConfig: the paper's lambda");
    // no model yet (no estimate): the selector still says no reference is held; KTO says it keeps dataset order
    expect(decode(renderToString(<HyperParams />))).toContain(en['trainer.refNone']);
    choose('kto');
    expect(decode(renderToString(<HyperParams />))).toContain(en['trainer.ktoOrder']);
    expect(decode(renderToString(<HyperParams />))).not.toContain(en['trainer.refNone']);
    choose('cpo');
    const cpo = decode(renderToString(<HyperParams />));
    expect(cpo).toContain(`${en['trainer.labelSmoothing.cpo']} · TRL default 0`);
    // DPO's loss / weight curves stay drawable and say they are DPO's for SimPO (not a function of h)
    setArg('loss_type', 'simpo');
    const curves = decode(renderToString(<DpoCurves />));
    expect(curves).toContain('data-testid="curves-other-trainer"');
    expect(curves).toContain('SimPO does not score a pair');
    expect(curves).not.toContain('NaN');
    expect([...cpo.matchAll(/<select id="arg-cpo-loss"[\s\S]*?<\/select>/g)][0][0].match(/<option[^>]*>(\w+)</g)!.map((o) => o.replace(/<option[^>]*>/, '').replace('<', ''))).toEqual(['sigmoid', 'hinge', 'ipo', 'simpo']);
  });

  it('switching trainer resets what its TRL config lacks, so the run validates; SimPO as the CLI line writes it', () => {
    // a DPO run with DPO-only options: MPO list, RPO, WPO, precomputed reference, f-divergence, label smoothing
    setArg('loss_type', 'sigmoid,sft');
    setArg('loss_weights', '0.8,1');
    setArg('rpo_alpha', '1');
    setArg('use_weighting', true);
    setArg('precompute_ref_log_probs', true);
    setArg('f_divergence_type', 'js_divergence');
    setArg('label_smoothing', '0.1');
    expect(useStore.getState().argErrors).toEqual({});
    const dpoArgs = useStore.getState().args;
    expect(trainerSwitch('orpo', dpoArgs)).toEqual([
      ['loss_type', 'sigmoid'],
      ['loss_weights', ''],
      ['label_smoothing', '0'],
      ['rpo_alpha', ''],
      ['use_weighting', false],
      ['precompute_ref_log_probs', false],
      ['f_divergence_type', 'reverse_kl'],
    ]);
    for (const k of ['orpo', 'kto', 'cpo'] as const) {
      useStore.setState({ args: dpoArgs, argErrors: {}, argText: {} });
      choose(k);
      const s = useStore.getState();
      expect(s.argErrors, k).toEqual({});
      expect(s.args.trainer, k).toBe(k);
      // CPO keeps label_smoothing (CPOConfig has it); ORPO and KTO have none
      expect(s.args.label_smoothing, k).toBe(k === 'cpo' ? 0.1 : 0);
      expect(() => validateArgs(s.args), k).not.toThrow();
    }
    choose('cpo');
    setArg('loss_type', 'simpo');
    setArg('simpo_gamma', '0.5');
    setArg('cpo_alpha', '0');
    expect(useStore.getState().args).toMatchObject({ trainer: 'cpo', loss_type: 'simpo', simpo_gamma: 0.5, cpo_alpha: 0 });
    expect(() => validateArgs(useStore.getState().args)).not.toThrow();
    // back to DPO: simpo is not one of DPO's loss types
    choose('dpo');
    expect(useStore.getState().args).toMatchObject({ trainer: 'dpo', loss_type: 'sigmoid' });
    setArg('trainer', 'sppo');
    expect(useStore.getState().argErrors.trainer).toMatch(/trainer must be one of dpo, cpo, orpo, kto/);
  });

  it('the memory line: CPO / SimPO / ORPO hold half the weights of DPO (no reference), KTO as DPO', () => {
    const cfg = parseConfig({ model_type: 'gpt2', vocab_size: 443, n_embd: 64, n_layer: 2, n_head: 4, n_positions: 64 });
    const limits = { maxBindingBytes: 2 ** 30, maxBufferBytes: 2 ** 30 };
    const w: Record<string, number> = {};
    for (const m of ['sigmoid', 'simpo', 'cpo', 'orpo', 'kto']) w[m] = estimateMemory(cfg, { ...defaultTrainerArgs, ...sweepRunArgs(m) } as TrainerArgs, 64, limits).weightsBytes;
    console.log(`weights held (demo-sized GPT-2, bytes): ${JSON.stringify(w)}`);
    expect(w.simpo * 2).toBe(w.sigmoid);
    expect(w.cpo).toBe(w.simpo);
    expect(w.orpo).toBe(w.simpo);
    expect(w.kto).toBe(w.sigmoid);
    const est = (a: TrainerArgs) => ({ ...estimateMemory(cfg, a, 64, limits), refusal: null });
    for (const [k, key, says] of [
      ['cpo', 'trainer.memNoRef', 'no reference model is held'],
      ['orpo', 'trainer.memNoRef', 'no reference model is held'],
      ['kto', 'trainer.memRef', 'the policy and a frozen reference copy'],
      ['dpo', 'trainer.memRef', 'the policy and a frozen reference copy'],
    ] as const) {
      choose(k);
      const a = useStore.getState().args;
      expect(memoryKey(a), k).toBe(key);
      useStore.setState({ estimate: est(a) });
      const html = decode(renderToString(<HyperParams />));
      expect(html, k).toMatch(new RegExp(`data-testid="trainer-memory" data-weights-bytes="${w[k === 'dpo' ? 'sigmoid' : k]}">[^<]*${says}`));
    }
    setArg('precompute_ref_log_probs', true);
    expect(memoryKey(useStore.getState().args)).toBe('trainer.memPrecomputed');
    for (const k of ['trainer.memNoRef', 'trainer.memRef', 'trainer.memLora', 'trainer.memPrecomputed']) expect(k in en && k in ko, k).toBe(true);
  });
});

describe("each trainer's metrics in the charts", () => {
  const rec = (step: number, m: Record<string, number>): LogRecord => ({ step, epoch: 0, ...m }) as LogRecord;
  const chartIds = (html: string) => [...html.matchAll(/<figure class="chart" id="chart-([\w]+)"/g)].map((m) => m[1]);

  it('draws what the run logs under TRL\'s names, and says what each chart means for the trainer', () => {
    let html = decode(renderToString(<Charts />));
    expect(chartIds(html)).toEqual(['loss', 'rewards', 'margins', 'accuracies', 'logps', 'kl', 'optim']); // before a run
    const dpo = [1, 2].map((s) => rec(s, { loss: 0.69, 'rewards/chosen': 0.01, 'rewards/rejected': 0, 'rewards/margins': 0.01, 'rewards/accuracies': 0.5, 'logps/chosen': -40, 'logps/rejected': -41, 'kl/token_mean_exact': 0.001 * s, grad_norm: 1, learning_rate: 1e-3 }));
    useStore.setState({ history: dpo });
    html = decode(renderToString(<Charts />));
    expect(chartIds(html)).toEqual(['loss', 'rewards', 'margins', 'accuracies', 'logps', 'kl', 'optim']);
    expect(html).toContain('kl/token_mean_exact 0.0020 at step 2');
    // SimPO (CPO): no reference, so no KL chart; nll_loss charted; the rewards say they are the policy's own
    choose('cpo');
    setArg('loss_type', 'simpo');
    const cpo = [1, 2, 3].map((s) => rec(s, { loss: 1.2 - s / 10, 'rewards/chosen': -0.2, 'rewards/rejected': -0.25 - s / 100, 'rewards/margins': 0.05, 'rewards/accuracies': 0.75, 'logps/chosen': -2, 'logps/rejected': -2.5, nll_loss: 2.1, grad_norm: 1, learning_rate: 1e-3 }));
    useStore.setState({ history: cpo });
    html = decode(renderToString(<Charts />));
    expect(chartIds(html)).toEqual(['loss', 'rewards', 'margins', 'accuracies', 'logps', 'optim', 'nll']);
    expect(html).toContain('nll_loss 2.1000 at step 3');
    expect(html).toContain('rewards/rejected -0.2800 at step 3');
    expect(html).toContain(en['chart.rewards.explain.cpo']);
    expect(html).toContain(en['chart.loss.explain.cpo']);
    // ORPO: the odds ratio and the NLL
    choose('orpo');
    const orpo = [1, 2].map((s) => rec(s, { loss: 6.5, 'rewards/chosen': -0.3, 'rewards/rejected': -0.31, 'rewards/margins': 0.01, 'rewards/accuracies': 0.5, 'logps/chosen': -3, 'logps/rejected': -3.1, nll_loss: 6.4 - s / 10, log_odds_ratio: -0.79, log_odds_chosen: -0.17 + s / 100, grad_norm: 1, learning_rate: 1e-3 }));
    useStore.setState({ history: orpo });
    html = decode(renderToString(<Charts />));
    expect(chartIds(html)).toEqual(['loss', 'rewards', 'margins', 'accuracies', 'logps', 'optim', 'nll', 'odds']);
    expect(html).toMatch(/log_odds_chosen -0\.15\d* at step 2; log_odds_ratio -0\.79\d* at step 2/);
    expect(html).toContain(en['chart.loss.explain.orpo']);
    // KTO: kl, per-class rewards / logps, no accuracies (TRL's KTO logs none)
    choose('kto');
    const kto = [1, 2].map((s) => rec(s, { loss: 0.5, kl: 0.24 * s, 'rewards/chosen': 0.02, 'rewards/rejected': -0.01, 'rewards/margins': 0.03, 'logps/chosen': -40, 'logps/rejected': -42, grad_norm: 1, learning_rate: 1e-3 }));
    useStore.setState({ history: kto });
    html = decode(renderToString(<Charts />));
    expect(chartIds(html)).toEqual(['loss', 'rewards', 'margins', 'logps', 'optim', 'ktokl']);
    expect(html).toMatch(/data-testid="chart-ktokl-alt" data-points="2">Latest: kl 0\.48/);
    expect(html).toContain(en['chart.rewards.explain.kto']);
    // every sentence the charts can say exists in both languages
    for (const id of ['loss', 'rewards', 'margins', 'accuracies', 'logps', 'kl', 'optim'])
      for (const k of TRAINER_KINDS) expect(explainKey(id, k) in en && explainKey(id, k) in ko, `${id} ${k}`).toBe(true);
  });

  it(`takes the history at most every ${CHART_THROTTLE_MS} ms while batches arrive, and always the last one`, async () => {
    const got: number[] = [];
    const off = subscribeThrottled(CHART_THROTTLE_MS, (h) => got.push(h.history.length));
    const t0 = performance.now();
    // 60 batches 20 ms apart (~1.2 s): unthrottled that is 60 renders of every chart
    for (let i = 1; i <= 60; i++) {
      useStore.setState((s) => ({ history: [...s.history, rec(i, { loss: 1 / i })] }));
      await new Promise((r) => setTimeout(r, 20));
    }
    const sent = performance.now() - t0;
    await new Promise((r) => setTimeout(r, CHART_THROTTLE_MS + 50));
    off();
    console.log(`60 metric batches over ${sent.toFixed(0)} ms reached the charts ${got.length} times: ${got.join(', ')}`);
    expect(got.at(-1)).toBe(60);
    expect(got.length).toBeLessThanOrEqual(Math.ceil(sent / CHART_THROTTLE_MS) + 1);
    expect(got.length).toBeGreaterThanOrEqual(2);
    // no update is dropped for ever: the lengths only grow
    expect(got.every((n, i) => i === 0 || n > got[i - 1])).toBe(true);
  });
});

describe('the frontier across methods', () => {
  const pt = (step: number, reward: number, kl: number) => ({ step, reward, rewardStderr: 0.01, referenceReward: 0.01, kl, samples: [] }) as unknown as FrontierRun['points'][number];
  it('labels each run by its method and names the one that moves r* most per nat of KL', () => {
    const labels = ['sigmoid', 'simpo', 'orpo', 'kto', 'cpo'].map((m, i) => frontierLabel({ ...defaultTrainerArgs, ...sweepRunArgs(m) } as TrainerArgs, i));
    expect(labels).toEqual(['#1 beta 0.1 sigmoid', '#2 beta 0.1 SimPO', '#3 beta 0.1 ORPO', '#4 beta 0.1 KTO', '#5 beta 0.1 CPO sigmoid']);
    expect(methodName({ loss_type: 'ipo' })).toBe('ipo'); // runs saved before the trainer choice are DPO
    const runs: FrontierRun[] = [
      { id: 'a', label: labels[0], beta: 0.1, lossType: 'sigmoid', points: [pt(0, 0.01, 0), pt(4, 0.05, 0.2)] }, // 0.2 per nat
      { id: 'b', label: labels[1], beta: 0.1, lossType: 'simpo', points: [pt(0, 0.01, 0), pt(4, 0.04, 0.1)] }, // 0.3 per nat
      { id: 'c', label: labels[2], beta: 0.1, lossType: 'sigmoid', points: [pt(0, 0.01, 0), pt(4, 0.2, 2)] }, // 0.095 per nat
      { id: 'd', label: labels[3], beta: 0.1, lossType: 'sigmoid', points: [pt(0, 0.01, 0)] }, // not moved yet
    ];
    expect(gainPerNat(runs[0].points[1])).toBeCloseTo(0.2, 12);
    expect(gainPerNat(runs[3].points[0])).toBeNaN();
    const best = bestPerNat(runs)!;
    expect(best.run.label).toBe('#2 beta 0.1 SimPO');
    expect(best.perNat).toBeCloseTo(0.3, 12);
    expect(bestPerNat([runs[3]])).toBeNull();
  });
});
