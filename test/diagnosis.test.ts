// The live diagnosis (src/dpo/diagnosis.ts): each rule fires on a run that shows its behaviour and stays
// quiet on one that does not. Runs are real: short runs of the engine on the shipped demo (public/demo/),
// or, where a run is too slow for CI, its metric history recorded with scripts/demo/record-run.ts
// (test/fixtures/diagnosis/*.json: the demo's default 60-step run, and one at an absurd learning rate on
// 32 pairs, which it memorises).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDemoModel, RECOMMENDED } from '../scripts/demo/build-demo';
import { loadPreferenceDataset } from '../src/data/index';
import { datasetFacts, datasetLengths, diagnose as diagnoseRaw, EVIDENCE_PARAMS, lossAtZero, RULE_IDS, sampleLengths, TRY_PARAMS, type Diagnosis, type DiagnosisInput, type Params } from '../src/dpo/diagnosis';
import { NonFiniteGradientError } from '../src/dpo/optimizer';
import { tokenLogratios } from '../src/dpo/token-moves';
import { tokenizeDataset, type TokenizedPair } from '../src/dpo/tokenize';
import { DpoTrainer, type LogRecord, type PairRecord, type TrainerArgs } from '../src/dpo/trainer';
import { loadTokenizer } from '../src/model/tokenizer';
import { diagnosisKeys } from '../src/ui/explain/diagnosis-text';
import { en } from '../src/ui/i18n/en';
import { ko } from '../src/ui/i18n/ko';
import { englishRuns } from '../e2e/scenarios/korean.mjs';
import { testGpu } from './helpers/gpu';

const DEMO = join(__dirname, '..', 'public', 'demo');
const read = (f: string): string => readFileSync(join(DEMO, f), 'utf8');
const tok = loadTokenizer({ tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json') });
const demo = loadDemoModel();
const { frontier: _frontier, ...recommended } = RECOMMENDED;
const demoArgs = recommended as unknown as TrainerArgs;

interface Recorded {
  args: TrainerArgs;
  history: LogRecord[];
  evalHistory: LogRecord[];
  pairs: PairRecord[];
}
const fixture = (name: string): Recorded => JSON.parse(readFileSync(join(__dirname, 'fixtures', 'diagnosis', `${name}.json`), 'utf8')) as Recorded;
const input = (r: { args: TrainerArgs; history: LogRecord[]; evalHistory?: LogRecord[] }, extra: Partial<DiagnosisInput> = {}): DiagnosisInput => ({ history: r.history, evalHistory: r.evalHistory ?? [], args: r.args, ...extra });
/** A finding is data: each evidence and what-to-try code carries exactly its declared params (numbers, or strings for names). */
function checkShape(d: Diagnosis): void {
  const shape = (spec: Readonly<Record<string, string>>, params: Params) => {
    expect(Object.keys(params).sort()).toEqual(Object.keys(spec).sort());
    for (const [k, kind] of Object.entries(spec)) expect(typeof params[k]).toBe(kind === 'name' ? 'string' : 'number');
  };
  expect(RULE_IDS).toContain(d.rule);
  for (const e of d.evidence) {
    expect(e.code.startsWith(`${d.rule}.`)).toBe(true);
    shape(EVIDENCE_PARAMS[e.code], e.params);
  }
  expect(d.tryThis.length).toBeGreaterThan(0);
  for (const x of d.tryThis) shape(TRY_PARAMS[x.code], x.params);
}
const diagnose = (inp: DiagnosisInput) => {
  const found = diagnoseRaw(inp);
  found.forEach(checkShape);
  return found;
};
/** Evidence as a log line: code and params. */
const shown = (d: Diagnosis | undefined) => d?.evidence.map((e) => `${e.code} ${JSON.stringify(e.params)}`).join(' | ');
const num = (p: Params, k: string): number => {
  expect(typeof p[k]).toBe('number');
  return p[k] as number;
};
const rules = (inp: DiagnosisInput) => diagnose(inp).map((d) => d.rule);
const find = (inp: DiagnosisInput, rule: string) => diagnose(inp).find((d) => d.rule === rule);

const pairsOf = async (file: string) => (await loadPreferenceDataset(new TextEncoder().encode(read(file)))).pairs;
const tokenized = async (file: string, maxLength: number | null = 64) => tokenizeDataset(tok, await pairsOf(file), { maxLength });

/** A short real run of the engine on the demo's first pairs. */
async function run(args: Partial<TrainerArgs>, o: { steps: number; batch?: number; reference?: Map<string, Float32Array>; evalPairs?: TokenizedPair[] }) {
  const gpu = await testGpu();
  const batch = o.batch ?? 4;
  const train = (await tokenized('pairs-train.jsonl')).examples.slice(0, batch * o.steps);
  const trainer = await DpoTrainer.create(gpu, {
    config: demo.cfg,
    policy: demo.weights,
    reference: o.reference,
    train,
    eval: o.evalPairs,
    padId: tok.padId,
    args: { ...demoArgs, compute_kl: false, eval_steps: 0, ...args, max_steps: o.steps, per_device_train_batch_size: batch },
  });
  const history: LogRecord[] = [];
  let failure: { message: string; step: number } | null = null;
  try {
    await trainer.train({ onLog: (r) => history.push(r) });
  } catch (e) {
    if (!(e instanceof NonFiniteGradientError)) throw e;
    failure = { message: e.message, step: trainer.step };
  }
  return { trainer, args: trainer.args, history, evalHistory: [] as LogRecord[], failure };
}

describe('the loss at h = 0', () => {
  it('is the engine reference loss at zero log-ratios for each kind', () => {
    expect(lossAtZero('sigmoid', 0.1, 0)).toBeCloseTo(Math.LN2, 12);
    expect(lossAtZero('hinge', 0.3, 0)).toBe(1);
    expect(lossAtZero('ipo', 0.5, 0)).toBeCloseTo(1, 12); // (1 / (2 beta))^2
    expect(lossAtZero('robust', 0.1, 0.2)).toBeCloseTo(Math.LN2, 12); // ((1-e) - e) log2 / (1 - 2e)
  });
});

describe('the default demo run (recorded: 60 steps, recommended settings)', () => {
  const d = fixture('demo-default');
  it('raises no alarm and no warning; it names likelihood displacement as a known behaviour', () => {
    const found = diagnose(input(d));
    console.log(`default demo run: ${found.map((f) => `${f.severity} ${f.rule}`).join(', ') || 'nothing'}`);
    expect(found.filter((f) => f.severity !== 'note')).toEqual([]);
    // the demo's chosen log-probs do fall (eval_rewards/chosen -2.69 at beta 0.1: 27 nats) while the margin grows
    const disp = found.find((f) => f.rule === 'likelihood-displacement')!;
    expect(disp.severity).toBe('note');
    expect(disp.evidence[0].chart).toBe('rewards');
    expect(disp.evidence[0].steps).toEqual([60, 60]);
    expect(disp.evidence[0].code).toBe('likelihood-displacement.rewards');
    expect(disp.evidence[0].params.chosenKey).toBe('eval_rewards/chosen');
    expect(num(disp.evidence[0].params, 'chosenNats').toFixed(2)).toMatch(/^26\.9\d$/); // nats less log-probability than the reference
    console.log(`default demo run, displacement: ${shown(disp)}`);
  });
});

describe('over-optimisation (recorded: the demo model on 32 training pairs at learning_rate 1e-2, 20 steps)', () => {
  const d = fixture('demo-memorise-lr1e-2');
  it('fires with its evidence: loss ~0, accuracy 1, margins and KL climbing, eval loss rising; the default run does not', () => {
    const o = find(input(d), 'over-optimisation');
    console.log(`memorising run: ${shown(o)}`);
    expect(o?.severity).toBe('alarm');
    expect(o!.evidence.map((e) => e.chart)).toEqual(['loss', 'accuracies', 'margins', 'kl', 'loss']);
    expect(o!.evidence[0].steps).toEqual([16, 20]);
    expect(o!.evidence.map((e) => e.code)).toEqual(['over-optimisation.loss', 'over-optimisation.accuracy', 'over-optimisation.margins', 'over-optimisation.kl', 'over-optimisation.eval-rose']);
    // eval_loss rose from 1.898 (step 5) to 2.393 (step 20)
    const rose = o!.evidence[4].params;
    expect([num(rose, 'low').toFixed(3), rose.lowStep, num(rose, 'last').toFixed(3), rose.lastStep]).toEqual(['1.898', 5, '2.393', 20]);
    expect(rules(input(fixture('demo-default')))).not.toContain('over-optimisation');
    // without the eval history and the KL the training curves alone are not enough to call it
    const bare = d.history.map(({ 'kl/token_mean_exact': _kl, ...r }) => r as LogRecord);
    expect(rules(input({ ...d, history: bare, evalHistory: [] }))).not.toContain('over-optimisation');
  });
});

describe('rules on short real runs of the engine', () => {
  it('no learning: learning_rate 0 for 10 steps keeps the loss at log 2 with rewards 0; the default run learns', async () => {
    const r = await run({ learning_rate: 0 }, { steps: 10, batch: 2 });
    r.trainer.release();
    const d = find(input(r), 'no-learning');
    console.log(`lr 0, 10 steps: loss ${r.history.map((x) => x.loss.toFixed(6)).join(' ')}`);
    expect(d?.severity).toBe('alarm');
    expect(d!.evidence[0]).toMatchObject({ chart: 'loss', steps: [1, 10] });
    expect(d!.evidence[0].code).toBe('no-learning.loss-log2');
    expect(num(d!.evidence[0].params, 'ref').toFixed(3)).toBe('0.693');
    expect(d!.evidence[0].params.lossType).toBe('sigmoid');
    // the first step equals the loss at h = 0 here (reference = start), so that rule is quiet
    expect(rules(input(r))).not.toContain('reference-mismatch');
    // 9 steps are not enough to call it
    expect(rules(input({ ...r, history: r.history.slice(0, 9) }))).not.toContain('no-learning');
    expect(rules(input(fixture('demo-default')))).not.toContain('no-learning');
  }, 300_000);

  it('a reference that is not the start: step 1 loss is off log 2 when the reference is another checkpoint', async () => {
    // "the wrong folder": the reference is the demo model with its weights perturbed (another checkpoint)
    let seed = 7;
    const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.2;
    const other = new Map([...demo.weights].map(([k, w]) => [k, w.map((x) => x + noise())]));
    const r = await run({}, { steps: 1, reference: other });
    r.trainer.release();
    const d = find(input(r), 'reference-mismatch');
    console.log(`reference = perturbed checkpoint: step 1 loss ${r.history[0].loss.toFixed(4)}, rewards/chosen ${r.history[0]['rewards/chosen'].toFixed(4)}`);
    expect(d?.severity).toBe('alarm');
    expect(d!.evidence[0]).toMatchObject({ chart: 'loss', steps: [1, 1] });
    expect(Math.abs(r.history[0].loss - Math.LN2)).toBeGreaterThan(1e-3);
    // the same step with the reference left unset (a copy of the start) is exactly at h = 0
    const ok = await run({}, { steps: 1 });
    ok.trainer.release();
    expect(ok.history[0].loss).toBeCloseTo(Math.LN2, 6);
    expect(rules(input(ok))).not.toContain('reference-mismatch');
  }, 300_000);

  it('the gradient clipped on every step: max_grad_norm 0.1 for 10 steps; the default run (norms 0.6-4.9 at 1.0) is not', async () => {
    const r = await run({ max_grad_norm: 0.1 }, { steps: 10, batch: 2 });
    r.trainer.release();
    const d = find(input(r), 'always-clipped');
    console.log(`max_grad_norm 0.1: grad_norm ${r.history.map((x) => x.grad_norm.toFixed(2)).join(' ')}`);
    expect(d?.severity).toBe('warning');
    expect(d!.evidence[0]).toMatchObject({ chart: 'optim', steps: [1, 10] });
    expect(rules(input(fixture('demo-default')))).not.toContain('always-clipped');
  }, 300_000);

  it('NaN/Inf: an absurd learning rate overflows and the trainer stops; its sentence becomes an alarm', async () => {
    const r = await run({ learning_rate: 1e4, max_grad_norm: 0 }, { steps: 4 });
    r.trainer.release();
    console.log(`lr 1e4: ${r.history.length} steps logged, failure: ${r.failure?.message}`);
    expect(r.failure).not.toBeNull();
    const d = find(input(r, { failure: r.failure }), 'non-finite');
    expect(d?.severity).toBe('alarm');
    expect(d!.evidence.at(-1)).toMatchObject({ code: 'non-finite.stopped', params: { step: r.failure!.step } });
    // a non-finite value in a recorded log (e.g. a TRL log with grad_norm inf) fires too
    const logged = find(input({ args: demoArgs, history: [{ step: 3, epoch: 0, loss: 0.5, grad_norm: Infinity }] }), 'non-finite');
    expect(logged!.evidence[0]).toMatchObject({ chart: 'optim', steps: [3, 3], code: 'non-finite.value', params: { key: 'grad_norm', value: Infinity, step: 3, count: 1 } });
    expect(rules(input(fixture('demo-default')))).not.toContain('non-finite');
  }, 300_000);
});

describe('rules on the dataset (real demo pairs, tokenized as the run does)', () => {
  const facts = (pairs: TokenizedPair[], maxLength: number | null, dropped = 0, totalRows = pairs.length) =>
    datasetFacts(datasetLengths(pairs), { maxLength, truncationMode: 'keep_start', totalRows, dropped });

  it('a length shortcut: pairs whose chosen is the longer answer fire; the demo pairs (49% longer) do not', async () => {
    const { examples } = await tokenized('pairs-train.jsonl');
    const demoFacts = facts(examples, 64);
    console.log(`demo pairs: chosen longer in ${(100 * demoFacts.chosenLonger).toFixed(1)}%, mean ${demoFacts.meanChosen.toFixed(1)} vs ${demoFacts.meanRejected.toFixed(1)} tokens`);
    expect(rules(input(fixture('demo-default'), { dataset: demoFacts }))).not.toContain('length-shortcut');
    // the same pairs relabelled so the longer completion is always "chosen" (a length-biased labeller)
    const biased = examples.filter((p) => p.chosenIds.length !== p.rejectedIds.length).map((p) => (p.chosenIds.length > p.rejectedIds.length ? p : { ...p, chosenIds: p.rejectedIds, rejectedIds: p.chosenIds }));
    const d = find(input(fixture('demo-default'), { dataset: facts(biased, 64) }), 'length-shortcut');
    expect(d?.severity).toBe('warning');
    expect(d!.evidence[0].code).toBe('length-shortcut.pairs');
    expect(Math.round(100 * num(d!.evidence[0].params, 'share'))).toBe(100); // in 100% of the training pairs
    expect(d!.evidence[0].params.pairs).toBe(biased.length);
    // policy samples growing longer than the reference's makes it an alarm
    const grown = sampleLengths(40, [{ policy: 'a b c d e f g h i j k l', reference: 'a b c d e f g h' }])!;
    expect(grown).toEqual({ step: 40, policy: 12, reference: 8 });
    const d2 = find(input(fixture('demo-default'), { dataset: facts(biased, 64), samples: [{ step: 0, policy: 8, reference: 8 }, grown] }), 'length-shortcut');
    expect(d2!.severity).toBe('alarm');
    expect(d2!.evidence[1]).toMatchObject({ chart: 'frontier', steps: [0, 40], code: 'length-shortcut.samples', params: { policy: 12, step: 40, reference: 8, growth: 0.5 } });
  });

  it('truncation: max_length 24 cuts most demo completions; the demo\'s 64 cuts none', async () => {
    const { examples } = await tokenized('pairs-train.jsonl', null);
    const cut = facts(examples, 24);
    console.log(`max_length 24: ${(100 * cut.truncated).toFixed(1)}% of completions cut, both in ${(100 * cut.bothTruncated).toFixed(1)}% of pairs`);
    const tr = find(input(fixture('demo-default'), { dataset: cut }), 'truncation');
    expect(tr?.severity).toBe('alarm');
    expect(tr!.evidence[0]).toMatchObject({ code: 'truncation.cut', params: { maxLength: 24, share: cut.truncated, bothShare: cut.bothTruncated } });
    const full = facts(examples, 64);
    expect(full.truncated).toBe(0);
    expect(rules(input(fixture('demo-default'), { dataset: full }))).not.toContain('truncation');
  });

  it('pairs dropped: max_length 8 drops the pairs whose prompt fills it; at 64 none are dropped', async () => {
    const short = await tokenized('pairs-train.jsonl', 8);
    const total = short.examples.length + short.skipped.length;
    const f = datasetFacts(datasetLengths(short.examples), { maxLength: 8, truncationMode: 'keep_start', totalRows: total, dropped: short.skipped.length, droppedTooLong: short.skipped.length });
    console.log(`max_length 8: ${short.skipped.length} of ${total} pairs dropped`);
    const d = find(input(fixture('demo-default'), { dataset: f }), 'pairs-dropped');
    expect(d?.severity).toBe('warning');
    expect(d!.evidence[0]).toMatchObject({ code: 'pairs-dropped.count-too-long', params: { dropped: short.skipped.length, total, tooLong: short.skipped.length } });
    const full = await tokenized('pairs-train.jsonl', 64);
    expect(full.skipped.length).toBe(0);
    expect(rules(input(fixture('demo-default'), { dataset: facts(full.examples, 64, 0, full.examples.length) }))).not.toContain('pairs-dropped');
  });
});

describe('every code the engine can emit is said in English and Korean', () => {
  const placeholders = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();
  it('each rule title and why, evidence code and what-to-try code has en and ko entries with exactly its params as placeholders', () => {
    const keys = diagnosisKeys();
    expect(keys.length).toBe(2 * RULE_IDS.length + Object.keys(EVIDENCE_PARAMS).length + Object.keys(TRY_PARAMS).length);
    const wrong = keys.flatMap(({ key, params }) =>
      [['en', en[key]] as const, ['ko', ko[key]] as const].filter(([, v]) => v === undefined || !v.trim() || placeholders(v).join() !== [...new Set(params)].join()).map(([lng, v]) => `${lng} ${key}: ${v === undefined ? 'missing' : `{{${placeholders(v).join('}} {{')}}} vs ${params.join(' ')}`}`),
    );
    expect(wrong).toEqual([]);
    // and no sentence is left over from a code the engine no longer has
    const known = new Set(keys.map((k) => k.key));
    const stale = [...Object.keys(en), ...Object.keys(ko)].filter((k) => /^diag\.(rule|ev|try)\./.test(k) && !known.has(k));
    expect(stale).toEqual([]);
    // the Korean sentences are Korean: Hangul in each, no run of English words left (TRL names and symbols aside)
    const notKorean = keys.map((k) => ko[k.key]).filter((v) => !/[\uac00-\ud7a3]/.test(v) || englishRuns(v).length);
    expect(notKorean).toEqual([]);
    console.log(`${keys.length} diagnosis keys (${RULE_IDS.length} rules, ${Object.keys(EVIDENCE_PARAMS).length} evidence codes, ${Object.keys(TRY_PARAMS).length} what-to-try codes) in en and ko`);
  });
});

describe('which tokens moved (the eval PairRecord)', () => {
  it('per-token log-ratios of chosen and rejected sum to the sequence log-ratios that enter the loss', async () => {
    const evalPairs = (await tokenized('pairs-eval.jsonl')).examples.slice(0, 6);
    const r = await run({ learning_rate: 2e-3 }, { steps: 3, evalPairs });
    const { pairs } = await r.trainer.evaluate();
    r.trainer.release();
    let worst = 0;
    for (const p of pairs) {
      const t = p.tokens!;
      expect(t.chosen.ids).toEqual(evalPairs[p.index].chosenIds);
      expect(t.rejected.ids).toEqual(evalPairs[p.index].rejectedIds);
      const sc = tokenLogratios(t.chosen)!.reduce((a, x) => a + x, 0);
      const sr = tokenLogratios(t.rejected)!.reduce((a, x) => a + x, 0);
      worst = Math.max(worst, Math.abs(sc - (p.policyChosen - p.referenceChosen)), Math.abs(sr - (p.policyRejected - p.referenceRejected)));
      expect(t.chosen.policy.reduce((a, x) => a + x, 0)).toBeCloseTo(p.policyChosen, 3);
    }
    console.log(`token sums vs sequence log-ratios over ${pairs.length} pairs: max |diff| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
    // after 3 updates some tokens moved
    expect(pairs.some((p) => tokenLogratios(p.tokens!.chosen)!.some((x) => Math.abs(x) > 1e-3))).toBe(true);
  }, 300_000);
});
