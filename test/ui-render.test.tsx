// Page components rendered to HTML in Node (react-dom/server): the no-WebGPU page, the charts' text
// alternatives, the train bar's buttons per run phase, the hyperparameter labels, the dataset report.
import { renderToString } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { Charts, CHARTS } from '../src/ui/components/Charts';
import { DatasetPanel } from '../src/ui/components/DatasetPanel';
import { HyperParams } from '../src/ui/components/HyperParams';
import { NoWebGpu } from '../src/ui/components/NoWebGpu';
import { TrainBar } from '../src/ui/components/TrainBar';
import { PARAM_FIELDS } from '../src/ui/params';
import { storeApi, useStore } from '../src/ui/store';
import type { DatasetInfo } from '../src/worker/protocol';

const initial = useStore.getState();
// Server rendering reads zustand's initial state; make it read the current one so tests can set it.
storeApi.getInitialState = storeApi.getState;
beforeEach(() => useStore.setState(initial, true));

const decode = (html: string) => html.replace(/<!-- -->/g, '').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
const altOf = (html: string, id: string) => new RegExp(`data-testid="chart-${id}-alt" data-points="(\\d+)">([^<]*)<`).exec(decode(html))?.slice(1).join('|') ?? '';

describe('page components', () => {
  it('the no-WebGPU page names the browsers that work and the reason', () => {
    const html = decode(renderToString(<NoWebGpu reason="No WebGPU adapter was found." />));
    expect(html).toContain('This page needs WebGPU');
    expect(html).toContain('Chrome or Edge 113');
    expect(html).toContain('Safari 26');
    expect(html).toContain('What happened: No WebGPU adapter was found.');
  });

  it('every chart has a text alternative with the latest train and eval values and the point count', () => {
    const history = Array.from({ length: 12 }, (_, i) => ({
      step: i + 1,
      epoch: 0,
      loss: 0.7 - 0.01 * i,
      'rewards/chosen': 0.01 * i,
      'rewards/rejected': -0.02 * i,
      'rewards/margins': 0.03 * i,
      'rewards/accuracies': 0.5,
      'logps/chosen': -50 - i,
      'logps/rejected': -60 - 2 * i,
      'kl/token_mean_exact': 0.001 * i,
      grad_norm: 1.5,
      learning_rate: 1e-6,
    }));
    useStore.setState({ history, evalHistory: [{ step: 10, epoch: 0, eval_loss: 0.61 }] });
    const html = renderToString(<Charts />);
    expect(CHARTS.map((c) => c.id)).toEqual(['loss', 'rewards', 'margins', 'accuracies', 'logps', 'kl', 'optim']);
    expect(altOf(html, 'loss')).toBe('12|Latest: loss 0.5900 at step 12; eval_loss 0.6100 at step 10 (12 points).');
    expect(altOf(html, 'logps')).toBe('12|Latest: logps/chosen -61.0000 at step 12; logps/rejected -82.0000 at step 12 (12 points).');
    expect(altOf(html, 'optim')).toBe('12|Latest: grad_norm 1.5000 at step 12; learning_rate 1.00e-6 at step 12 (12 points).');
    expect(altOf(html, 'kl')).toContain('kl/token_mean_exact 0.0110 at step 12');
  });

  it('charts say "no value yet" before training', () => {
    const html = renderToString(<Charts />);
    expect(altOf(html, 'margins')).toBe('0|Latest: rewards/margins: no value yet (0 points).');
  });

  const buttons = (html: string) =>
    Object.fromEntries([...html.matchAll(/<button[^>]*?(disabled="")?[^>]*>([^<]+)</g)].map((m) => [m[2].trim(), m[0].includes('disabled=""') ? 'off' : 'on']));

  it('the train bar enables the right buttons in each phase', () => {
    let b = buttons(renderToString(<TrainBar />));
    expect(b).toMatchObject({ Train: 'off', Pause: 'off', Stop: 'off' }); // nothing loaded yet
    expect(decode(renderToString(<TrainBar />))).toContain('WebGPU is not ready.');
    useStore.setState({ gpu: { status: 'ready' }, model: { status: 'ready' }, dataset: { status: 'ready' } });
    b = buttons(renderToString(<TrainBar />));
    expect(b).toMatchObject({ Train: 'on', Pause: 'off' });
    useStore.setState({ run: { ...initial.run, id: 'x', phase: 'training', step: 3, totalSteps: 10, elapsedSec: 6 } });
    const html = decode(renderToString(<TrainBar />));
    b = buttons(html);
    expect(b).toMatchObject({ 'Train a new run': 'off', Pause: 'on', Stop: 'on' });
    expect(html).toContain('step 3 / 10');
    expect(html).toContain('14 s left');
    useStore.setState({ run: { ...initial.run, id: 'x', phase: 'paused', step: 3, totalSteps: 10 } });
    b = buttons(renderToString(<TrainBar />));
    expect(b).toMatchObject({ Resume: 'on', Stop: 'on', 'Train a new run': 'on' });
    useStore.setState({ argErrors: { beta: 'beta needs a number, not "x".' }, run: initial.run });
    expect(buttons(renderToString(<TrainBar />)).Train).toBe('off');
    expect(decode(renderToString(<TrainBar />))).toContain('Fix the hyperparameters first: beta needs a number');
  });

  it('every hyperparameter has a label tied to its control, with its TRL default and range', () => {
    const html = decode(renderToString(<HyperParams />));
    // a trainer's own options (cpo_alpha, simpo_gamma, KTO's weights) show in the method selector while it is chosen
    const others = (['cpo', 'kto'] as const).map((trainer) => {
      useStore.setState((s) => ({ args: { ...s.args, trainer } }));
      return decode(renderToString(<HyperParams />));
    });
    for (const f of PARAM_FIELDS) {
      const page = [html, ...others].find((h) => h.includes(`id="arg-${f.name}"`)) ?? html;
      expect(page, f.name).toContain(`<label for="arg-${f.name}"><code>${f.name}</code></label>`);
      expect(page, f.name).toMatch(new RegExp(`id="arg-${f.name}"`));
    }
    expect(html).toContain('0.1 - 0.5 · TRL default 0.1');
    expect(html).toContain('5e-7 - 5e-6 (pretrained) · TRL default 0.000001');
  });

  it('the dataset panel shows format, counts, split and the preview with differences marked', () => {
    const info: DatasetInfo = {
      label: 'hh.jsonl.gz',
      format: 'implicit',
      report: { format: 'implicit', fileKind: 'jsonl', gzipped: true, totalRows: 2312, kept: 2312, skippedCount: 0, counts: { 'invalid-json': 0, 'not-an-object': 0, 'missing-column': 0, 'wrong-type': 0, empty: 0, identical: 0, 'too-long': 0, 'bad-label': 0 }, skipped: [], columns: ['chosen', 'rejected'] },
      preview: [{ row: 1, prompt: 'Human: hi', chosen: ' sure, glad to help', rejected: ' no, go away' }],
      trainPairs: 2081,
      evalPairs: 64,
      maxTokens: 300,
      meanTokens: 120.4,
      tooLong: 0,
      evalRows: [],
    };
    useStore.setState({ dataset: { status: 'ready', info } });
    const html = decode(renderToString(<DatasetPanel />));
    expect(html).toContain('2,312 usable of 2,312 records');
    expect(html).toContain('2,081 train / 64 eval');
    expect(html).toContain('implicit prompt (HH-RLHF style');
    expect(html).toContain('<mark class="chosen">sure, glad to help</mark>');
    expect(html).toContain('<mark class="rejected">no, go away</mark>');
    useStore.setState({ dataset: { status: 'error', error: 'The file is not JSONL, JSON or Parquet.' } });
    expect(decode(renderToString(<DatasetPanel />))).toContain('role="alert" data-testid="dataset-error">The file is not JSONL, JSON or Parquet.');
  });
});
