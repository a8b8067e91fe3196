// Pure helpers of the page: metric export (CSV/JSONL), latest values for the charts' text alternatives,
// downsampling, time left, the chosen/rejected diff, the hyperparameter parsing and the memory estimate.
import { describe, expect, it } from 'vitest';
import { countPoints, downsample, fmtDuration, historyCsv, historyJsonl, latest, secondsLeft } from '../src/ui/history';
import { diffParts } from '../src/ui/diff';
import { PARAM_FIELDS, parseField, rangeWarning } from '../src/ui/params';
import { estimateMemory } from '../src/worker/memory';
import { parseConfig, countParameters } from '../src/model/config';
import { defaultTrainerArgs, type LogRecord } from '../src/dpo/trainer';

const recs: LogRecord[] = [
  { step: 1, epoch: 0.1, loss: 0.6931, 'rewards/margins': 0 },
  { step: 2, epoch: 0.2, loss: 0.69, 'rewards/margins': 0.01, 'kl/token_mean_exact': 0.002 },
  { step: 3, epoch: 0.3, loss: NaN, note: 1 },
];

describe('metric history', () => {
  it('writes CSV with step, epoch first, every metric seen, empty cells for missing or non-finite', () => {
    const csv = historyCsv(recs).trim().split('\n');
    expect(csv[0]).toBe('step,epoch,loss,rewards/margins,kl/token_mean_exact,note');
    expect(csv[1]).toBe('1,0.1,0.6931,0,,');
    expect(csv[2]).toBe('2,0.2,0.69,0.01,0.002,');
    expect(csv[3]).toBe('3,0.3,,,,1');
  });
  it('writes one JSON object per line that parses back', () => {
    const lines = historyJsonl(recs.slice(0, 2)).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(recs.slice(0, 2));
    expect(historyJsonl([])).toBe('');
  });
  it('finds the latest finite value and counts points', () => {
    expect(latest(recs, 'loss')?.step).toBe(2);
    expect(latest(recs, 'kl/token_mean_exact')?.step).toBe(2);
    expect(latest(recs, 'absent')).toBeUndefined();
    expect(countPoints(recs, ['rewards/margins'])).toBe(2);
    expect(countPoints(recs, ['loss', 'note'])).toBe(3);
  });
  it('downsamples keeping the first and last points', () => {
    const xs = Array.from({ length: 1001 }, (_, i) => i);
    const d = downsample(xs, 100);
    expect(d.length).toBeLessThanOrEqual(101);
    expect(d[0]).toBe(0);
    expect(d.at(-1)).toBe(1000);
    expect(downsample([1, 2, 3], 10)).toEqual([1, 2, 3]);
  });
  it('estimates the time left from the rate since the (re)start', () => {
    expect(secondsLeft(10, 40, 20, 0)).toBeCloseTo(60);
    expect(secondsLeft(15, 40, 10, 10)).toBeCloseTo(50);
    expect(secondsLeft(10, 10, 5, 0)).toBe(0);
    expect(secondsLeft(0, 10, 0, 0)).toBeNull();
    expect(fmtDuration(75)).toBe('1 min 15 s');
    expect(fmtDuration(null)).toBe('-');
  });
});

describe('chosen/rejected diff', () => {
  it('splits into the shared start, the two middles and the shared end at word boundaries', () => {
    const d = diffParts('the movie was great fun.', 'the movie was awful fun.');
    expect(d).toEqual({ prefix: 'the movie was ', a: 'great', b: 'awful', suffix: ' fun.' });
    const e = diffParts('I like cats', 'I like cars');
    expect(e.prefix + e.a + e.suffix).toBe('I like cats');
    expect(e.prefix + e.b + e.suffix).toBe('I like cars');
    expect(e.a).toBe('cats');
  });
  it('handles identical and disjoint texts', () => {
    expect(diffParts('same', 'same')).toEqual({ prefix: 'same', a: '', b: '', suffix: '' });
    const d = diffParts('abc', 'xyz');
    expect(d.a).toBe('abc');
    expect(d.b).toBe('xyz');
  });
});

describe('hyperparameter form', () => {
  const field = (n: string) => PARAM_FIELDS.find((f) => f.name === n)!;
  it('uses TRL names that exist in the trainer arguments', () => {
    for (const f of PARAM_FIELDS) expect(defaultTrainerArgs).toHaveProperty(f.name);
    expect(new Set(PARAM_FIELDS.map((f) => f.name)).size).toBe(PARAM_FIELDS.length);
  });
  it('parses values and refuses bad ones with a sentence', () => {
    expect(parseField(field('beta'), '0.25')).toEqual({ value: 0.25 });
    expect(parseField(field('beta'), 'abc')).toEqual({ error: 'beta needs a number, not "abc".', code: 'number', params: { name: 'beta', value: 'abc' } });
    expect(parseField(field('beta'), '-1')).toHaveProperty('error');
    expect(parseField(field('per_device_train_batch_size'), '2.5')).toMatchObject({ error: 'per_device_train_batch_size must be a whole number (got 2.5).', code: 'whole' });
    expect(parseField(field('max_steps'), '-1')).toEqual({ value: -1 });
    expect(parseField(field('max_steps'), '0')).toHaveProperty('error');
    expect(parseField(field('max_length'), '')).toEqual({ value: null });
    expect(parseField(field('rpo_alpha'), 'None')).toEqual({ value: null });
    expect(parseField(field('loss_type'), 'ipo')).toEqual({ value: 'ipo' });
    expect(parseField(field('loss_type'), 'kto')).toHaveProperty('error');
    expect(parseField(field('precompute_ref_log_probs'), true)).toEqual({ value: true });
  });
  it('warns outside the recommended ranges', () => {
    expect(rangeWarning('beta', 0.1, true)).toBeNull();
    expect(rangeWarning('beta', 5, true)).toMatch(/0.1 and 0.5/);
    expect(rangeWarning('learning_rate', 1e-4, true)).toMatch(/collapses/);
    expect(rangeWarning('learning_rate', 1e-4, false)).toBeNull();
  });
});

describe('GPU memory estimate', () => {
  const gpt2 = parseConfig({ model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 });
  const limits = { maxBindingBytes: 128 * 2 ** 20, maxBufferBytes: 2 ** 30 };
  it('counts policy, reference, gradients and both AdamW moments', () => {
    const P = countParameters(gpt2);
    const e = estimateMemory(gpt2, { ...defaultTrainerArgs, per_device_train_batch_size: 2 }, 128, limits);
    expect(e.weightsBytes).toBe(8 * P);
    expect(e.optimizerBytes).toBe(12 * P);
    expect(e.totalBytes).toBe(e.weightsBytes + e.optimizerBytes + e.activationBytes);
    expect(e.refusal).toBeNull();
    const pre = estimateMemory(gpt2, { ...defaultTrainerArgs, per_device_train_batch_size: 2, precompute_ref_log_probs: true }, 128, limits);
    expect(pre.weightsBytes).toBe(4 * P);
    // activations grow with the batch
    const big = estimateMemory(gpt2, { ...defaultTrainerArgs, per_device_train_batch_size: 4 }, 128, limits);
    expect(big.activationBytes).toBeGreaterThan(e.activationBytes * 1.9);
  });
  it('refuses with a sentence when one buffer exceeds the binding limit or the total exceeds the budget', () => {
    const e = estimateMemory(gpt2, { ...defaultTrainerArgs, per_device_train_batch_size: 64, max_length: 1024 }, 1024, limits);
    expect(e.refusal).toMatch(/per-buffer limit: lower per_device_train_batch_size or max_length\.$/);
    const small = estimateMemory(gpt2, { ...defaultTrainerArgs, per_device_train_batch_size: 1 }, 64, limits, 100 * 2 ** 20);
    expect(small.refusal).toMatch(/more than the 100.0 MiB the page allows itself/);
  });
});
