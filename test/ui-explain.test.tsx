// The explainer's panels rendered to HTML (react-dom/server): the live diagnosis over a recorded demo
// run, the token view's colours and sums, one update by hand, the KaTeX formulas, RLHF next to DPO with
// this model's byte counts, and the page layout (run bar before the setup fold).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { datasetFacts, diagnose, lossAtZero } from '../src/dpo/diagnosis';
import type { LogRecord, PairRecord, TrainerArgs } from '../src/dpo/trainer';
import { App } from '../src/ui/App';
import { Explainer } from '../src/ui/components/Explainer';
import { PairScatter } from '../src/ui/components/PairScatter';
import { Diagnosis, FindingView } from '../src/ui/explain/Diagnosis';
import { i18n } from '../src/ui/i18n';
import { MathPanel } from '../src/ui/explain/MathPanel';
import { OneUpdate } from '../src/ui/explain/OneUpdate';
import { pairNumbers, updateRows } from '../src/ui/explain/one-update';
import { previousPairs } from '../src/ui/explain/previous-pairs';
import { methodMemory } from '../src/ui/explain/rlhf-memory';
import { RlhfVsDpo } from '../src/ui/explain/RlhfVsDpo';
import { shownPiece, tokenColor, TokenView } from '../src/ui/explain/TokenView';
import { storeApi, useStore } from '../src/ui/store';
import { parseLossTypes } from '../src/ui/store/sweep';
import { FrontierChart } from '../src/ui/demo/FrontierChart';

const initial = useStore.getState();
storeApi.getInitialState = storeApi.getState;
beforeEach(() => useStore.setState(initial, true));
const decode = (html: string) => html.replace(/<!-- -->/g, '').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'diagnosis', 'demo-default.json'), 'utf8')) as { args: TrainerArgs; history: LogRecord[]; evalHistory: LogRecord[]; pairs: PairRecord[] };

/** A pair with per-token log-probs: chosen tokens moved up, rejected down. */
function pairWithTokens(): PairRecord {
  const chosen = { ids: [5, 9, 2], policy: [-1.0, -2.5, -0.25], reference: [-1.5, -2.0, -0.5] };
  const rejected = { ids: [5, 7], policy: [-3.0, -4.0], reference: [-1.0, -2.0] };
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const pc = sum(chosen.policy);
  const rc = sum(chosen.reference);
  const pr = sum(rejected.policy);
  const rr = sum(rejected.reference);
  const beta = 0.1;
  return { index: 0, policyChosen: pc, referenceChosen: rc, policyRejected: pr, referenceRejected: rr, rewardChosen: beta * (pc - rc), rewardRejected: beta * (pr - rr), margin: beta * (pc - rc - pr + rr), weight: 1 / (1 + Math.exp(beta * (pc - rc - pr + rr))), tokens: { chosen, rejected } };
}

describe('diagnosis panel', () => {
  it('the default demo run: no alarm, likelihood displacement named as a known behaviour with links to its charts', () => {
    useStore.setState({ history: fixture.history, evalHistory: fixture.evalHistory, args: fixture.args });
    const html = decode(renderToString(<Diagnosis />));
    expect(html).toContain('data-alarms="0"');
    expect(html).toContain('No alarm after 60 steps');
    expect(html).toContain('data-rule="likelihood-displacement" data-severity="note"');
    expect(html).toContain('<a href="#chart-rewards">Implicit rewards, step 60</a>');
  });

  it('a run stuck at log 2 raises the no-learning alarm, linked to the loss chart with its steps', () => {
    const history = Array.from({ length: 12 }, (_, i) => ({ step: i + 1, epoch: 0, loss: Math.LN2, 'rewards/chosen': 0, 'rewards/rejected': 0, 'rewards/margins': 0, 'rewards/accuracies': 0, grad_norm: 0.5, learning_rate: 0 }));
    useStore.setState({ history, args: { ...fixture.args, learning_rate: 0 } });
    const html = decode(renderToString(<Diagnosis />));
    expect(html).toContain('data-alarms="1"');
    expect(html).toContain('No learning: the loss sits at its starting value');
    expect(html).toContain('<a href="#chart-loss">Loss, steps 3-12</a>');
    expect(html).toMatch(/Why:.*h = 0/);
    expect(html).toContain('Raise learning_rate');
  });
});

describe('diagnosis panel in Korean', () => {
  afterEach(() => void i18n.changeLanguage('en'));
  const memorised = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'diagnosis', 'demo-memorise-lr1e-2.json'), 'utf8')) as typeof fixture;
  const ko = (o: Intl.NumberFormatOptions) => new Intl.NumberFormat('ko-KR', o);

  it('over-optimisation on the recorded memorising run: Korean title, evidence, why and what to try, numbers through Intl ko-KR', async () => {
    await i18n.changeLanguage('ko');
    useStore.setState({ history: memorised.history, evalHistory: memorised.evalHistory, args: memorised.args });
    const html = decode(renderToString(<Diagnosis />));
    const finding = html.slice(html.indexOf('data-rule="over-optimisation"'));
    console.log(`ko over-optimisation: ${finding.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 700)}`);
    expect(html).toContain('<h2 id="diagnosis-title">진단</h2>');
    expect(finding).toContain('<span class="badge">경고</span> 과최적화: 학습 쌍은 다 풀렸는데 정책이 계속 멀어집니다');
    // the last 5 training losses, averaged here from the fixture, in ko-KR's scientific notation
    const tail = memorised.history.slice(-5).reduce((a, r) => a + r.loss, 0) / 5;
    expect(tail).toBeLessThan(1e-3);
    const tailKo = ko({ notation: 'scientific', minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(tail);
    expect(finding).toContain(`<a href="#chart-loss">손실, 스텝 16-20</a>: loss ${tailKo} (시작 값 ${ko({ minimumFractionDigits: 3, maximumFractionDigits: 3 }).format(Math.LN2)}).`);
    expect(finding).toContain('<a href="#chart-accuracies">보상 정확도, 스텝 16-20</a>: rewards/accuracies 1.000: 모든 학습 쌍이 이미 올바른 순서입니다.');
    expect(finding).toContain('학습 손실이 내려가는 동안 eval_loss 값은 1.898(스텝 5)에서 2.393(스텝 20)까지 올랐습니다.');
    expect(finding).toMatch(/토큰당 KL 발산 \d\.\d{3} -> \d\.\d{3} nats: 정책이 참조 모델에서 계속 멀어지고 있습니다/);
    expect(finding).toContain('<strong>이유:</strong> DPO 손실은 선택된 응답이 거부된 응답을');
    expect(finding).toContain('learning_rate를 (3-10배) 낮추거나 스텝을 줄이세요');
    expect(finding).toContain('beta를 높이세요');
    // nothing of the English sentences is left
    expect(finding).not.toMatch(/Over-optimisation|every training pair|while the training loss|Why:|Lower learning_rate/);
    // the same finding in English after the switch
    await i18n.changeLanguage('en');
    const enHtml = decode(renderToString(<Diagnosis />));
    expect(enHtml).toContain('Over-optimisation: the training pairs are solved, the policy keeps drifting');
    expect(enHtml).toContain('eval_loss rose from 1.898 (step 5) to 2.393 (step 20) while the training loss fell.');
    expect(enHtml).toContain(`<a href="#chart-loss">Loss, steps 16-20</a>: loss ${new Intl.NumberFormat('en-US', { notation: 'scientific', minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(tail)} (it starts at 0.693).`);
  });

  it('pairs dropped: counts with ko-KR grouping and the share as a ko-KR percentage', async () => {
    await i18n.changeLanguage('ko');
    const lengths = { prompt: Array(632).fill(4), chosen: Array(632).fill(3), rejected: Array(632).fill(3) };
    const facts = datasetFacts(lengths, { maxLength: 8, truncationMode: 'keep_start', totalRows: 12_000, dropped: 1368, droppedTooLong: 1368 });
    const d = diagnose({ history: fixture.history, evalHistory: fixture.evalHistory, args: fixture.args, dataset: facts }).find((x) => x.rule === 'pairs-dropped')!;
    const html = decode(renderToString(<FindingView d={d} />));
    const count = ko({ maximumFractionDigits: 0 });
    const pct = ko({ style: 'percent', maximumFractionDigits: 0 }).format(1368 / 12_000);
    expect([count.format(12_000), pct]).toEqual(['12,000', '11%']);
    expect(html).toContain(`<span class="badge">주의</span> 많은 쌍이 버려졌습니다`);
    expect(html).toContain(`<a href="#dataset-panel">선호 쌍</a>: 레코드 ${count.format(12_000)}개 중 ${count.format(1368)}개(${pct})는 학습에 쓰이지 않습니다. 그중 ${count.format(1368)}개는 프롬프트만으로 max_length가 찹니다.`);
    expect(html).toContain('데이터셋 패널에서 이유를 읽고 파일을 고치세요.');
  });
});

describe('which tokens moved', () => {
  it('colours each token by its log-ratio and shows sums equal to the sequence log-ratios', () => {
    const p = pairWithTokens();
    const html = decode(renderToString(<TokenView pair={p} pieces={{ 5: ' the', 9: 'great', 2: '\n', 7: 'bad' }} referenceFree={false} step={10} />));
    // chosen: +0.5, -0.5, +0.25 -> sum +0.25; rejected: -2, -2 -> -4
    expect(html).toContain('data-testid="token-sum-chosen" data-sum="0.25" data-seq="0.25"');
    expect(html).toContain('data-testid="token-sum-rejected" data-sum="-4" data-seq="-4"');
    expect(html).toContain('Sum over 3 tokens: <strong>+0.2500</strong>');
    expect(html).toContain('h = chosen − rejected = +0.2500 − (−4.0000) = <strong>+4.2500</strong>');
    expect(html).toContain('·the'); // the space made visible
    expect(html).toContain('⏎');
    expect(html).toContain('aria-label="token 2 of 3 "great": log pi -2.5000, log pi_ref -2.0000, log-ratio −0.5000"');
    // one tab stop per row (arrow keys move inside)
    expect(html.match(/tabindex="0"/g)?.length).toBe(2);
    expect(tokenColor(2, 2)).toBe('rgba(22, 163, 74, 0.660)');
    expect(tokenColor(-1, 2)).toBe('rgba(220, 38, 38, 0.360)');
    expect(shownPiece(undefined, 42)).toBe('#42');
  });

  it('says why per-token values are missing when the reference was precomputed', () => {
    const p = pairWithTokens();
    p.tokens = { chosen: { ...p.tokens!.chosen, reference: null }, rejected: { ...p.tokens!.rejected, reference: null } };
    expect(decode(renderToString(<TokenView pair={p} pieces={{}} referenceFree={false} step={10} />))).toContain('precompute_ref_log_probs off');
  });

  it('the per-pair view shows the token view and the update of the selected pair', () => {
    const p = pairWithTokens();
    useStore.setState({ pairs: [p], selectedPair: 0, evalHistory: [{ step: 10, epoch: 0 }], dataset: { status: 'ready', info: { tokenPieces: { 5: 'a', 9: 'b', 2: 'c', 7: 'd' } } as never } });
    const html = decode(renderToString(<PairScatter />));
    expect(html).toContain('data-testid="token-view"');
    expect(html).toContain('data-testid="one-update"');
    expect(html).toContain('class="katex"');
  });
});

describe('one update by hand', () => {
  it('from the start (policy = reference) to the evaluation: h, beta h, loss and weight in order', () => {
    const p = pairWithTokens();
    const rows = updateRows({ ...p, policyChosen: p.referenceChosen, policyRejected: p.referenceRejected }, p, 'sigmoid', 0.1, 0);
    expect(rows.map((r) => r.key)).toEqual(['policyChosen', 'policyRejected', 'referenceChosen', 'referenceRejected', 'h', 'betaH', 'loss', 'weight']);
    const by = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(by.h.before).toBe(0);
    expect(by.h.after).toBeCloseTo(4.25, 12);
    expect(by.betaH.after).toBeCloseTo(0.425, 12);
    expect(by.loss.before).toBeCloseTo(Math.LN2, 12);
    expect(by.loss.after).toBeCloseTo(Math.log1p(Math.exp(-0.425)), 12);
    expect(by.weight.before).toBeCloseTo(0.5, 12);
    expect(by.weight.after).toBeCloseTo(1 / (1 + Math.exp(0.425)), 12); // sigma(-beta h) = the record's weight
    expect(by.weight.after).toBeCloseTo(p.weight, 12);
    // a weighted list of losses sums its terms (TRL's loss_type list with loss_weights)
    const mix = pairNumbers(p, 'sigmoid,hinge', 0.1, 0, [1, 0.5]);
    expect(mix.loss).toBeCloseTo(Math.log1p(Math.exp(-0.425)) + 0.5 * (1 - 0.425), 12);
    expect(Number.isNaN(pairNumbers(p, 'sigmoid,sft', 0.1, 0).loss)).toBe(true);
    expect(lossAtZero('sigmoid,hinge', 0.1, 0, [1, 0.5])).toBeCloseTo(Math.LN2 + 0.5, 12);
  });

  it('renders the before/after table with KaTeX names and how each moved', () => {
    const html = decode(renderToString(<OneUpdate pair={pairWithTokens()} prev={previousPairs()} step={1} kind="sigmoid" beta={0.1} labelSmoothing={0} />));
    expect(html).toContain('Exactly one optimizer update lies between the two columns.');
    expect(html).toContain('<td>0.6931</td>');
    expect(html).toContain('+4.2500');
    expect(html.match(/class="katex"/g)?.length).toBe(8);
  });
});

describe('the math, typeset by KaTeX', () => {
  it('renders the objective, the optimum, the implicit reward, Bradley-Terry, the loss and weight of the selected kind', () => {
    useStore.setState({ args: { ...fixture.args, loss_type: 'hinge' } });
    const html = renderToString(<MathPanel />);
    expect(html.match(/class="katex-display"/g)!.length).toBeGreaterThanOrEqual(8);
    expect(html).toContain('<math'); // MathML for screen readers
    expect(html).toContain('\\max(0,\\; 1 - \\beta h)');
    expect(html).toContain('\\mathbb{1}[\\beta h &lt; 1]');
    expect(html).toContain('\\mathbb{D}_{\\mathrm{KL}}');
    expect(html).toContain('\\sigma\\big(r(x,y_w) - r(x,y_l)\\big)');
    expect(html).not.toContain('katex-error');
    const expl = renderToString(<Explainer />);
    expect(expl).toContain('class="katex"');
    expect(decode(expl)).not.toMatch(/[^\\]sigma\(r_/);
  });
});

describe('RLHF next to DPO', () => {
  it('counts four models for PPO, two for DPO, one reference-free, with this model\'s bytes', () => {
    const m = methodMemory(1_000_000);
    expect(m.map((x) => [x.method, x.models.length, x.weightsBytes, x.optimizerBytes])).toEqual([
      ['PPO', 4, 16e6, 24e6],
      ['DPO', 2, 8e6, 12e6],
      ['reference-free DPO', 1, 4e6, 12e6],
    ]);
    useStore.setState({ model: { status: 'ready', info: { parameters: 1_000_000 } as never }, estimate: { weightsBytes: 8e6, optimizerBytes: 12e6, activationBytes: 1e6, totalBytes: 21e6, refusal: null } });
    const html = decode(renderToString(<RlhfVsDpo />));
    expect(html).toContain('15.3 MiB'); // PPO weights: 4 x 4 MB
    expect(html).toContain('DPO (this run)');
    expect(html).toContain("This run's estimate: weights 7.6 MiB, gradients + AdamW 11.4 MiB, activations 1.0 MiB, total 20.0 MiB");
  });
});

describe('compare methods on the demo', () => {
  it('parses the loss types of a method sweep (TRL names, + joins terms) and refuses unknown ones', () => {
    expect(parseLossTypes('sigmoid, ipo hinge')).toEqual(['sigmoid', 'ipo', 'hinge']);
    expect(parseLossTypes('sigmoid+sft, bco_pair')).toEqual(['sigmoid,sft', 'bco_pair']);
    expect(parseLossTypes('sigmoid, sppo')).toMatch(/^"sppo" is not a loss type; use one of sigmoid, hinge, ipo/);
    expect(parseLossTypes('sigmoid, simpo, orpo, kto')).toEqual(['sigmoid', 'simpo', 'orpo', 'kto']); // the trainers beside DPO (issue 17)
    expect(parseLossTypes(' ')).toBe('List at least one loss type, e.g. sigmoid, ipo, hinge.');
  });

  it('the frontier panel offers the loss-type comparison at the current beta', () => {
    useStore.setState({ args: { ...fixture.args, beta: 0.3 } });
    const html = decode(renderToString(<FrontierChart />));
    expect(html).toContain('aria-label="Compare loss types"');
    expect(html).toContain('value="sigmoid, simpo, orpo, kto"'); // DPO beside SimPO, ORPO and KTO (issue 17)
    expect(html).toContain('all at beta 0.3 and the same steps');
  });
});

describe('page layout', () => {
  it('puts the run bar before the setup fold and the explainer, diagnosis and charts after it', () => {
    useStore.setState({ gpu: { status: 'ready', info: { adapterName: 'test', maxBindingBytes: 0, maxBufferBytes: 0, features: [] } } });
    const html = renderToString(<App />);
    const at = (s: string) => html.indexOf(s);
    expect(at('data-testid="run-bar"')).toBeGreaterThan(0);
    expect(at('data-testid="run-bar"')).toBeLessThan(at('data-testid="setup"'));
    expect(at('data-testid="setup"')).toBeLessThan(at('data-testid="diagnosis"'));
    expect(at('data-testid="diagnosis"')).toBeLessThan(at('id="chart-loss"'));
    expect(html).toContain('id="dataset-panel"');
  });
});
