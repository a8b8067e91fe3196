// The page's method selector: DPO, CPO / SimPO, ORPO, KTO with TRL's option names; choosing one sets the
// run's args as the CLI would (and they validate), and DPO's loss selector shows only for DPO.
import { renderToString } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { HyperParams } from '../src/ui/components/HyperParams';
import { Charts } from '../src/ui/components/Charts';
import { TRAINER_INFO } from '../src/ui/params';
import { setArg } from '../src/ui/store/args';
import { storeApi, useStore } from '../src/ui/store';
import { defaultTrainerArgs, validateArgs } from '../src/dpo/trainer';
import { estimateMemory } from '../src/worker/memory';
import { parseConfig } from '../src/model/config';

const initial = useStore.getState();
storeApi.getInitialState = storeApi.getState;
beforeEach(() => useStore.setState(initial, true));
const decode = (h: string) => h.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/<!-- -->/g, '');

describe('method selector', () => {
  it('one line per trainer with its paper; DPO shows its loss selector, the others do not', () => {
    let html = decode(renderToString(<HyperParams />));
    for (const k of ['dpo', 'cpo', 'orpo', 'kto'] as const) {
      expect(html, k).toContain(`data-testid="trainer-${k}"`);
      expect(html, k).toContain(TRAINER_INFO[k].what);
      expect(html, k).toContain(TRAINER_INFO[k].paper);
    }
    expect(html).toContain('data-testid="loss-selector"');
    for (const n of ['cpo_alpha', 'simpo_gamma', 'desirable_weight', 'undesirable_weight']) expect(html, n).toContain(`<label for="arg-${n}"><code>${n}</code></label>`);
    setArg('trainer', 'orpo');
    html = decode(renderToString(<HyperParams />));
    expect(html).not.toContain('data-testid="loss-selector"');
    expect(html).toContain('No reference model is held');
  });

  it("SimPO as the issue's CLI line writes it: trainer cpo, loss_type simpo, simpo_gamma 0.5, cpo_alpha 0; it validates and holds no reference", () => {
    setArg('trainer', 'cpo');
    setArg('loss_type', 'simpo');
    setArg('simpo_gamma', '0.5');
    setArg('cpo_alpha', '0');
    const s = useStore.getState();
    expect(s.argErrors).toEqual({});
    expect(s.args).toMatchObject({ trainer: 'cpo', loss_type: 'simpo', simpo_gamma: 0.5, cpo_alpha: 0 });
    expect(() => validateArgs(s.args)).not.toThrow();
    const html = decode(renderToString(<HyperParams />));
    expect(html).toContain('<select id="arg-cpo-loss"');
    const cfg = parseConfig({ model_type: 'gpt2', vocab_size: 64, n_embd: 16, n_layer: 1, n_head: 2, n_positions: 64 });
    const limits = { maxBindingBytes: 2 ** 30, maxBufferBytes: 2 ** 30 };
    expect(estimateMemory(cfg, s.args, 64, limits).weightsBytes * 2).toBe(estimateMemory(cfg, defaultTrainerArgs, 64, limits).weightsBytes);
    setArg('trainer', 'kto');
    setArg('loss_type', 'sigmoid'); // what the selector does when leaving CPO (KTO has no simpo)
    setArg('desirable_weight', '1.5');
    expect(useStore.getState().args).toMatchObject({ trainer: 'kto', desirable_weight: 1.5 });
    expect(() => validateArgs(useStore.getState().args)).not.toThrow();
    setArg('trainer', 'sppo');
    expect(useStore.getState().argErrors.trainer).toMatch(/trainer must be one of dpo, cpo, orpo, kto/);
  });

  it("each trainer's own metrics are charted once the run logs them (TRL's names)", () => {
    const dpo = [{ step: 1, epoch: 0, loss: 0.69, 'rewards/margins': 0 }];
    useStore.setState({ history: dpo });
    let html = decode(renderToString(<Charts />));
    for (const id of ['ktokl', 'nll', 'odds']) expect(html, id).not.toContain(`data-testid="chart-${id}"`);
    const orpo = [1, 2].map((step) => ({ step, epoch: 0, loss: 6.5, nll_loss: 6.4 - step / 10, log_odds_ratio: -0.79, log_odds_chosen: -0.17 + step / 100 }));
    useStore.setState({ history: orpo });
    html = decode(renderToString(<Charts />));
    expect(html).toContain('data-testid="chart-odds"');
    expect(html).toContain('data-testid="chart-nll"');
    expect(html).not.toContain('data-testid="chart-ktokl"');
    expect(html).toMatch(/log_odds_chosen -0\.15\d* at step 2/);
    useStore.setState({ history: [{ step: 1, epoch: 0, loss: 0.5, kl: 0.24 }] });
    expect(decode(renderToString(<Charts />))).toMatch(/data-testid="chart-ktokl"[\s\S]*kl 0\.24/);
  });
});
