// The demo's text world: the generator is deterministic and matches the committed files, the reward is
// exact, and the shipped tokenizer round-trips the corpus through @huggingface/tokenizers.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import {
  buildVocab, buildWorld, corpusTexts, DEFAULT_WORLD, EXAMPLE_PROMPTS, generateReview, isHeldOut,
  sentimentColor, sentimentSegments, SENTIMENT, splitTokens, trueReward, wordSentiment,
} from '../src/demo';
import {
  ADJECTIVES_NEG, ADJECTIVES_NEUTRAL, ADJECTIVES_POS, FEELINGS_NEG, FEELINGS_POS, NOUNS_NEG, NOUNS_POS,
  VERBS_NEG, VERBS_POS,
} from '../src/demo/lexicon';

const DEMO = join(__dirname, '..', 'public', 'demo');
const read = (name: string): string => readFileSync(join(DEMO, name), 'utf8');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const corpusLines = (): string[] => read('corpus.txt').trimEnd().split('\n');

describe('demo world generator', () => {
  const small = { ...DEFAULT_WORLD, texts: 300, trainPrompts: 64, heldOutPrompts: 16 };

  it('is deterministic: same seed gives the same files, another seed different ones', () => {
    const a = buildWorld(small);
    const b = buildWorld(small);
    expect(sha256(a['corpus.txt']!)).toBe(sha256(b['corpus.txt']!));
    expect(a).toEqual(b);
    const c = buildWorld({ ...small, seed: small.seed + 1 });
    expect(sha256(c['corpus.txt']!)).not.toBe(sha256(a['corpus.txt']!));
    expect(c['prompts-heldout.json']).not.toBe(a['prompts-heldout.json']);
    // a text can be regenerated on its own, independent of the others
    expect(generateReview(small.seed, 123).text).toBe(a['corpus.txt']!.split('\n')[123]);
  });

  it('the committed public/demo files are exactly what the script produces from the seed', () => {
    const manifest = JSON.parse(read('world.json')) as typeof DEFAULT_WORLD & { sha256: Record<string, string> };
    expect({ ...manifest, sha256: undefined, vocabSize: undefined }).toEqual({ ...DEFAULT_WORLD, sha256: undefined, vocabSize: undefined });
    const lines = corpusLines();
    expect(lines.length).toBe(DEFAULT_WORLD.texts);
    // a regenerated slice, text by text
    expect(lines.slice(4321, 4400)).toEqual(corpusTexts(DEFAULT_WORLD.seed, 4321, 4400));
    // and every file in full, by checksum
    const files = buildWorld(DEFAULT_WORLD);
    expect(Object.keys(manifest.sha256).sort()).toEqual(Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) {
      expect(sha256(read(name)), name).toBe(manifest.sha256[name]);
      expect(sha256(text), name).toBe(manifest.sha256[name]);
    }
  });

  it('texts are varied, 20-40 words, with mixed sentiment', () => {
    const reviews = Array.from({ length: 3000 }, (_, i) => generateReview(DEFAULT_WORLD.seed, i));
    expect(new Set(reviews.map((r) => r.text)).size).toBeGreaterThanOrEqual(2990);
    expect(new Set(reviews.map((r) => r.prompt)).size).toBeGreaterThan(1000);
    for (const r of reviews) {
      const words = r.tokens.filter((t) => /^\w+$/.test(t)).length;
      expect(words).toBeGreaterThanOrEqual(20);
      expect(words).toBeLessThanOrEqual(40);
      expect(r.text).toBe(r.text.toLowerCase());
      expect(r.text.startsWith(`${r.prompt} `)).toBe(true);
    }
    const rewards = reviews.map((r) => trueReward(r.tokens.slice(r.promptTokens)));
    // the completions (text after the opening) of seed 1234 reach about +-0.22; neutral words dilute the mean
    const share = (pred: (x: number) => boolean): number => rewards.filter(pred).length / rewards.length;
    expect(share((x) => x > 0.05)).toBeGreaterThan(0.25);
    expect(share((x) => x < -0.05)).toBeGreaterThan(0.25);
    expect(share((x) => x > 0.1)).toBeGreaterThan(0.08);
    expect(share((x) => x < -0.1)).toBeGreaterThan(0.08);
    expect(Math.max(...rewards)).toBeGreaterThan(0.18);
    expect(Math.min(...rewards)).toBeLessThan(-0.18);
  });

  it('prompts: neutral openings, train and held-out disjoint, held-out never opens a corpus text', () => {
    const train = JSON.parse(read('prompts-train.json')) as string[];
    const heldOut = JSON.parse(read('prompts-heldout.json')) as string[];
    expect(train.length).toBe(DEFAULT_WORLD.trainPrompts);
    expect(heldOut.length).toBe(DEFAULT_WORLD.heldOutPrompts);
    expect(new Set(train).size).toBe(train.length);
    expect(new Set(heldOut).size).toBe(heldOut.length);
    const held = new Set(heldOut);
    expect(train.filter((p) => held.has(p))).toEqual([]);
    expect(train.slice(0, EXAMPLE_PROMPTS.length)).toEqual([...EXAMPLE_PROMPTS]);
    for (const p of heldOut) expect(isHeldOut(DEFAULT_WORLD.seed, p)).toBe(true);
    for (const p of [...train, ...heldOut]) expect(trueReward(p), p).toBe(0);
    const lines = corpusLines();
    for (let i = 0; i < lines.length; i++) {
      const opening = generateReview(DEFAULT_WORLD.seed, i).prompt;
      expect(held.has(opening)).toBe(false);
    }
    expect(heldOut.filter((p) => lines.some((l) => l.startsWith(`${p} `)))).toEqual([]);
  });

  it('refuses a bad seed and a bad vocabulary word with a sentence', () => {
    expect(() => buildWorld({ ...small, seed: -1 })).toThrow(/seed must be an integer/);
    expect(() => buildVocab(['good', 'Bad'])).toThrow(/not a lower-case word/);
  });
});

describe('true reward r*', () => {
  it('scores single words from the table, case-insensitively; everything else is 0', () => {
    expect(wordSentiment('great')).toBe(0.8);
    expect(wordSentiment('Great')).toBe(0.8);
    expect(wordSentiment('terrible')).toBe(-0.9);
    expect(wordSentiment('masterpiece')).toBe(1);
    expect(wordSentiment('worst')).toBe(-1);
    expect(wordSentiment('movie')).toBe(0);
    expect(wordSentiment('zebra')).toBe(0);
    expect(wordSentiment(',')).toBe(0);
    expect(wordSentiment('constructor')).toBe(0); // not an Object.prototype key
  });

  it('is the mean over words on hand-written completions', () => {
    expect(trueReward('the movie was great.')).toBeCloseTo(0.8 / 4, 12);
    expect(trueReward(' it was terrible, i hated it!')).toBeCloseTo((-0.9 - 0.9) / 6, 12);
    expect(trueReward('the plot was dull but the music was lovely.')).toBeCloseTo((-0.6 + 0.7) / 9, 12);
    expect(trueReward('perfect!')).toBe(1);
    expect(trueReward(' what a mess! i fell asleep twice.')).toBeCloseTo((-0.7 - 0.4) / 7, 12);
    expect(trueReward('')).toBe(0);
    expect(trueReward('. , !')).toBe(0);
    expect(trueReward('<|endoftext|>')).toBe(0);
    expect(trueReward(' great<|endoftext|><|endoftext|>')).toBe(0.8);
    expect(trueReward(['i', 'loved', 'it', '.', '<|endoftext|>'])).toBeCloseTo(0.8 / 3, 12);
    expect(trueReward(['so', '<unk>', 'good'])).toBeCloseTo(0.5 / 2, 12);
  });

  it('word lists agree with the score table', () => {
    for (const [w, s] of Object.entries(SENTIMENT)) {
      expect(s, w).toBeGreaterThanOrEqual(-1);
      expect(s, w).toBeLessThanOrEqual(1);
      expect(s, w).not.toBe(0);
    }
    for (const w of [...ADJECTIVES_POS, ...NOUNS_POS, ...VERBS_POS, ...FEELINGS_POS]) expect(wordSentiment(w), w).toBeGreaterThan(0);
    for (const w of [...ADJECTIVES_NEG, ...NOUNS_NEG, ...VERBS_NEG, ...FEELINGS_NEG]) expect(wordSentiment(w), w).toBeLessThan(0);
    for (const w of ADJECTIVES_NEUTRAL) expect(wordSentiment(w), w).toBe(0);
  });

  it('segments keep every character and color words by sign', () => {
    const text = 'the acting was superb, the plot was dull!';
    const segs = sentimentSegments(text);
    expect(segs.map((s) => s.text).join('')).toBe(text);
    expect(segs.filter((s) => s.isWord).map((s) => s.sentiment)).toEqual([0, 0, 0, 0.9, 0, 0, 0, -0.6]);
    expect(sentimentColor(0)).toBe('transparent');
    expect(sentimentColor(0.9)).toMatch(/^rgba\(34, 160, 80, 0\.\d+\)$/);
    expect(sentimentColor(-0.6)).toMatch(/^rgba\(220, 50, 50, 0\.\d+\)$/);
  });
});

describe('demo tokenizer (public/demo/tokenizer.json)', () => {
  const tokenizer = new Tokenizer(JSON.parse(read('tokenizer.json')), JSON.parse(read('tokenizer_config.json')));
  const vocab = (JSON.parse(read('tokenizer.json')) as { model: { vocab: Record<string, number> } }).model.vocab;
  const UNK = vocab['<unk>']!;

  it('has a few hundred tokens, <|endoftext|> and <unk>, and every score-table word', () => {
    const size = Object.keys(vocab).length;
    expect(size).toBeGreaterThan(300);
    expect(size).toBeLessThan(1000);
    expect(vocab['<|endoftext|>']).toBe(0);
    expect(UNK).toBe(1);
    for (const w of Object.keys(SENTIMENT)) expect(vocab[w], w).toBeTypeOf('number');
    expect(tokenizer.encode('zebra').ids).toEqual([UNK]);
    expect(tokenizer.encode('The Movie was GREAT.').ids).toEqual(tokenizer.encode('the movie was great.').ids);
  });

  it('round-trips the whole corpus, one token per word or mark, no <unk>, every word used', () => {
    const used = new Set<number>();
    for (const line of corpusLines()) {
      const { ids, tokens } = tokenizer.encode(line);
      expect(ids.includes(UNK), line).toBe(false);
      expect(tokens).toEqual(splitTokens(line));
      expect(tokenizer.decode(ids)).toBe(line);
      for (const id of ids) used.add(id);
    }
    // every id except <|endoftext|> and <unk> appears, so no embedding row goes untrained
    expect(used.size).toBe(Object.keys(vocab).length - 2);
  });

  it('a prompt tokenizes as a prefix of prompt + completion', () => {
    for (let i = 0; i < 200; i++) {
      const r = generateReview(DEFAULT_WORLD.seed, i);
      const p = tokenizer.encode(r.prompt).ids;
      const full = tokenizer.encode(r.text).ids;
      expect(full.slice(0, p.length)).toEqual(p);
      expect(p.length).toBe(r.promptTokens);
    }
    for (const p of JSON.parse(read('prompts-heldout.json')) as string[]) {
      expect(tokenizer.encode(p).ids.includes(UNK), p).toBe(false);
    }
  });
});
