// Tokenization and collation compared with TRL 1.13's own output. The expected ids were produced once by
// scripts/py/trl_tokenize.py (the real DPOTrainer._prepare_dataset and DataCollatorForPreference) and
// committed under test/fixtures; the live Python parity test runs the script itself.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPreferenceDataset, type PreferencePair } from '../src/data/index';
import { collate, tokenizeDataset, tokenizePair, TokenizeError, type TruncationMode } from '../src/dpo/tokenize';
import { loadTokenizer, TokenizerError } from '../src/model/tokenizer';

const GPT2_JSON = readFileSync('/work/shared/data/gpt2-tokenizer/tokenizer.json', 'utf8');
const CHAT_CONFIG = readFileSync('test/fixtures/gpt2-chat-tokenizer_config.json', 'utf8');
const gpt2 = loadTokenizer({ tokenizerJson: GPT2_JSON });
const gpt2chat = loadTokenizer({ tokenizerJson: GPT2_JSON, tokenizerConfig: CHAT_CONFIG });

interface TrlExample {
  row: number;
  prompt: unknown;
  chosen: unknown;
  rejected: unknown;
  prompt_ids: number[];
  chosen_ids: number[];
  rejected_ids: number[];
}
interface TrlFixture {
  trl_version: string;
  tokenizer: { eos_token: string; pad_token_id: number };
  batch_size: number;
  settings: {
    max_length: number | null;
    truncation_mode: TruncationMode;
    examples: TrlExample[];
    batches: { input_ids: number[][]; attention_mask: number[][]; completion_mask: number[][] }[];
  }[];
}

function rows2d(flat: ArrayLike<number>, rows: number, T: number): number[][] {
  return Array.from({ length: rows }, (_, s) => Array.from(flat).slice(s * T, (s + 1) * T));
}

/** Our pipeline on `pairs` against one TRL fixture, setting by setting, pair by pair, batch by batch. */
function checkAgainstTrl(tok: ReturnType<typeof loadTokenizer>, pairs: PreferencePair[], fx: TrlFixture) {
  expect(fx.trl_version).toBe('1.13.0');
  expect(tok.padId).toBe(fx.tokenizer.pad_token_id);
  let truncatedSeqs = 0;
  for (const st of fx.settings) {
    const label = `max_length=${st.max_length} ${st.truncation_mode}`;
    const opts = { maxLength: st.max_length, truncationMode: st.truncation_mode };
    const { examples, skipped } = tokenizeDataset(tok, pairs, opts);
    expect(examples.map((e) => e.row), label).toEqual(st.examples.map((e) => e.row));
    expect(skipped.length, label).toBe(pairs.length - st.examples.length);
    for (const s of skipped) expect(s.reason).toBe('too-long');
    st.examples.forEach((want, i) => {
      const pair = pairs.find((p) => p.row === want.row)!;
      // The texts TRL tokenized: its extracted prompt, and completions with EOS appended (text data).
      expect(pair.prompt, `${label} row ${want.row} prompt`).toEqual(want.prompt);
      const eos = pair.kind === 'standard' ? fx.tokenizer.eos_token : '';
      expect(pair.kind === 'standard' ? pair.chosen + eos : pair.chosen).toEqual(want.chosen);
      expect(pair.kind === 'standard' ? pair.rejected + eos : pair.rejected).toEqual(want.rejected);
      expect(examples[i].promptIds, `${label} row ${want.row}`).toEqual(want.prompt_ids);
      expect(examples[i].chosenIds, `${label} row ${want.row}`).toEqual(want.chosen_ids);
      expect(examples[i].rejectedIds, `${label} row ${want.row}`).toEqual(want.rejected_ids);
    });
    st.batches.forEach((want, b) => {
      const chunk = examples.slice(b * fx.batch_size, (b + 1) * fx.batch_size);
      const batch = collate(chunk, tok.padId, opts);
      const rows = 2 * chunk.length;
      expect(batch.N).toBe(chunk.length);
      expect(batch.T, `${label} batch ${b}`).toBe(want.input_ids[0].length);
      expect(rows2d(batch.inputIds, rows, batch.T), `${label} batch ${b}`).toEqual(want.input_ids);
      expect(rows2d(batch.completionMask, rows, batch.T), `${label} batch ${b}`).toEqual(want.completion_mask);
      expect(rows2d(batch.attentionMask, rows, batch.T), `${label} batch ${b}`).toEqual(want.attention_mask);
      chunk.forEach((e, i) => {
        if (e.promptIds.length + e.chosenIds.length > batch.seqLens[i]) truncatedSeqs++;
      });
    });
  }
  return truncatedSeqs;
}

describe('TRL-identical tokenization', () => {
  it('8 HH-RLHF pairs with the GPT-2 tokenizer, no truncation, keep_start 256/128, keep_end 128/64', async () => {
    const fx = JSON.parse(readFileSync('test/fixtures/trl-tokenize-hh-gpt2.json', 'utf8')) as TrlFixture;
    const ds = await loadPreferenceDataset(readFileSync('/work/shared/data/hh-rlhf-harmless-base-test.jsonl.gz'));
    const pairs = ds.pairs.slice(0, 8);
    expect(gpt2.eosId).toBe(50256);
    const truncated = checkAgainstTrl(gpt2, pairs, fx);
    // The fixture really exercises truncation and the keep_start drop of over-long prompts.
    expect(truncated).toBeGreaterThan(10);
    expect(fx.settings.find((s) => s.max_length === 128 && s.truncation_mode === 'keep_start')!.examples.length).toBe(3);
    // Row 7 shares "D" of both answers: TRL puts it in the prompt, and the prompt's tokens are then not
    // a prefix of prompt+completion's; the split stays at len(prompt_ids), as in TRL.
    expect(tokenizePair(gpt2, pairs[6]).prefixMismatch).toBe(true);
  });

  it('conversational pairs with a chat template (explicit prompt)', async () => {
    const fx = JSON.parse(readFileSync('test/fixtures/trl-tokenize-conversational-gpt2chat.json', 'utf8')) as TrlFixture;
    const ds = await loadPreferenceDataset(readFileSync('test/fixtures/prefs-conversational-tiny.jsonl'));
    expect(ds.format).toBe('conversational');
    checkAgainstTrl(gpt2chat, ds.pairs, fx);
  });

  it('conversational pairs with the prompt inside chosen/rejected', async () => {
    const fx = JSON.parse(readFileSync('test/fixtures/trl-tokenize-implicit-conversational-gpt2chat.json', 'utf8')) as TrlFixture;
    const ds = await loadPreferenceDataset(readFileSync('test/fixtures/prefs-implicit-conversational-tiny.jsonl'));
    expect(ds.format).toBe('implicit-conversational');
    checkAgainstTrl(gpt2chat, ds.pairs, fx);
  });
});

describe('collate', () => {
  const ex = [
    { promptIds: [1, 2, 3], chosenIds: [4, 5], rejectedIds: [6] },
    { promptIds: [7, 8], chosenIds: [9], rejectedIds: [10, 11] },
  ];
  it("matches DataCollatorForPreference's documented example", () => {
    const b = collate(ex, 0);
    expect([b.N, b.T]).toEqual([2, 5]);
    expect(rows2d(b.inputIds, 4, 5)).toEqual([
      [1, 2, 3, 4, 5],
      [7, 8, 9, 0, 0],
      [1, 2, 3, 6, 0],
      [7, 8, 10, 11, 0],
    ]);
    expect(rows2d(b.completionMask, 4, 5)).toEqual([
      [0, 0, 0, 1, 1],
      [0, 0, 1, 0, 0],
      [0, 0, 0, 1, 0],
      [0, 0, 1, 1, 0],
    ]);
    expect(Array.from(b.seqLens)).toEqual([5, 3, 4, 4]);
  });
  it('truncates each sequence: keep_start keeps the head, keep_end the tail (cutting the prompt)', () => {
    const s = collate(ex, 99, { maxLength: 3, truncationMode: 'keep_start' });
    expect(rows2d(s.inputIds, 4, s.T)).toEqual([
      [1, 2, 3],
      [7, 8, 9],
      [1, 2, 3],
      [7, 8, 10],
    ]);
    expect(rows2d(s.completionMask, 4, s.T)).toEqual([
      [0, 0, 0],
      [0, 0, 1],
      [0, 0, 0],
      [0, 0, 1],
    ]);
    const e = collate(ex, 99, { maxLength: 3, truncationMode: 'keep_end' });
    expect(rows2d(e.inputIds, 4, e.T)).toEqual([
      [3, 4, 5],
      [7, 8, 9],
      [2, 3, 6],
      [8, 10, 11],
    ]);
    expect(rows2d(e.completionMask, 4, e.T)).toEqual([
      [0, 1, 1],
      [0, 0, 1],
      [0, 0, 1],
      [0, 1, 1],
    ]);
    const m = collate(ex, 99, { padToMultipleOf: 4 });
    expect(m.T).toBe(8);
    expect(m.inputIds[7]).toBe(99);
  });
  it('refuses bad options and empty batches with a sentence', () => {
    expect(() => collate([], 0)).toThrow(TokenizeError);
    expect(() => collate(ex, 0, { maxLength: 0 })).toThrow(/max_length/);
    expect(() => collate(ex, 0, { truncationMode: 'keep_middle' as TruncationMode })).toThrow(/truncation_mode/);
  });
});

describe('tokenizer and options beyond TRL', () => {
  const pair: PreferencePair = { kind: 'standard', row: 1, prompt: 'Question: is the sky blue?\nAnswer:', chosen: ' Yes.', rejected: ' No.' };

  it('EOS is appended once; maxPromptLength keeps the last prompt tokens', () => {
    const t = tokenizePair(gpt2, pair);
    expect(t.chosenIds.at(-1)).toBe(50256);
    expect(gpt2.decode(t.chosenIds)).toBe(' Yes.<|endoftext|>');
    const again = tokenizePair(gpt2, { ...pair, chosen: ' Yes.<|endoftext|>' });
    expect(again.chosenIds).toEqual(t.chosenIds);
    const cut = tokenizePair(gpt2, pair, { maxPromptLength: 3 });
    expect(cut.promptIds).toEqual(t.promptIds.slice(-3));
    expect(cut.chosenIds).toEqual(t.chosenIds);
    expect(() => tokenizePair(gpt2, pair, { maxPromptLength: -1 })).toThrow(/max_prompt_length/);
    // keep_end never drops a pair; keep_start drops it when the prompt fills max_length.
    const n = t.promptIds.length;
    expect(tokenizeDataset(gpt2, [pair], { maxLength: n, truncationMode: 'keep_end' }).examples.length).toBe(1);
    expect(tokenizeDataset(gpt2, [pair], { maxLength: n, truncationMode: 'keep_start' }).skipped[0].reason).toBe('too-long');
    expect(tokenizeDataset(gpt2, [pair], { maxLength: n + 1 }).examples.length).toBe(1);
  });

  it('special tokens, round trip, pad fallback to EOS, and typed errors', () => {
    expect([gpt2.bosId, gpt2.eosId, gpt2.padId, gpt2.padToken, gpt2.vocabSize]).toEqual([50256, 50256, 50256, null, 50257]);
    expect(gpt2.encode('Hello world<|endoftext|>')).toEqual([15496, 995, 50256]);
    expect(gpt2.decode(gpt2.encode(' naïve café 🎨 test'))).toBe(' naïve café 🎨 test');
    const cfg = JSON.stringify({ eos_token: { content: '<|endoftext|>' }, pad_token: '!' });
    const padded = loadTokenizer({ tokenizerJson: GPT2_JSON, tokenizerConfig: cfg });
    expect([padded.eosId, padded.padId]).toEqual([50256, 0]);
    expect(() => loadTokenizer({ tokenizerJson: '{oops' })).toThrow(TokenizerError);
    expect(() => loadTokenizer({ tokenizerJson: '{}' })).toThrow(/no "model"/);
    expect(() => loadTokenizer({ tokenizerJson: GPT2_JSON, tokenizerConfig: JSON.stringify({ eos_token: '<nope>' }) })).toThrow(/not in the vocabulary/);
    expect(() => gpt2.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/no chat template/);
    expect(gpt2chat.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true })).toBe(
      '<|endoftext|><|user|>\nhi<|endoftext|>\n<|assistant|>\n',
    );
  });
});
