// Builds every file of the demo world from a seed: the pretraining corpus, the tokenizer and the
// prompt sets. Pure and deterministic; scripts/demo/build-world.ts writes the result to public/demo/.

import { generatePrompts, generateReview, splitTokens } from './grammar';
import {
  ADJECTIVES_NEG, ADJECTIVES_NEUTRAL, ADJECTIVES_POS, FEELINGS_NEG, FEELINGS_POS, NOUNS_NEG, NOUNS_POS,
  SENTENCE_ADVERBS_NEG, SENTENCE_ADVERBS_POS, SENTIMENT, VERBS_NEG, VERBS_POS,
} from './lexicon';
import { buildVocab, tokenizerConfigJson, tokenizerJson } from './tokenizer';

export const DEMO_SEED = 1234;

export interface WorldOptions {
  readonly seed: number;
  /** number of reviews in corpus.txt */
  readonly texts: number;
  readonly trainPrompts: number;
  readonly heldOutPrompts: number;
  /** tokenizer_config.json model_max_length */
  readonly modelMaxLength: number;
}

export const DEFAULT_WORLD: WorldOptions = {
  seed: DEMO_SEED, texts: 20000, trainPrompts: 4096, heldOutPrompts: 256, modelMaxLength: 128,
};

/** File name (under public/demo/) -> contents. */
export type WorldFiles = Record<string, string>;

/** The reviews of the corpus, one per line in corpus.txt. */
export function corpusTexts(seed: number, start: number, end: number): string[] {
  const out: string[] = [];
  for (let i = start; i < end; i++) out.push(generateReview(seed, i).text);
  return out;
}

/** Every word with a fixed role in the lexicon, so the vocabulary never depends on luck of the draw. */
function lexiconWords(): string[] {
  return [
    ...Object.keys(SENTIMENT), ...ADJECTIVES_POS, ...ADJECTIVES_NEG, ...ADJECTIVES_NEUTRAL,
    ...NOUNS_POS, ...NOUNS_NEG, ...VERBS_POS, ...VERBS_NEG, ...FEELINGS_POS, ...FEELINGS_NEG,
    ...SENTENCE_ADVERBS_POS, ...SENTENCE_ADVERBS_NEG,
  ];
}

export function buildWorld(opts: WorldOptions = DEFAULT_WORLD): WorldFiles {
  const { seed } = opts;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`The demo world seed must be an integer in [0, 2^32), got ${seed}.`);
  }
  const texts = corpusTexts(seed, 0, opts.texts);
  const prompts = generatePrompts(seed, opts.trainPrompts, opts.heldOutPrompts);
  const words = new Set<string>(lexiconWords());
  for (const t of [...texts, ...prompts.train, ...prompts.heldOut]) {
    for (const tok of splitTokens(t)) if (/^\w+$/.test(tok)) words.add(tok);
  }
  const vocab = buildVocab(words);
  const json = (v: unknown): string => `${JSON.stringify(v, null, 1)}\n`;
  return {
    'corpus.txt': `${texts.join('\n')}\n`,
    'tokenizer.json': json(tokenizerJson(vocab)),
    'tokenizer_config.json': json(tokenizerConfigJson(vocab, opts.modelMaxLength)),
    'prompts-train.json': json(prompts.train),
    'prompts-heldout.json': json(prompts.heldOut),
  };
}
