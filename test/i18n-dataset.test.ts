// Issue 18: the dataset panel's engine lines in Korean. Real bad files (paired, conversational, unpaired),
// real tokenizers (the demo's 443-word one: mostly <unk>; GPT-2: prompt/completion mismatches; a small
// max_length: prompts too long) and the file-level DatasetErrors: each skipped row, token note and error
// is said by its code in Korean, whole Korean (Hangul, no run of three English words), with the same
// numbers as the engine's English sentence, which the English page shows unchanged.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { englishRuns } from '../e2e/scenarios/korean.mjs';
import { DatasetError, loadPreferenceDataset, splitTrainEval } from '../src/data/index';
import type { SkippedRow } from '../src/data/types';
import { tokenizeDataset, tokenReportNoteCodes } from '../src/dpo/tokenize';
import { defaultTrainerArgs, TrainerConfigError, validateArgs, type TrainerArgs } from '../src/dpo/trainer';
import { loadTokenizer } from '../src/model/tokenizer';
import { skipLine, skipReasonName, tokenNoteText } from '../src/ui/dataset-text';
import { i18n } from '../src/ui/i18n';
import { errorSentence } from '../src/ui/i18n/errors';
import { WorkerError } from '../src/ui/client';
import { errorInfo } from '../src/worker/error-code';
import { storeApi } from '../src/ui/store';
import { message, say } from '../src/ui/store/state';
import { ROOT, tempDir } from './helpers/python';
import { sharedDir } from './helpers/paths';

const hangul = /[\uac00-\ud7a3]/;
/** The distinct numbers of a sentence, as digits (1,234 and 1234 are one number). */
const numbers = (s: string) => [...new Set([...s.matchAll(/\d[\d,]*(?:\.\d+)?/g)].map((m) => m[0].replace(/,/g, '')))].sort();
const jsonl = (rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
const dir = tempDir('i18n-dataset');
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return new Uint8Array(readFileSync(p));
};

async function both<T>(f: () => T): Promise<{ en: T; ko: T }> {
  await i18n.changeLanguage('en');
  const en = f();
  await i18n.changeLanguage('ko');
  const ko = f();
  await i18n.changeLanguage('en');
  return { en, ko };
}

/** Korean: Hangul, no English run; the engine's numbers (the JSON parser's own detail aside). */
function expectKorean(ko: string, en: string, what: string, sameNumbers = true) {
  expect(hangul.test(ko), `${what}: ${ko}`).toBe(true);
  expect(englishRuns(ko), `${what}: ${ko}`).toEqual([]);
  if (sameNumbers) expect(numbers(ko), `${what}: ${ko} | ${en}`).toEqual(numbers(en));
}

async function checkRows(rows: SkippedRow[]) {
  const { en, ko } = await both(() => rows.map(skipLine));
  rows.forEach((s, i) => {
    expect(en[i]).toBe(s.message); // English: the engine's own sentence
    if (s.reason === 'invalid-json') {
      expect(numbers(ko[i])).toEqual([String(s.line ?? s.row)]);
      expectKorean(ko[i], en[i], s.message, false);
    } else expectKorean(ko[i], en[i], s.message);
    console.log(`  ${ko[i]}   <- ${en[i]}`);
  });
  const reasons = await both(() => [...new Set(rows.map((s) => s.reason))].map(skipReasonName));
  reasons.ko.forEach((r) => expectKorean(r, r, r, false));
}

afterAll(() => void i18n.changeLanguage('en'));

describe('skipped rows in Korean', () => {
  it('a paired file with every kind of bad row', async () => {
    const bytes = file(
      'bad-pairs.jsonl',
      jsonl([
        { prompt: 'What is 2+2?', chosen: ' 4', rejected: ' 5' },
        '{"prompt": "p", "chosen": "a", ',
        { prompt: 'p', chosen: 'a' },
        { prompt: 'p' },
        { prompt: 'p', chosen: '  ', rejected: 'b' },
        { prompt: 'p', chosen: 'same', rejected: 'same' },
        { prompt: 'p', chosen: 3, rejected: 'b' },
        { prompt: 'p', chosen: 'a', rejected: ['x'] },
        '[1, 2]',
        '"just text"',
      ]),
    );
    const ds = await loadPreferenceDataset(bytes, { fileName: 'bad-pairs.jsonl' });
    expect(ds.report.skipped.map((s) => s.code)).toEqual(['invalid-json', 'missing-column', 'missing-column', 'empty.text', 'identical', 'wrong-type.text', 'wrong-type.text', 'not-an-object', 'not-an-object']);
    expect(ds.report.skipped[2].params).toEqual({ columns: '"chosen", "rejected"', count: 2 });
    await checkRows(ds.report.skipped);
  });

  it('a conversational file: messages of the wrong kind, a message without content, no messages', async () => {
    const good = { prompt: [{ role: 'user', content: 'Hi' }], chosen: [{ role: 'assistant', content: 'a' }], rejected: [{ role: 'assistant', content: 'b' }] };
    const bytes = file('bad-chat.jsonl', jsonl([good, { ...good, chosen: [good.chosen[0], { role: 'assistant' }] }, { ...good, rejected: 'text' }, { ...good, chosen: [] }, { ...good, rejected: good.chosen }]));
    const ds = await loadPreferenceDataset(bytes, { fileName: 'bad-chat.jsonl' });
    expect(ds.report.skipped.map((s) => [s.code, s.params])).toEqual([
      ['wrong-type.message', { column: 'chosen', index: 2 }],
      ['wrong-type.messages', { column: 'rejected', kind: 'text' }],
      ['empty.messages', { column: 'chosen' }],
      ['identical', {}],
    ]);
    await checkRows(ds.report.skipped);
  });

  it('an unpaired (KTO) file: bad labels, missing columns, empty and wrong-kind completions', async () => {
    const ok = (i: number, label: boolean) => ({ prompt: `Q${i}?`, completion: ` A${i}.`, label });
    const bytes = file(
      'bad-unpaired.jsonl',
      jsonl([
        ok(1, true),
        { prompt: 'Q2?', completion: ' A2.', label: 1 },
        { prompt: 'Q3?', completion: ' A3.', label: 'yes' },
        { prompt: 'Q4?', label: false },
        { prompt: 'Q6?', completion: '   ', label: false },
        { prompt: 7, completion: ' A7.', label: true },
        { prompt: 'Q8?', completion: [{ role: 'assistant', content: 'x' }], label: true },
        '{"prompt": "Q9?", "completion": " A9.", "label": tru',
        ok(10, false),
      ]),
    );
    const ds = await loadPreferenceDataset(bytes, { fileName: 'bad-unpaired.jsonl', allowUnpaired: true });
    expect(ds.report.skipped.map((s) => s.code)).toEqual(['bad-label', 'bad-label', 'missing-column', 'empty.text', 'wrong-type.text', 'wrong-type.text', 'invalid-json']);
    await checkRows(ds.report.skipped);
  });
});

describe('token notes and too-long prompts in Korean', () => {
  const hh = join(sharedDir(), 'data', 'hh-rlhf-harmless-base-test.jsonl.gz');
  const hhHead = () => file('hh-200.jsonl', gunzipSync(readFileSync(hh)).toString('utf8').split('\n').slice(0, 200).join('\n') + '\n');
  const tokenizer = (d: string) => loadTokenizer({ tokenizerJson: readFileSync(join(d, 'tokenizer.json'), 'utf8'), tokenizerConfig: (() => { try { return readFileSync(join(d, 'tokenizer_config.json'), 'utf8'); } catch { return undefined; } })() });

  it('HH-RLHF on the demo tokenizer (mostly unknown tokens) and on GPT-2 (mismatches); prompts over max_length', async () => {
    const ds = await loadPreferenceDataset(hhHead(), { fileName: 'hh-200.jsonl' });
    const demo = tokenizer(join(ROOT, 'public', 'demo'));
    const gpt2 = tokenizer(join(sharedDir(), 'data', 'gpt2-tokenizer'));
    const notes = [...tokenReportNoteCodes(tokenizeDataset(demo, ds.pairs, { maxLength: null }).report, demo.vocabSize), ...tokenReportNoteCodes(tokenizeDataset(gpt2, ds.pairs, { maxLength: null }).report, gpt2.vocabSize)];
    expect(notes.map((n) => n.code)).toContain('unknown-most');
    expect(notes.map((n) => n.code)).toContain('mismatch');
    const { en, ko } = await both(() => notes.map(tokenNoteText));
    notes.forEach((n, i) => {
      expect(en[i]).toBe(n.text);
      expectKorean(ko[i], en[i], n.code);
      console.log(`  ${ko[i]}\n    <- ${en[i]}`);
    });
    const long = tokenizeDataset(gpt2, ds.pairs.slice(0, 40), { maxLength: 24 });
    expect(long.skipped.length).toBeGreaterThan(0);
    expect(long.skipped[0]).toMatchObject({ reason: 'too-long', code: 'too-long', params: { maxLength: 24 } });
    await checkRows(long.skipped.slice(0, 3));
  });
});

describe('file-level dataset errors in Korean by code', () => {
  const fail = (p: Promise<unknown> | (() => unknown)) =>
    (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
      () => {
        throw new Error('no error');
      },
      (e: Error) => e,
    );

  it('every DatasetError below carries a code; its Korean sentence is whole Korean with the same numbers', async () => {
    const cases: [string, Promise<unknown> | (() => unknown)][] = [
      ['dataset.no-usable-pairs', loadPreferenceDataset(file('same.jsonl', jsonl([{ chosen: 'same', rejected: 'same' }, { chosen: 'x', rejected: 'x' }])))],
      ['dataset.no-usable-examples', loadPreferenceDataset(file('labels.jsonl', jsonl([{ prompt: 'a', completion: 'b', label: 1 }, { prompt: 'a', completion: 'b', label: 2 }, { prompt: 'a', completion: ' ', label: true }])), { allowUnpaired: true })],
      ['dataset.no-pair-columns', loadPreferenceDataset(file('text.jsonl', jsonl([{ text: 'hello', label: 1 }])))],
      ['dataset.not-objects', loadPreferenceDataset(file('nums.json', '[1, 2, 3]'))],
      ['dataset.json-no-train', loadPreferenceDataset(file('keys.json', '{"a": 1, "b": 2, "c": [1], "d": [2]}'))],
      ['dataset.last-assistant-conversations', loadPreferenceDataset(file('chat.jsonl', jsonl([{ chosen: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }], rejected: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'b' }] }])), { implicitPrompt: 'last-assistant' })],
      ['dataset.eval-fraction', () => splitTrainEval([1, 2, 3], { evalFraction: 1.5, seed: 0 })],
      ['dataset.eval-size', () => splitTrainEval([1, 2, 3, 4], { evalSize: 9, seed: 0 })],
    ];
    for (const [code, p] of cases) {
      const e = await fail(p);
      expect(e, code).toBeInstanceOf(DatasetError);
      const info = errorInfo(e);
      expect(info.code, `${code}: ${e.message}`).toBe(code);
      const { en, ko } = await both(() => [errorSentence(new WorkerError(info)), errorSentence(e)]);
      expect(en[0]).toBe(e.message);
      expect(ko[1]).toBe(ko[0]);
      // the keys' own names ("a", "b"...) and the most frequent reason's line are data, not numbers to repeat
      expectKorean(ko[0], en[0], code, code !== 'dataset.no-usable-pairs' && code !== 'dataset.no-usable-examples');
      if (code.startsWith('dataset.no-usable')) expect(ko[0]).toContain(`레코드 ${code.endsWith('pairs') ? 2 : 3}개`);
      console.log(`  ${code}: ${ko[0]}\n    <- ${en[0]}`);
    }
  });
});

describe('run options refused at start (TrainerConfigError) in Korean by code', () => {
  it("TRL's refusals and ours carry a code where thrown; the page's Korean is whole Korean with the same numbers", async () => {
    const cases: [string, Partial<TrainerArgs>][] = [
      ['trainer.kto-batch', { trainer: 'kto', loss_type: 'kto', per_device_train_batch_size: 1 }],
      ['trainer.wpo-aot', { loss_type: 'aot', use_weighting: true }],
      ['trainer.wpo-sft', { loss_type: 'sigmoid,sft', use_weighting: true, loss_weights: [1, 1] }],
      ['trainer.beta', { beta: 0 }],
      ['trainer.positive-int', { gradient_accumulation_steps: 0 }],
      ['trainer.range', { warmup_ratio: 1.5 }],
      ['trainer.loss-weights-length', { loss_type: 'sigmoid,ipo', loss_weights: [1, 0.5, 2] }],
      ['trainer.exo-smoothing', { loss_type: 'exo_pair' }],
      ['trainer.robust-smoothing', { loss_type: 'robust', label_smoothing: 0.7 }],
      ['trainer.kto-precompute', { trainer: 'kto', loss_type: 'kto', precompute_ref_log_probs: true }],
      ['trainer.dpo-only', { trainer: 'orpo', rpo_alpha: 1 }],
      ['trainer.reference-free-none', { trainer: 'cpo', reference_free: true }],
      ['trainer.no-smoothing', { trainer: 'orpo', label_smoothing: 0.1 }],
      ['trainer.sync-reference-free', { sync_ref_model: true, reference_free: true }],
    ];
    for (const [code, over] of cases) {
      const e = await Promise.resolve()
        .then(() => validateArgs({ ...defaultTrainerArgs, ...over } as TrainerArgs))
        .then(
          () => new Error('no error'),
          (x: Error) => x,
        );
      expect(e, code).toBeInstanceOf(TrainerConfigError);
      const info = errorInfo(e);
      expect(info.code, `${code}: ${e.message}`).toBe(code);
      const { en, ko } = await both(() => [errorSentence(new WorkerError(info)), errorSentence(e)]);
      expect(en[0]).toBe(e.message);
      expect(ko[1]).toBe(ko[0]);
      expectKorean(ko[0], en[0], code, code !== 'trainer.wpo-sft'); // TRL's own error text quotes no numbers in Korean
      console.log(`  ${code}: ${ko[0]}\n    <- ${en[0]}`);
    }
  });
});

describe("the store's lines follow a language switch", () => {
  it('a status line said by key (with a said error inside), a storage note and a dataset error are said again in the new language', async () => {
    await i18n.changeLanguage('en');
    const bad = await loadPreferenceDataset(file('same2.jsonl', jsonl([{ chosen: 'x', rejected: 'x' }]))).then(
      () => new Error('no error'),
      (e: Error) => e,
    );
    const err = new WorkerError(errorInfo(bad));
    storeApi.setState({
      statusLine: say('status.stateDownloadFailed', { error: message(err) }),
      storageError: say('status.stopFirst'),
      dataset: { ...storeApi.getState().dataset, status: 'error', error: message(err) },
    });
    const en = storeApi.getState();
    expect(en.statusLine).toContain(bad.message);
    await i18n.changeLanguage('ko');
    const ko = storeApi.getState();
    expect(ko.statusLine).toBe(i18n.t('status.stateDownloadFailed', { error: errorSentence(err) }));
    expect(ko.statusLine).toContain('파일에 쓸 수 있는 선호 쌍이 없습니다');
    expect(ko.storageError).toBe(i18n.t('status.stopFirst'));
    expect(ko.dataset.error).toBe(errorSentence(err));
    for (const x of [ko.statusLine, ko.storageError, ko.dataset.error]) expect(englishRuns(String(x)), String(x)).toEqual([]);
    await i18n.changeLanguage('en');
    expect(storeApi.getState().statusLine).toBe(en.statusLine); // and back
    expect(storeApi.getState().storageError).toBe(en.storageError);
    console.log(`  ${ko.statusLine}\n  ${ko.storageError}\n  <- ${en.statusLine}\n  <- ${en.storageError}`);
  });
});
