// The demo world's word lists. Every word the grammar can emit is in one of these lists or in a
// template in grammar.ts; only the words in SENTIMENT carry a score, every other word is neutral (0).
// The true reward r*(text) is the mean of these scores over the words of a text (reward.ts), so a
// score here is the whole explanation of why a sample is rewarded.

/** Sentiment score of every non-neutral word, in [-1, 1]. Words absent from this table score 0. */
export const SENTIMENT: Readonly<Record<string, number>> = Object.freeze({
  // adjectives, positive
  perfect: 1.0, masterful: 0.9, brilliant: 0.9, wonderful: 0.9, amazing: 0.9, superb: 0.9,
  fantastic: 0.9, outstanding: 0.9, excellent: 0.9, great: 0.8, beautiful: 0.8, delightful: 0.8,
  stunning: 0.8, magical: 0.8, gorgeous: 0.8, hilarious: 0.7, lovely: 0.7, impressive: 0.7,
  inspiring: 0.7, thrilling: 0.7, charming: 0.6, clever: 0.6, moving: 0.6, gripping: 0.6,
  touching: 0.6, enjoyable: 0.6, memorable: 0.6, powerful: 0.6, exciting: 0.6, engaging: 0.6,
  heartfelt: 0.6, satisfying: 0.6, elegant: 0.6, good: 0.5, funny: 0.5, smart: 0.5, fun: 0.5,
  vivid: 0.5, nice: 0.4, fresh: 0.4, solid: 0.4, warm: 0.4, sweet: 0.4, pleasant: 0.4, strong: 0.4,
  tender: 0.4, decent: 0.2, fine: 0.2,
  // adjectives, negative
  worst: -1.0, unwatchable: -1.0, terrible: -0.9, awful: -0.9, horrible: -0.9, dreadful: -0.9,
  pathetic: -0.8, boring: -0.7, stupid: -0.7, painful: -0.7, pointless: -0.7, dull: -0.6,
  bad: -0.6, tedious: -0.6, ugly: -0.6, annoying: -0.6, disappointing: -0.6, lifeless: -0.6,
  poor: -0.5, lazy: -0.5, forgettable: -0.5, clumsy: -0.5, cheap: -0.5, sloppy: -0.5, dreary: -0.5,
  weak: -0.4, messy: -0.4, confusing: -0.4, bland: -0.4, predictable: -0.4, flat: -0.4,
  mediocre: -0.4, shallow: -0.4, awkward: -0.4, hollow: -0.4, silly: -0.3, slow: -0.3, tired: -0.3,
  noisy: -0.3, weird: -0.2,
  // superlatives used in "one of the best films"
  best: 0.9,
  // nouns
  masterpiece: 1.0, triumph: 0.9, gem: 0.8, joy: 0.8, delight: 0.8, marvel: 0.8, pleasure: 0.7,
  winner: 0.7, treat: 0.6, classic: 0.6,
  disaster: -0.9, trainwreck: -0.9, failure: -0.8, waste: -0.8, nightmare: -0.8, mess: -0.7,
  flop: -0.7, bore: -0.6, letdown: -0.6, chore: -0.6,
  // verbs
  adored: 0.9, loved: 0.8, enjoyed: 0.6, admired: 0.6, appreciated: 0.5, liked: 0.4,
  smiled: 0.5, laughed: 0.4, recommend: 0.6,
  hated: -0.9, regretted: -0.6, disliked: -0.5, endured: -0.4, avoid: -0.6, skip: -0.4,
  // feelings
  delighted: 0.8, happy: 0.7, inspired: 0.7, moved: 0.6, hopeful: 0.5, entertained: 0.5,
  cheated: -0.7, bored: -0.6, annoyed: -0.6, angry: -0.6, asleep: -0.4, sleepy: -0.3,
  // sentence adverbs
  happily: 0.5, luckily: 0.4, thankfully: 0.4, unfortunately: -0.5, sadly: -0.4,
});

export type Polarity = 1 | -1;

/** Predicative adjectives ("the plot was ___"), split by sign, read from SENTIMENT. */
export const ADJECTIVES_POS = [
  'perfect', 'masterful', 'brilliant', 'wonderful', 'amazing', 'superb', 'fantastic', 'outstanding',
  'excellent', 'great', 'beautiful', 'delightful', 'stunning', 'magical', 'gorgeous', 'hilarious',
  'lovely', 'impressive', 'inspiring', 'thrilling', 'charming', 'clever', 'moving', 'gripping',
  'touching', 'enjoyable', 'memorable', 'powerful', 'exciting', 'engaging', 'heartfelt',
  'satisfying', 'elegant', 'good', 'funny', 'smart', 'fun', 'vivid', 'nice', 'fresh', 'solid',
  'warm', 'sweet', 'pleasant', 'strong', 'tender', 'decent', 'fine',
] as const;
export const ADJECTIVES_NEG = [
  'unwatchable', 'terrible', 'awful', 'horrible', 'dreadful', 'pathetic', 'boring', 'stupid',
  'painful', 'pointless', 'dull', 'bad', 'tedious', 'ugly', 'annoying', 'disappointing', 'lifeless',
  'poor', 'lazy', 'forgettable', 'clumsy', 'cheap', 'sloppy', 'dreary', 'weak', 'messy', 'confusing',
  'bland', 'predictable', 'flat', 'mediocre', 'shallow', 'awkward', 'hollow', 'silly', 'slow',
  'tired', 'noisy', 'weird',
] as const;
/** Adjectives with no sentiment, so the model also learns a neutral way to continue. */
export const ADJECTIVES_NEUTRAL = [
  'long', 'short', 'different', 'unusual', 'simple', 'quiet', 'dark', 'serious', 'strange', 'loud',
] as const;

export const NOUNS_POS = [
  'masterpiece', 'triumph', 'gem', 'joy', 'delight', 'marvel', 'pleasure', 'winner', 'treat',
  'classic',
] as const;
export const NOUNS_NEG = [
  'disaster', 'trainwreck', 'failure', 'waste', 'nightmare', 'mess', 'flop', 'bore', 'letdown',
  'chore',
] as const;

/** Past-tense verbs taking the film or an aspect as object ("i ___ it"). */
export const VERBS_POS = ['adored', 'loved', 'enjoyed', 'admired', 'appreciated', 'liked'] as const;
export const VERBS_NEG = ['hated', 'regretted', 'disliked', 'endured'] as const;

/** "it made me feel ___" / "after watching this film i felt ___". */
export const FEELINGS_POS = ['delighted', 'happy', 'inspired', 'moved', 'hopeful', 'entertained'] as const;
export const FEELINGS_NEG = ['cheated', 'bored', 'annoyed', 'angry', 'sleepy'] as const;

export const SENTENCE_ADVERBS_POS = ['happily', 'luckily', 'thankfully'] as const;
export const SENTENCE_ADVERBS_NEG = ['unfortunately', 'sadly'] as const;

/** Neutral intensifiers; '' means none. */
export const INTENSIFIERS = [
  '', '', '', '', 'very', 'really', 'truly', 'quite', 'so', 'pretty', 'rather', 'incredibly',
  'absolutely', 'simply', 'just', 'genuinely',
] as const;

export interface Noun { readonly one: string; readonly many: string }

/** What is being reviewed. */
export const FILMS: readonly Noun[] = [
  { one: 'movie', many: 'movies' }, { one: 'film', many: 'films' }, { one: 'story', many: 'stories' },
  { one: 'show', many: 'shows' }, { one: 'series', many: 'series' },
  { one: 'documentary', many: 'documentaries' }, { one: 'cartoon', many: 'cartoons' },
  { one: 'sequel', many: 'sequels' }, { one: 'remake', many: 'remakes' },
];

export const GENRES = [
  'horror', 'comedy', 'drama', 'action', 'romance', 'mystery', 'western', 'musical', 'thriller',
  'fantasy', 'crime', 'war', 'family', 'spy', 'space', 'monster', 'zombie', 'detective', 'sports',
  'teen', 'holiday', 'pirate', 'music', 'animated', 'historical',
] as const;

/** Parts of a film one can praise or blame; `plural` picks was/were. */
export interface Aspect { readonly text: string; readonly plural: boolean }
export const ASPECTS: readonly Aspect[] = [
  ...[
    'acting', 'plot', 'ending', 'music', 'script', 'dialogue', 'cast', 'pacing', 'soundtrack',
    'humor', 'direction', 'editing', 'writing', 'photography', 'lighting', 'villain', 'hero',
    'lead actor', 'lead actress', 'opening scene', 'final scene', 'main character', 'camera work',
    'animation', 'set design', 'premise', 'twist', 'first half', 'second half',
    'car chase', 'story', 'romance',
  ].map((text) => ({ text, plural: false })),
  ...[
    'special effects', 'jokes', 'songs', 'fight scenes', 'actors', 'characters', 'costumes',
    'visuals', 'performances', 'action scenes', 'landscapes', 'dance numbers',
  ].map((text) => ({ text, plural: true })),
];

export const WHEN = [
  'last night', 'yesterday', 'on sunday', 'on friday', 'this weekend', 'last week',
  'on saturday night', 'after work', 'over the holidays', 'on a rainy afternoon', 'last month',
  'on my birthday', 'on a cold evening', 'this morning',
] as const;

export const COMPANIONS = [
  'wife', 'husband', 'friends', 'kids', 'brother', 'sister', 'parents', 'dad', 'mom', 'family',
  'roommate', 'girlfriend', 'boyfriend', 'son', 'daughter', 'grandmother', 'uncle', 'neighbor',
] as const;

export const WHERE = [
  'at the cinema', 'at home', 'on tv', 'on a plane', 'at a festival', 'at the theater',
  'on my laptop', 'in an old theater', 'at the local cinema', 'on a long train ride',
  'at a small film club', 'on the couch',
] as const;

/** "this is a ___ film about {topic}": all neutral words. */
export const TOPICS = [
  'a young girl who wants to sing', 'two brothers on a road trip', 'a detective in a small town',
  'a family that moves to a farm', 'a robot that finds a friend', 'a teacher and her students',
  'an old man and his dog', 'a band on tour', 'a boy who can fly', 'a small town during the war',
  'a group of friends at a lake', 'a cook in a busy kitchen', 'a ship far out at sea',
  'a woman who runs for mayor', 'a soldier coming home', 'a team that wants to win the cup',
  'a ghost in an old house', 'two strangers on a train', 'a king and his three sons',
  'a girl and her horse', 'a doctor in the mountains', 'a thief in a big city',
  'a family on holiday', 'a pilot and his crew', 'a painter in paris', 'twins who swap places',
] as const;

/** Who one recommends a film to (neutral). */
export const AUDIENCES = [
  'anyone', 'everyone', 'my friends', 'all my friends', 'fans of the genre', 'families',
  'kids and adults', 'my parents', 'my whole family',
] as const;
