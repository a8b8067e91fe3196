// Live tokenization parity: scripts/py/trl_tokenize.py runs TRL 1.13's own DPOTrainer._prepare_dataset
// and DataCollatorForPreference in this test run, and our prompt/chosen/rejected ids and collated
// batches must equal them exactly, pair by pair, under several max_length / truncation_mode settings.
// Tokenizers: GPT-2 (HH-RLHF, 64 pairs), the tiny models' own byte-level BPE with a ChatML template
// (HH-RLHF and a conversational dataset), GPT-2 with a chat template (conversational).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPreferenceDataset, type PreferencePair } from '../src/data/index';
import { collate, tokenizeDataset, type TruncationMode } from '../src/dpo/tokenize';
import { loadTokenizer, type LoadedTokenizer } from '../src/model/tokenizer';
import { sharedDir } from './helpers/paths';
import { hhPairsFile, runPython, tempDir, tinyModel, venvPython } from './helpers/python';

interface TrlOut {
  trl_version: string;
  tokenizer: { eos_token: string; pad_token_id: number };
  batch_size: number;
  settings: {
    max_length: number | null;
    truncation_mode: TruncationMode;
    examples: { row: number; prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[] }[];
    batches: { input_ids: number[][]; attention_mask: number[][]; completion_mask: number[][] }[];
  }[];
}

const rows2d = (flat: ArrayLike<number>, rows: number, T: number) =>
  Array.from({ length: rows }, (_, s) => Array.from(flat).slice(s * T, (s + 1) * T));

async function trlTokenize(tokDir: string, data: string, settings: string[], tokenizerConfig?: string): Promise<TrlOut> {
  const out = join(tempDir('tok'), 'trl.json');
  const args = ['--tokenizer', tokDir, '--data', data, '--batch-size', '4', '--out', out, ...settings.flatMap((s) => ['--setting', s])];
  if (tokenizerConfig) args.push('--tokenizer-config', tokenizerConfig);
  await runPython('trl_tokenize.py', args);
  return JSON.parse(readFileSync(out, 'utf8'));
}

/** Asserts equality with TRL; returns how many collated sequences were truncated and pairs dropped. */
function check(tok: LoadedTokenizer, pairs: PreferencePair[], fx: TrlOut): { truncated: number; dropped: number } {
  expect(fx.trl_version).toBe('1.13.0');
  expect(tok.padId).toBe(fx.tokenizer.pad_token_id);
  let truncated = 0;
  let dropped = 0;
  for (const st of fx.settings) {
    const label = `max_length=${st.max_length} ${st.truncation_mode}`;
    const opts = { maxLength: st.max_length, truncationMode: st.truncation_mode };
    const { examples } = tokenizeDataset(tok, pairs, opts);
    dropped += pairs.length - st.examples.length;
    expect(examples.map((e) => e.row), `${label}: kept rows`).toEqual(st.examples.map((e) => e.row));
    st.examples.forEach((want, i) => {
      const got = examples[i];
      expect([got.promptIds, got.chosenIds, got.rejectedIds], `${label} row ${want.row}`).toEqual([want.prompt_ids, want.chosen_ids, want.rejected_ids]);
    });
    st.batches.forEach((want, b) => {
      const chunk = examples.slice(b * fx.batch_size, (b + 1) * fx.batch_size);
      const batch = collate(chunk, tok.padId, opts);
      const rows = 2 * chunk.length;
      expect(rows2d(batch.inputIds, rows, batch.T), `${label} batch ${b} input_ids`).toEqual(want.input_ids);
      expect(rows2d(batch.completionMask, rows, batch.T), `${label} batch ${b} completion_mask`).toEqual(want.completion_mask);
      expect(rows2d(batch.attentionMask, rows, batch.T), `${label} batch ${b} attention_mask`).toEqual(want.attention_mask);
      chunk.forEach((e) => {
        if (e.promptIds.length + e.chosenIds.length > batch.T) truncated++;
      });
    });
  }
  return { truncated, dropped };
}

const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');

describe('tokenization parity with TRL 1.13 (live)', () => {
  let hh = '';
  let bpeDir = '';
  beforeAll(async () => {
    venvPython();
    hh = hhPairsFile(64, 400, 1500);
    bpeDir = await tinyModel('qwen3');
  }, 120_000);

  it('64 HH-RLHF pairs, GPT-2 tokenizer: none, keep_start 128 / 64, keep_end 96', async () => {
    const gptDir = join(sharedDir(), 'data', 'gpt2-tokenizer');
    const fx = await trlTokenize(gptDir, hh, ['none:keep_start', '128:keep_start', '64:keep_start', '96:keep_end']);
    const ds = await loadPreferenceDataset(readFileSync(hh));
    expect(ds.pairs.length).toBe(64);
    const r = check(loadTokenizer({ tokenizerJson: read(gptDir, 'tokenizer.json') }), ds.pairs, fx);
    expect(r.truncated).toBeGreaterThan(20); // the settings really truncate
    expect(r.dropped).toBeGreaterThan(0); // and keep_start drops prompts longer than max_length
  }, 120_000);

  it("64 HH-RLHF pairs, the tiny models' own byte-level BPE: keep_start 80, keep_end 48", async () => {
    const fx = await trlTokenize(bpeDir, hh, ['80:keep_start', '48:keep_end']);
    const ds = await loadPreferenceDataset(readFileSync(hh));
    const tok = loadTokenizer({ tokenizerJson: read(bpeDir, 'tokenizer.json'), tokenizerConfig: read(bpeDir, 'tokenizer_config.json') });
    const r = check(tok, ds.pairs, fx);
    expect(fx.tokenizer.eos_token).toBe('<|im_end|>');
    expect(r.truncated).toBeGreaterThan(20);
  }, 120_000);

  it('conversational pairs through chat templates (ChatML BPE and GPT-2 + template), with truncation', async () => {
    // the fixture's 5 conversations, repeated with variations so there are several batches
    const base = readFileSync('test/fixtures/prefs-conversational-tiny.jsonl', 'utf8').split('\n').filter(Boolean);
    const lines: string[] = [];
    for (let k = 0; k < 3; k++) {
      for (const l of base) {
        const r = JSON.parse(l);
        r.chosen[0].content += k ? ` (take ${k})` : '';
        lines.push(JSON.stringify(r));
      }
    }
    const data = join(tempDir('conv'), 'conv.jsonl');
    writeFileSync(data, `${lines.join('\n')}\n`);
    const ds = await loadPreferenceDataset(readFileSync(data));
    expect(ds.format).toBe('conversational');

    const fx = await trlTokenize(bpeDir, data, ['none:keep_start', '40:keep_start', '30:keep_end']);
    const bpe = loadTokenizer({ tokenizerJson: read(bpeDir, 'tokenizer.json'), tokenizerConfig: read(bpeDir, 'tokenizer_config.json') });
    const r1 = check(bpe, ds.pairs, fx);
    expect(r1.truncated).toBeGreaterThan(0);

    const gptDir = join(sharedDir(), 'data', 'gpt2-tokenizer');
    const cfg = 'test/fixtures/gpt2-chat-tokenizer_config.json';
    const fx2 = await trlTokenize(gptDir, data, ['none:keep_start', '48:keep_start'], cfg);
    const gpt2chat = loadTokenizer({ tokenizerJson: read(gptDir, 'tokenizer.json'), tokenizerConfig: readFileSync(cfg, 'utf8') });
    check(gpt2chat, ds.pairs, fx2);
  }, 180_000);
});
