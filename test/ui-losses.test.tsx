// The page's loss selector, explainer curves and "starts at" sentence for every TRL 1.13 loss kind.
import { renderToString } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { HyperParams } from '../src/ui/components/HyperParams';
import { Charts } from '../src/ui/components/Charts';
import { PairScatter } from '../src/ui/components/PairScatter';
import { DpoCurves, LossStartExplain, WEIGHT_TEXT } from '../src/ui/demo/DpoCurves';
import { curvePoints, gradWeight, lossSpecOf, lossStartText, pairLoss } from '../src/ui/demo/curves';
import { LOSS_INFO, PARAM_FIELDS, parseField } from '../src/ui/params';
import { setArg } from '../src/ui/store/args';
import { storeApi, useStore } from '../src/ui/store';
import { DPO_LOSS_KINDS, sigmoid } from '../src/gpu/reference/dpo_loss';
import { defaultTrainerArgs, validateArgs } from '../src/dpo/trainer';

const initial = useStore.getState();
// Server rendering reads zustand's initial state; make it read the current one so tests can set it.
storeApi.getInitialState = storeApi.getState;
beforeEach(() => useStore.setState(initial, true));
const decode = (h: string) => h.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/<!-- -->/g, '');

describe('every loss kind on the page', () => {
  it('the selector has one line per kind saying what it does and its paper, and TRL-named list fields', () => {
    const html = decode(renderToString(<HyperParams />));
    for (const k of DPO_LOSS_KINDS) {
      expect(html, k).toContain(`data-testid="loss-kind-${k}"`);
      expect(html, k).toContain(LOSS_INFO[k].what);
      expect(html, k).toContain(LOSS_INFO[k].paper);
      expect(LOSS_INFO[k].url).toMatch(/^https:\/\//);
    }
    expect(html).toContain('<label for="arg-loss_type"><code>loss_type</code></label>');
    expect(html).toContain('<label for="arg-loss_weights"><code>loss_weights</code></label>');
    for (const n of ['f_divergence_type', 'use_weighting', 'ld_alpha', 'discopop_tau', 'sync_ref_model', 'ref_model_mixup_alpha', 'ref_model_sync_steps', 'precompute_ref_batch_size']) {
      expect(html, n).toContain(`<label for="arg-${n}"><code>${n}</code></label>`);
    }
  });

  it('several kinds with weights: the MPO combination goes into args as TRL writes it, and validates', () => {
    setArg('loss_type', 'sigmoid,bco_pair,sft');
    setArg('loss_weights', '0.8, 0.2, 1.0');
    const a = useStore.getState().args;
    expect(a.loss_type).toBe('sigmoid,bco_pair,sft');
    expect(a.loss_weights).toEqual([0.8, 0.2, 1.0]);
    expect(() => validateArgs(a)).not.toThrow();
    const html = decode(renderToString(<HyperParams />));
    expect(html).toContain('aria-label="weight of bco_pair" value="0.2"');
    setArg('loss_type', 'sigmoid,kto');
    expect(useStore.getState().argErrors.loss_type).toMatch(/kto is not a loss type/);
    setArg('loss_weights', '1, x');
    expect(useStore.getState().argErrors.loss_weights).toMatch(/comma-separated numbers/);
    // a run saved before these options existed still validates (TRL's defaults fill them in)
    const old: Record<string, unknown> = { ...defaultTrainerArgs };
    for (const k of ['loss_weights', 'f_divergence_type', 'f_alpha_divergence_coef', 'use_weighting', 'ld_alpha', 'discopop_tau', 'sync_ref_model', 'ref_model_mixup_alpha', 'ref_model_sync_steps', 'precompute_ref_batch_size']) delete old[k];
    expect(() => validateArgs(old as never)).not.toThrow();
    const f = PARAM_FIELDS.find((x) => x.name === 'loss_weights')!;
    expect(parseField(f, '')).toEqual({ value: null });
  });

  it('curves: every kind gives finite loss and weight, and the weight is -(1/beta) dLoss/dh', () => {
    const beta = 0.2;
    for (const k of DPO_LOSS_KINDS) {
      const eps = k === 'exo_pair' ? 1e-3 : 0.1;
      expect(WEIGHT_TEXT[k], k).toBeTruthy();
      const pts = curvePoints(k, beta, eps, -20, 20, 41);
      expect(pts.every((p) => Number.isFinite(p.loss) && Number.isFinite(p.weight)), k).toBe(true);
      for (const h of [-7, -1, 0.5, 3, 9]) {
        const d = 1e-5;
        const fd = -(pairLoss(k, beta, eps, h + d) - pairLoss(k, beta, eps, h - d)) / (2 * d) / beta;
        if (k !== 'hinge' || Math.abs(beta * h - 1) > 0.01) expect(Math.abs(gradWeight(k, beta, eps, h) - fd), `${k} h=${h}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
      }
    }
    expect(gradWeight('sigmoid', beta, 0, 2)).toBeCloseTo(sigmoid(-beta * 2), 12);
    // a combination is the weighted sum of its kinds
    const mpo = lossSpecOf({ loss_type: 'sigmoid,bco_pair,sft', loss_weights: [0.8, 0.2, 1] });
    expect(pairLoss(mpo, beta, 0, 3)).toBeCloseTo(0.8 * pairLoss('sigmoid', beta, 0, 3) + 0.2 * pairLoss('bco_pair', beta, 0, 3), 12);
    expect(curvePoints(mpo, beta, 0, -5, 5, 11).every((p) => Number.isFinite(p.weight))).toBe(true);
  });

  it('the loss chart says where the run\'s loss starts (issue 13 item 5)', () => {
    const a = { ...defaultTrainerArgs };
    expect(lossStartText(a)).toBe('sigmoid loss; starts at log 2 = 0.693 when the policy equals the reference.');
    expect(lossStartText({ ...a, loss_type: 'hinge' })).toBe('hinge loss; starts at 1.000 when the policy equals the reference.');
    expect(lossStartText({ ...a, loss_type: 'ipo', beta: 0.5 })).toBe('ipo loss; starts at 1.000 when the policy equals the reference.');
    expect(lossStartText({ ...a, loss_type: 'bco_pair' })).toBe(`bco_pair loss; starts at ${(2 * Math.LN2).toPrecision(4)} when the policy equals the reference.`);
    expect(lossStartText({ ...a, loss_type: 'sigmoid,bco_pair,sft', loss_weights: [0.8, 0.2, 1] })).toBe(
      `0.8 x sigmoid + 0.2 x bco_pair + 1 x sft loss; starts at ${(0.8 * Math.LN2 + 0.2 * 2 * Math.LN2).toPrecision(4)} plus 1 x the chosen answers' NLL per token (the sft term) when the policy equals the reference.`,
    );
    expect(lossStartText({ ...a, rpo_alpha: 0.5 })).toContain("plus 0.5 x the chosen answers' NLL per token");
    setArg('loss_type', 'hinge');
    expect(decode(renderToString(<Charts />))).toContain('<span class="explain">hinge loss; starts at 1.000 when the policy equals the reference.</span>');
    setArg('loss_type', 'apo_zero');
    expect(decode(renderToString(<LossStartExplain />))).toBe(lossStartText({ ...a, loss_type: 'apo_zero' }));
    expect(decode(renderToString(<DpoCurves />))).toContain(`apo_zero loss: at h = 0 the loss is ${pairLoss('apo_zero', 0.1, 0, 0)}`.slice(0, 40));
  });

  it("the per-pair view names the run's loss and shows its weights (issue 13 item 5)", () => {
    const pair = { index: 0, policyChosen: -10, policyRejected: -12, referenceChosen: -11, referenceRejected: -11, rewardChosen: 0.1, rewardRejected: -0.1, margin: 0.2, weight: 0.4502 };
    useStore.setState({ pairs: [pair], selectedPair: 0, args: { ...useStore.getState().args, loss_type: 'bco_pair' } });
    const html = decode(renderToString(<PairScatter />));
    expect(html).toContain("The bco_pair loss's gradient on a pair is weighted by");
    expect(html).toContain('gradient weight');
    expect(html).toContain('= 0.4502');
    useStore.setState({ args: { ...useStore.getState().args, loss_type: 'sigmoid' } });
    expect(decode(renderToString(<PairScatter />))).toContain("DPO's gradient on a pair is weighted by");
  });
});
