export { SENTIMENT } from './lexicon';
export { trueReward, wordSentiment, textWords, sentimentSegments, sentimentColor, SPECIAL_TOKENS } from './reward';
export type { SentimentSegment } from './reward';
export {
  generateReview, generatePrompts, drawOpening, isHeldOut, detokenize, splitTokens,
  EXAMPLE_PROMPTS, PUNCTUATION, MIN_WORDS, MAX_WORDS,
} from './grammar';
export type { Review, Opening } from './grammar';
export { buildVocab, tokenizerJson, tokenizerConfigJson, EOS_TOKEN, UNK_TOKEN } from './tokenizer';
export { buildWorld, corpusTexts, DEFAULT_WORLD, DEMO_SEED } from './world';
export type { WorldOptions, WorldFiles } from './world';
