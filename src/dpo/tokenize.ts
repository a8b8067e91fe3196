// Tokenization and batching exactly as TRL 1.13's DPOTrainer does it (trl/trainer/dpo_trainer.py,
// `_prepare_dataset` and `DataCollatorForPreference`):
//
// 1. Text (standard) pairs: EOS is appended to chosen and rejected unless they already end with it
//    (as a string, before tokenization). Conversational pairs get no EOS (the template decides).
// 2. prompt_ids = tok(prompt); prompt+chosen and prompt+rejected are tokenized as ONE text each, and the
//    completion ids are what follows the first len(prompt_ids) tokens. For conversations the three are
//    rendered with the chat template (the prompt with add_generation_prompt=True) and tokenized without
//    special tokens. Text goes through tok(text), i.e. with the post-processor's special tokens (BOS for
//    Llama-style tokenizers, nothing for GPT-2 and Qwen).
// 3. With max_length and truncation_mode "keep_start", pairs whose prompt alone has >= max_length tokens
//    are dropped from the dataset.
// 4. The collator concatenates prompt+completion per sequence, truncates each sequence to max_length
//    (keep_start: the first max_length tokens; keep_end: the last max_length, which may cut the prompt's
//    start), and right-pads to the longest sequence of the batch. Chosen sequences first, then rejected.
//
// Beyond TRL 1.13 (which dropped it in 0.29): `maxPromptLength` keeps only the last maxPromptLength prompt
// tokens, as TRL <= 0.28 did, before step 3. Off by default, so the default behaviour is TRL 1.13's.
import type { PreferencePair, SkippedRow, UnpairedPreference } from '../data/types';
import type { LoadedTokenizer } from '../model/tokenizer';

export type TruncationMode = 'keep_start' | 'keep_end';

export class TokenizeError extends Error {
  override name = 'TokenizeError';
}

export interface TokenizeOptions {
  /** Longest sequence (prompt + completion) in tokens; null = no truncation. TRL's default is 1024. */
  maxLength?: number | null;
  /** TRL's truncation_mode; default "keep_start" (TRL 1.13's default). */
  truncationMode?: TruncationMode;
  /** Ours (TRL <= 0.28 semantics): keep the last N prompt tokens. Undefined/null = off (TRL 1.13). */
  maxPromptLength?: number | null;
  /** Extra chat-template variables (TRL's chat_template_kwargs). */
  chatTemplateKwargs?: Record<string, unknown>;
}

export interface TokenizedPair {
  promptIds: number[];
  chosenIds: number[];
  rejectedIds: number[];
  /** Row of the source file, when the pair came from a dataset. */
  row?: number;
  /**
   * True when the prompt's tokens are not a prefix of prompt+completion's tokens (TRL logs a warning;
   * the split is still at len(prompt_ids)).
   */
  prefixMismatch?: boolean;
  /**
   * Set on an example of TRL's unpaired format (KTO only): true = desirable. Its completion is chosenIds and
   * rejectedIds is empty until the trainer attaches its KL completion (src/dpo/kto-data.ts).
   */
  label?: boolean;
}

/** An unpaired example as KTOTrainer tokenizes it (tokenizeUnpairedDataset). */
export interface TokenizedUnpaired extends TokenizedPair {
  label: boolean;
}

export const TRL_DEFAULT_MAX_LENGTH = 1024;

function checkOptions(opts: TokenizeOptions): { maxLength: number | null; mode: TruncationMode } {
  const maxLength = opts.maxLength === undefined ? TRL_DEFAULT_MAX_LENGTH : opts.maxLength;
  if (maxLength !== null && !(Number.isInteger(maxLength) && maxLength > 0))
    throw new TokenizeError(`max_length must be a positive whole number of tokens or null, not ${maxLength}.`);
  const mode = opts.truncationMode ?? 'keep_start';
  if (mode !== 'keep_start' && mode !== 'keep_end')
    throw new TokenizeError(`truncation_mode must be "keep_start" or "keep_end", not "${String(mode)}".`);
  const mpl = opts.maxPromptLength;
  if (mpl !== undefined && mpl !== null && !(Number.isInteger(mpl) && mpl > 0))
    throw new TokenizeError(`max_prompt_length must be a positive whole number of tokens or null, not ${mpl}.`);
  return { maxLength, mode };
}

function isPrefix(prefix: number[], ids: number[]): boolean {
  if (prefix.length > ids.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== ids[i]) return false;
  return true;
}

/** Tokenizes one pair as TRL's `_prepare_dataset` does (steps 1-2 above), then applies maxPromptLength if set. */
export function tokenizePair(tok: LoadedTokenizer, pair: PreferencePair, opts: TokenizeOptions = {}): TokenizedPair {
  checkOptions(opts);
  let promptIds: number[];
  let pc: number[];
  let pr: number[];
  if (pair.kind === 'conversational') {
    const extra = opts.chatTemplateKwargs;
    promptIds = tok.encodeChat(pair.prompt, { addGenerationPrompt: true, extra });
    pc = tok.encodeChat([...pair.prompt, ...pair.chosen], { extra });
    pr = tok.encodeChat([...pair.prompt, ...pair.rejected], { extra });
  } else {
    const eos = tok.eosToken;
    if (eos === null) {
      throw new TokenizeError('The tokenizer has no EOS token (tokenizer_config.json names none), and TRL appends EOS to every completion; add "eos_token" to tokenizer_config.json.');
    }
    const chosen = pair.chosen.endsWith(eos) ? pair.chosen : pair.chosen + eos;
    const rejected = pair.rejected.endsWith(eos) ? pair.rejected : pair.rejected + eos;
    promptIds = tok.encode(pair.prompt);
    pc = tok.encode(pair.prompt + chosen);
    pr = tok.encode(pair.prompt + rejected);
  }
  const out: TokenizedPair = {
    promptIds,
    chosenIds: pc.slice(promptIds.length),
    rejectedIds: pr.slice(promptIds.length),
    row: pair.row,
  };
  if (!isPrefix(promptIds, pc) || !isPrefix(promptIds, pr)) out.prefixMismatch = true;
  const mpl = opts.maxPromptLength;
  if (mpl !== undefined && mpl !== null && out.promptIds.length > mpl) out.promptIds = out.promptIds.slice(-mpl);
  return out;
}

/**
 * What the tokenizer made of a dataset, for the dataset panel: how much of it is the model's unknown
 * token (a vocabulary that does not cover the text), and how many pairs tokenize differently as
 * prompt + completion than as the prompt alone (TRL logs "Mismatch between tokenized prompt and the
 * start of tokenized prompt+chosen"; the completion is then cut at the prompt's token count).
 */
export interface TokenReport {
  pairs: number;
  /** prompt + chosen + rejected token ids of every pair, as tokenized (before any truncation). */
  tokens: number;
  /** Of them, the unknown token's; 0 when the tokenizer has no unknown token of its own. */
  unknownTokens: number;
  /** The unknown token's text; null when there is none, or it is the EOS token (GPT-2's <|endoftext|>), which byte-level BPE never needs. */
  unknownToken: string | null;
  prefixMismatchPairs: number;
}

/** Adds two reports (train and eval splits). */
export function mergeTokenReports(a: TokenReport, b: TokenReport): TokenReport {
  return {
    pairs: a.pairs + b.pairs,
    tokens: a.tokens + b.tokens,
    unknownTokens: a.unknownTokens + b.unknownTokens,
    unknownToken: a.unknownToken ?? b.unknownToken,
    prefixMismatchPairs: a.prefixMismatchPairs + b.prefixMismatchPairs,
  };
}

const pct = (x: number) => (x >= 0.1 ? `${Math.round(x * 100)}%` : x >= 0.001 ? `${(x * 100).toFixed(1)}%` : `${(x * 100).toPrecision(1)}%`);

/**
 * The report's warnings as sentences (what is wrong, how much, what to do); empty when the tokens are
 * fine. Unknown tokens are flagged from 1% of the tokens; prefix mismatches from the first pair.
 */
export function tokenReportNotes(r: TokenReport, vocabSize?: number): string[] {
  return tokenReportNoteCodes(r, vocabSize).map((x) => x.text);
}

/** A token-report warning: its English sentence, and the code + numbers the page says it by (tokens.<code>). */
export interface TokenNote {
  text: string;
  /** 'unknown-most' | 'unknown-some' (unknown-token share) | 'mismatch' (prompt / prompt+completion mismatch share). */
  code: string;
  /** Counts as numbers, `share` as a fraction (0..1); `token` the unknown token's text; `vocab` 0 when not known. */
  params: Record<string, string | number>;
}

/** The report's warnings (as tokenReportNotes) with their codes and numbers. */
export function tokenReportNoteCodes(r: TokenReport, vocabSize?: number): TokenNote[] {
  const out: TokenNote[] = [];
  const n = (x: number) => x.toLocaleString('en-US');
  if (r.tokens > 0 && r.unknownToken !== null && r.unknownTokens / r.tokens >= 0.01) {
    const share = r.unknownTokens / r.tokens;
    const vocab = vocabSize ? `the model's ${n(vocabSize)}-token vocabulary` : "the model's vocabulary";
    const text =
      `${share >= 0.5 ? 'Most' : 'Some'} of this dataset is outside ${vocab}: ${pct(share)} of its tokens (${n(r.unknownTokens)} of ${n(r.tokens)}) ` +
        `are the unknown token ${r.unknownToken}, so DPO would learn from placeholders instead of the words. ` +
      "Use a model whose tokenizer covers this text (GPT-2, Llama or Qwen tokenizers have no unknown tokens), or data written in the model's own words.";
    out.push({ text, code: share >= 0.5 ? 'unknown-most' : 'unknown-some', params: { share, unknown: r.unknownTokens, tokens: r.tokens, token: r.unknownToken, vocab: vocabSize ?? 0 } });
  }
  if (r.pairs > 0 && r.prefixMismatchPairs > 0) {
    const share = r.prefixMismatchPairs / r.pairs;
    const text =
      `${pct(share)} of the pairs (${n(r.prefixMismatchPairs)} of ${n(r.pairs)}) tokenize differently as prompt + completion than as the prompt alone ` +
        '(TRL warns "Mismatch between tokenized prompt and the start of tokenized prompt+chosen"): their completions start at the prompt\'s token count, as in TRL, ' +
        'so their first completion token can be lost or merged with the prompt\'s last. Usually the prompt ends inside a word or with a space (an implicit prompt is the longest common text ' +
        'of chosen and rejected, which can stop mid-word): give the data a "prompt" column that ends where the answers begin, with any space at the start of the answers.';
    out.push({ text, code: 'mismatch', params: { share, mismatched: r.prefixMismatchPairs, pairs: r.pairs } });
  }
  return out;
}

/** The skipped row of a record whose prompt alone fills max_length (TRL drops it). */
function tooLong(src: { row: number; line?: number }, tokens: number, maxLength: number): SkippedRow {
  const where = src.line !== undefined ? `line ${src.line}` : `row ${src.row}`;
  return {
    row: src.row,
    line: src.line,
    reason: 'too-long',
    message: `${where}: the prompt alone is ${tokens} tokens, which fills max_length ${maxLength} and leaves no completion token`,
    code: 'too-long',
    params: { tokens, maxLength },
  };
}

/**
 * Tokenizes a dataset and drops, as TRL does under keep_start, the pairs whose prompt alone fills
 * max_length (they are returned in `skipped` with reason 'too-long').
 */
export function tokenizeDataset(
  tok: LoadedTokenizer,
  pairs: readonly PreferencePair[],
  opts: TokenizeOptions = {},
): { examples: TokenizedPair[]; skipped: SkippedRow[]; prefixMismatches: number; report: TokenReport } {
  const { maxLength, mode } = checkOptions(opts);
  const examples: TokenizedPair[] = [];
  const skipped: SkippedRow[] = [];
  let prefixMismatches = 0;
  const unk = tok.unkId !== null && tok.unkId !== tok.eosId ? tok.unkId : null;
  let tokens = 0;
  let unknown = 0;
  const count = (ids: number[]) => {
    tokens += ids.length;
    if (unk !== null) for (const id of ids) if (id === unk) unknown++;
  };
  for (const p of pairs) {
    const t = tokenizePair(tok, p, opts);
    if (t.prefixMismatch) prefixMismatches++;
    count(t.promptIds);
    count(t.chosenIds);
    count(t.rejectedIds);
    if (maxLength !== null && mode === 'keep_start' && t.promptIds.length >= maxLength) {
      skipped.push(tooLong(p, t.promptIds.length, maxLength));
      continue;
    }
    examples.push(t);
  }
  const report: TokenReport = { pairs: pairs.length, tokens, unknownTokens: unknown, unknownToken: unk !== null ? tok.unkToken : null, prefixMismatchPairs: prefixMismatches };
  return { examples, skipped, prefixMismatches, report };
}

/**
 * One unpaired example as TRL 1.13's KTOTrainer tokenizes it (_prepare_dataset): the same rules as a pair's
 * chosen side (EOS appended to a text completion unless it ends with it; conversations through the chat
 * template, the prompt with add_generation_prompt), the completion being what follows len(prompt_ids).
 */
export function tokenizeUnpaired(tok: LoadedTokenizer, ex: UnpairedPreference, opts: TokenizeOptions = {}): TokenizedUnpaired {
  checkOptions(opts);
  let promptIds: number[];
  let full: number[];
  if (ex.kind === 'conversational') {
    const extra = opts.chatTemplateKwargs;
    promptIds = tok.encodeChat(ex.prompt, { addGenerationPrompt: true, extra });
    full = tok.encodeChat([...ex.prompt, ...ex.completion], { extra });
  } else {
    const eos = tok.eosToken;
    if (eos === null) {
      throw new TokenizeError('The tokenizer has no EOS token (tokenizer_config.json names none), and TRL appends EOS to every completion; add "eos_token" to tokenizer_config.json.');
    }
    promptIds = tok.encode(ex.prompt);
    full = tok.encode(ex.prompt + (ex.completion.endsWith(eos) ? ex.completion : ex.completion + eos));
  }
  const out: TokenizedUnpaired = { promptIds, chosenIds: full.slice(promptIds.length), rejectedIds: [], label: ex.label, row: ex.row };
  if (!isPrefix(promptIds, full)) out.prefixMismatch = true;
  const mpl = opts.maxPromptLength;
  if (mpl !== undefined && mpl !== null && out.promptIds.length > mpl) out.promptIds = out.promptIds.slice(-mpl);
  return out;
}

/**
 * Tokenizes an unpaired dataset as KTOTrainer does and drops the examples whose prompt alone fills max_length
 * (KTOTrainer filters len(prompt_ids) < max_length whatever the truncation; its collator keeps the start).
 */
export function tokenizeUnpairedDataset(
  tok: LoadedTokenizer,
  examples: readonly UnpairedPreference[],
  opts: TokenizeOptions = {},
): { examples: TokenizedUnpaired[]; skipped: SkippedRow[]; prefixMismatches: number; report: TokenReport } {
  const { maxLength } = checkOptions(opts);
  const out: TokenizedUnpaired[] = [];
  const skipped: SkippedRow[] = [];
  let prefixMismatches = 0;
  const unk = tok.unkId !== null && tok.unkId !== tok.eosId ? tok.unkId : null;
  let tokens = 0;
  let unknown = 0;
  for (const e of examples) {
    const t = tokenizeUnpaired(tok, e, opts);
    if (t.prefixMismatch) prefixMismatches++;
    for (const ids of [t.promptIds, t.chosenIds]) {
      tokens += ids.length;
      if (unk !== null) for (const id of ids) if (id === unk) unknown++;
    }
    if (maxLength !== null && t.promptIds.length >= maxLength) {
      skipped.push(tooLong(e, t.promptIds.length, maxLength));
      continue;
    }
    out.push(t);
  }
  const report: TokenReport = { pairs: examples.length, tokens, unknownTokens: unknown, unknownToken: unk !== null ? tok.unkToken : null, prefixMismatchPairs: prefixMismatches };
  return { examples: out, skipped, prefixMismatches, report };
}

/** A collated batch in the fixtures' layout (see ../shared/fixtures/README.md, "How the batch is packed"). */
export interface DpoBatch {
  /** Pairs in the batch. */
  N: number;
  /** Padded sequence length (longest sequence, or its round-up to padToMultipleOf). */
  T: number;
  /** [2N * T], row s < N is prompt+chosen[s], row s >= N is prompt+rejected[s-N]; right-padded with padId. */
  inputIds: Uint32Array;
  /** [2N * T], 1 where token t of sequence s belongs to the completion. */
  completionMask: Float32Array;
  /** [2N * T], 1 on real tokens, 0 on padding. */
  attentionMask: Float32Array;
  /** [2N], real (unpadded, truncated) length of each sequence. */
  seqLens: Uint32Array;
}

export interface CollateOptions {
  maxLength?: number | null;
  truncationMode?: TruncationMode;
  padToMultipleOf?: number | null;
}

/**
 * TRL's DataCollatorForPreference: concatenation, per-sequence truncation to maxLength, right padding.
 * Defaults: no truncation here (pass the same maxLength/truncationMode as to tokenizeDataset; TRL's
 * trainer passes its max_length to both).
 */
export function collate(pairs: readonly TokenizedPair[], padId: number, opts: CollateOptions = {}): DpoBatch {
  const N = pairs.length;
  if (N === 0) throw new TokenizeError('A batch needs at least one pair.');
  const maxLength = opts.maxLength ?? null;
  if (maxLength !== null && !(Number.isInteger(maxLength) && maxLength > 0))
    throw new TokenizeError(`max_length must be a positive whole number of tokens or null, not ${maxLength}.`);
  const mode = opts.truncationMode ?? 'keep_start';
  if (mode !== 'keep_start' && mode !== 'keep_end')
    throw new TokenizeError(`truncation_mode must be "keep_start" or "keep_end", not "${String(mode)}".`);

  const seqs: { ids: number[]; mask: number[] }[] = [];
  for (const which of ['chosenIds', 'rejectedIds'] as const) {
    for (const p of pairs) {
      let ids = [...p.promptIds, ...p[which]];
      let mask = [...new Array<number>(p.promptIds.length).fill(0), ...new Array<number>(p[which].length).fill(1)];
      if (maxLength !== null && ids.length > maxLength) {
        // Python's ids[:max_length] / ids[-max_length:]
        ids = mode === 'keep_start' ? ids.slice(0, maxLength) : ids.slice(ids.length - maxLength);
        mask = mode === 'keep_start' ? mask.slice(0, maxLength) : mask.slice(mask.length - maxLength);
      }
      seqs.push({ ids, mask });
    }
  }
  let T = Math.max(...seqs.map((s) => s.ids.length));
  const m = opts.padToMultipleOf;
  if (m) T = Math.ceil(T / m) * m;
  const inputIds = new Uint32Array(2 * N * T).fill(padId);
  const completionMask = new Float32Array(2 * N * T);
  const attentionMask = new Float32Array(2 * N * T);
  const seqLens = new Uint32Array(2 * N);
  seqs.forEach((s, i) => {
    seqLens[i] = s.ids.length;
    for (let t = 0; t < s.ids.length; t++) {
      inputIds[i * T + t] = s.ids[t];
      completionMask[i * T + t] = s.mask[t];
      attentionMask[i * T + t] = 1;
    }
  });
  return { N, T, inputIds, completionMask, attentionMask, seqLens };
}
