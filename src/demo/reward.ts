// The demo's exact reward r*(text): the mean sentiment score of the words of a completion.
// Words are \w+ runs (punctuation and special tokens do not count); a word missing from the
// sentiment table scores 0. Everything here is plain TS so the page, the worker and tests share it.

import { SENTIMENT } from './lexicon';

/** Special-token strings that are never words of a text. */
export const SPECIAL_TOKENS = ['<|endoftext|>', '<unk>'] as const;

const isWord = (t: string): boolean => /^\w+$/.test(t);

/** Sentiment score of one word in [-1, 1]; 0 for neutral or unknown words and for punctuation. */
export function wordSentiment(word: string): number {
  const w = word.toLowerCase();
  return Object.hasOwn(SENTIMENT, w) ? SENTIMENT[w]! : 0;
}

/** The words of a text, lower-cased, without punctuation and special tokens. */
export function textWords(text: string): string[] {
  let t = text.toLowerCase();
  for (const s of SPECIAL_TOKENS) t = t.split(s).join(' ');
  return (t.match(/\w+/g) ?? []);
}

/**
 * r*(completion): mean of wordSentiment over the completion's words, in [-1, 1]. Accepts the text or
 * its tokens (punctuation and special tokens in a token list are skipped). No words gives 0.
 */
export function trueReward(completion: string | readonly string[]): number {
  const words = typeof completion === 'string'
    ? textWords(completion)
    : completion.filter((t) => !(SPECIAL_TOKENS as readonly string[]).includes(t) && isWord(t));
  if (words.length === 0) return 0;
  let sum = 0;
  for (const w of words) sum += wordSentiment(w);
  return sum / words.length;
}

/** A piece of text for display: a word with its score, or the spacing/punctuation between words. */
export interface SentimentSegment {
  readonly text: string;
  /** score of the word; 0 for separators */
  readonly sentiment: number;
  readonly isWord: boolean;
}

/** Cut a text into words and separators, keeping every character, for coloring words by sentiment. */
export function sentimentSegments(text: string): SentimentSegment[] {
  const out: SentimentSegment[] = [];
  let last = 0;
  for (const m of text.matchAll(/\w+/g)) {
    const i = m.index;
    if (i > last) out.push({ text: text.slice(last, i), sentiment: 0, isWord: false });
    out.push({ text: m[0], sentiment: wordSentiment(m[0]), isWord: true });
    last = i + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), sentiment: 0, isWord: false });
  return out;
}

/**
 * CSS color for a sentiment score: red for -1, transparent for 0, green for +1 (a background tint
 * whose strength is |score|).
 */
export function sentimentColor(score: number): string {
  const s = Math.max(-1, Math.min(1, score));
  if (s === 0) return 'transparent';
  const alpha = (0.15 + 0.55 * Math.abs(s)).toFixed(2);
  return s > 0 ? `rgba(34, 160, 80, ${alpha})` : `rgba(220, 50, 50, ${alpha})`;
}
