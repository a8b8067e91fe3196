// The demo world's grammar: short lower-case movie reviews. A review is an opening (neutral words only,
// so it works as a DPO prompt), a first clause that finishes the opening, a few body sentences and
// sometimes a closing line. Each text draws a tilt q in [0, 1] (arcsine-distributed); every sentiment
// slot is positive with probability q, so texts range from all-negative through mixed to all-positive.
// Texts are built as token lists (words and the punctuation marks . , !), one token per tokenizer id.

import {
  ADJECTIVES_NEG, ADJECTIVES_NEUTRAL, ADJECTIVES_POS, ASPECTS, AUDIENCES, COMPANIONS, FEELINGS_NEG,
  FEELINGS_POS, FILMS, GENRES, INTENSIFIERS, NOUNS_NEG, NOUNS_POS, SENTENCE_ADVERBS_NEG,
  SENTENCE_ADVERBS_POS, TOPICS, VERBS_NEG, VERBS_POS, WHEN, WHERE,
  type Aspect, type Noun, type Polarity,
} from './lexicon';
import { fnv1a, rngFor, type Rng } from './rng';

export const PUNCTUATION = ['.', ',', '!'] as const;
const PUNCT_SET: ReadonlySet<string> = new Set(PUNCTUATION);

export const MIN_WORDS = 20;
export const MAX_WORDS = 40;

/** Openings that are always on the training side (never held out): the page's example prompts. */
export const EXAMPLE_PROMPTS = [
  'the movie was', 'the film was', 'this movie is', 'i watched this film and', 'i watched this movie and',
  'this film is', 'the acting in this movie was', 'after watching this film i felt',
] as const;

/** Join tokens into text: words separated by one space, punctuation attached to the word before. */
export function detokenize(tokens: readonly string[]): string {
  let out = '';
  for (const t of tokens) {
    if (out.length > 0 && !PUNCT_SET.has(t)) out += ' ';
    out += t;
  }
  return out;
}

/** Split text the way the tokenizer's Whitespace pre-tokenizer does: \w+ runs and punctuation runs. */
export function splitTokens(text: string): string[] {
  return text.match(/\w+|[^\w\s]+/g) ?? [];
}

const split = (phrase: string): string[] => (phrase === '' ? [] : phrase.split(' '));
const isVowel = (w: string): boolean => /^[aeiou]/.test(w);
/** 'a' or 'an' for the word that follows. */
const article = (next: string): string => (isVowel(next) ? 'an' : 'a');
const wordCount = (tokens: readonly string[]): number => tokens.filter((t) => !PUNCT_SET.has(t)).length;

type ClauseKind = 'adj' | 'adjOrNoun' | 'clause' | 'feeling';

export interface Opening {
  readonly tokens: readonly string[];
  readonly text: string;
  /** how the first clause must continue the opening */
  readonly kind: ClauseKind;
  /** subject pronoun for 'clause' openings */
  readonly subject: 'i' | 'we' | 'it';
  readonly film: Noun;
  readonly genre: string | null;
}

/** Draw one opening (a review's neutral first words, used as a prompt). */
export function drawOpening(rng: Rng): Opening {
  const film = rng.pick(FILMS);
  const genre = rng.pick(GENRES);
  const optGenre = rng.chance(0.5) ? genre : null;
  const when = rng.chance(0.5) ? rng.pick(WHEN) : '';
  const withWhom = rng.chance(0.4) ? `with my ${rng.pick(COMPANIONS)}` : '';
  const make = (phrase: string, kind: ClauseKind, subject: Opening['subject'], g: string | null): Opening => {
    const tokens = split(phrase.replace(/ +/g, ' ').trim());
    return { tokens, text: detokenize(tokens), kind, subject, film, genre: g };
  };
  const og = optGenre ? `${optGenre} ` : '';
  switch (rng.int(13)) {
    case 0: return make(`the ${og}${film.one} was`, 'adj', 'it', optGenre);
    case 1: return make(`this ${og}${film.one} is`, 'adjOrNoun', 'it', optGenre);
    case 2: return make(`i watched this ${film.one} ${when} ${withWhom} and`, 'clause', 'i', null);
    case 3: return make(`i saw this ${genre} ${film.one} ${rng.pick(WHERE)} ${withWhom} and`, 'clause', 'i', genre);
    case 4: return make(`we watched the new ${genre} ${film.one} ${when} and`, 'clause', 'we', genre);
    case 5: return make(`my ${rng.pick(COMPANIONS)} told me to watch this ${film.one} and`, 'clause', 'i', null);
    case 6: {
      const a = rng.pick(ASPECTS);
      return make(`the ${a.text} in this ${film.one} ${a.plural ? 'were' : 'was'}`, 'adj', 'it', null);
    }
    case 7: return make(`i went to see this ${og}${film.one} ${rng.pick(WHERE)} and`, 'clause', 'i', optGenre);
    case 8: return make(`i rented this ${genre} ${film.one} ${when} and`, 'clause', 'i', genre);
    case 9: return make(`this is ${article(genre)} ${genre} ${film.one} about ${rng.pick(TOPICS)} and`, 'clause', 'it', genre);
    case 10: return make(`after watching this ${film.one} ${when} i felt`, 'feeling', 'i', null);
    case 11: return make(`i have seen many ${genre} ${film.many} and this one was`, 'adj', 'it', genre);
    default: return make(`so i finally watched this ${og}${film.one} and`, 'clause', 'i', optGenre);
  }
}

/** Context shared by the sentences of one text. */
interface Ctx {
  readonly rng: Rng;
  /** probability that a sentiment slot is positive */
  readonly q: number;
  readonly film: Noun;
  readonly genre: string;
}

const polarity = (c: Ctx): Polarity => (c.rng.chance(c.q) ? 1 : -1);
const adj = (c: Ctx, s: Polarity, neutralP = 0): string =>
  c.rng.chance(neutralP) ? c.rng.pick(ADJECTIVES_NEUTRAL) : c.rng.pick(s > 0 ? ADJECTIVES_POS : ADJECTIVES_NEG);
const noun = (c: Ctx, s: Polarity): string => c.rng.pick(s > 0 ? NOUNS_POS : NOUNS_NEG);
const verb = (c: Ctx, s: Polarity): string => c.rng.pick(s > 0 ? VERBS_POS : VERBS_NEG);
const feeling = (c: Ctx, s: Polarity): string => c.rng.pick(s > 0 ? FEELINGS_POS : FEELINGS_NEG);
const intens = (c: Ctx): string => c.rng.pick(INTENSIFIERS);
const be = (a: Aspect): string => (a.plural ? 'were' : 'was');
/** "a great", "an awful", "a truly awful": article agrees with the next word. */
const aPhrase = (...rest: string[]): string => {
  const words = rest.filter((w) => w !== '');
  return `${article(words[0]!)} ${words.join(' ')}`;
};
/** adjective with an optional intensifier */
const adjP = (c: Ctx, s: Polarity, neutralP = 0): string => `${intens(c)} ${adj(c, s, neutralP)}`.trim();

/** The clause that finishes an opening. */
function firstClause(c: Ctx, o: Opening): string {
  const s = polarity(c);
  const r = c.rng;
  switch (o.kind) {
    case 'adj': return `${adjP(c, s, 0.1)}.`;
    case 'feeling': return `${intens(c)} ${feeling(c, s)}.`;
    case 'adjOrNoun':
      return r.pick([
        () => `${adjP(c, s, 0.1)}.`,
        () => `${aPhrase(noun(c, s))}.`,
        () => `${aPhrase(intens(c), adj(c, s), 'little', o.film.one)}.`,
      ])();
    case 'clause': {
      const subj = o.subject === 'it' ? r.pick(['i', 'we']) : o.subject;
      return r.pick([
        () => `${subj} ${verb(c, s)} it.`,
        () => `${subj} ${verb(c, s)} every minute of it.`,
        () => `it was ${adjP(c, s, 0.1)}.`,
        () => `it was ${aPhrase(adj(c, s), o.film.one)}.`,
        () => `it turned out to be ${aPhrase(noun(c, s))}.`,
        () => `it made me feel ${feeling(c, s)}.`,
      ])();
    }
  }
}

/** One body sentence. */
function bodySentence(c: Ctx): string {
  const r = c.rng;
  const s = polarity(c);
  const a = r.pick(ASPECTS);
  let b = r.pick(ASPECTS);
  while (b.text === a.text) b = r.pick(ASPECTS);
  const films = c.film.many;
  const choices: Array<() => string> = [
    () => `the ${a.text} ${be(a)} ${adjP(c, s, 0.1)}.`,
    () => `the ${a.text} ${be(a)} ${adj(c, s)} and the ${b.text} ${be(b)} ${adjP(c, s)}.`,
    () => `the ${a.text} ${be(a)} ${adj(c, s)} but the ${b.text} ${be(b)} ${adjP(c, s > 0 ? -1 : 1)}.`,
    () => `i ${verb(c, s)} the ${a.text}.`,
    () => `i ${verb(c, s)} the ${a.text} but i ${verb(c, s > 0 ? -1 : 1)} the ${b.text}.`,
    () => `${r.pick(s > 0 ? SENTENCE_ADVERBS_POS : SENTENCE_ADVERBS_NEG)}, the ${a.text} ${be(a)} ${adjP(c, s)}.`,
    () => `what ${r.chance(0.5) ? aPhrase(adj(c, s), noun(c, s)) : aPhrase(noun(c, s))}!`,
    () => `it is one of the ${s > 0 ? 'best' : 'worst'} ${films} i have ever seen.`,
    () => `my ${r.pick(COMPANIONS)} ${verb(c, s)} it too.`,
    () => `it made me feel ${feeling(c, s)}.`,
    () => `i felt ${intens(c)} ${feeling(c, s)} at the end.`,
    () => (s > 0
      ? `i ${r.pick(['laughed', 'smiled'])} ${r.pick(['a lot', 'the whole time', 'all the way home'])}.`
      : `i fell asleep ${r.pick(['halfway through', 'after an hour', 'twice'])}.`),
    // neutral lines: facts with no sentiment words
    () => `the ${a.text} ${be(a)} ${r.pick(ADJECTIVES_NEUTRAL)}.`,
    () => `it is about ${r.pick(['two hours', 'ninety minutes', 'three hours'])} long.`,
    () => `i watched it ${r.pick(WHERE)}.`,
  ];
  return r.pick(choices)();
}

/** An optional last line. */
function closingSentence(c: Ctx): string {
  const r = c.rng;
  const s = polarity(c);
  const genre = r.chance(0.5) ? `${c.genre} ` : '';
  return r.pick([
    () => (s > 0 ? `i would recommend it to ${r.pick(AUDIENCES)}.` : `i would ${r.pick(['avoid', 'skip'])} it.`),
    () => `overall, ${aPhrase(adj(c, s), `${genre}${c.film.one}`)}.`,
    () => `it was ${aPhrase(adj(c, s), 'way')} to spend ${r.pick(['an evening', 'a sunday', 'two hours'])}.`,
    () => `in the end, it was ${aPhrase(noun(c, s))}.`,
    () => `${r.pick(['simply', 'just', 'truly'])} ${adj(c, s)}!`,
  ])();
}

/** Whether an opening belongs to the held-out prompt set (a property of the string and the seed). */
export function isHeldOut(seed: number, openingText: string): boolean {
  if ((EXAMPLE_PROMPTS as readonly string[]).includes(openingText)) return false;
  return fnv1a(`${seed >>> 0}|heldout|${openingText}`) % 8 === 0;
}

export interface Review {
  readonly text: string;
  readonly tokens: readonly string[];
  /** the opening: the first `promptTokens` tokens of `tokens` */
  readonly prompt: string;
  readonly promptTokens: number;
  /** the tilt the text was drawn with (probability of a positive slot) */
  readonly q: number;
}

/** Review number `index` of the world with this seed. Its opening is never a held-out prompt. */
export function generateReview(seed: number, index: number): Review {
  const rng = rngFor(seed, 'review', index);
  let opening = drawOpening(rng);
  while (isHeldOut(seed, opening.text)) opening = drawOpening(rng);
  // tilt q is arcsine-distributed: most texts lean clearly one way, some are mixed
  const q = (1 - Math.cos(Math.PI * rng.next())) / 2;
  const c: Ctx = { rng, q, film: opening.film, genre: opening.genre ?? rng.pick(GENRES) };
  const target = MIN_WORDS + rng.int(MAX_WORDS - MIN_WORDS + 1);
  const head = [...opening.tokens, ...splitTokens(firstClause(c, opening))];
  const closing = rng.chance(0.6) ? splitTokens(closingSentence(c)) : [];
  const body: string[] = [];
  let count = wordCount(head) + wordCount(closing);
  const used = new Set<string>([detokenize(closing)]);
  for (let tries = 0; count < target && tries < 30; tries++) {
    const line = bodySentence(c);
    const sentence = splitTokens(line);
    const n = wordCount(sentence);
    if (count + n > MAX_WORDS || used.has(line)) continue;
    used.add(line);
    body.push(...sentence);
    count += n;
  }
  const tokens = [...head, ...body, ...closing];
  return { text: detokenize(tokens), tokens, prompt: opening.text, promptTokens: opening.tokens.length, q: c.q };
}

/** Distinct openings split into training and held-out prompts, in draw order. */
export function generatePrompts(seed: number, nTrain: number, nHeldOut: number): { train: string[]; heldOut: string[] } {
  const train: string[] = [...EXAMPLE_PROMPTS].slice(0, nTrain);
  const heldOut: string[] = [];
  const seen = new Set<string>(train);
  const rng = rngFor(seed, 'prompts');
  for (let tries = 0; (train.length < nTrain || heldOut.length < nHeldOut) && tries < 1000 * (nTrain + nHeldOut); tries++) {
    const o = drawOpening(rng).text;
    if (seen.has(o)) continue;
    seen.add(o);
    if (isHeldOut(seed, o)) {
      if (heldOut.length < nHeldOut) heldOut.push(o);
    } else if (train.length < nTrain) {
      train.push(o);
    }
  }
  if (train.length < nTrain || heldOut.length < nHeldOut) {
    throw new Error(`The demo grammar has too few distinct openings for ${nTrain} training and ${nHeldOut} held-out prompts.`);
  }
  return { train, heldOut };
}
