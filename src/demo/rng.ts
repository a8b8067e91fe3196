// Deterministic randomness for the demo world: the same (seed, stream, index) gives the same numbers
// in every JS engine (only 32-bit integer math), so a text can be regenerated on its own.

import { mulberry32 } from '../data/split';

/** FNV-1a 32-bit hash of a string (UTF-16 code units), as an unsigned integer. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform integer in [0, n) */
  int(n: number): number;
  /** one element, uniformly */
  pick<T>(items: readonly T[]): T;
  /** true with probability p */
  chance(p: number): boolean;
}

/** mulberry32 seeded from a hash of `${seed}/${stream}/${index}`. */
export function rngFor(seed: number, stream: string, index = 0): Rng {
  const next = mulberry32(fnv1a(`${seed >>> 0}/${stream}/${index}`));
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('rng.pick was given an empty list.');
      return items[int(items.length)]!;
    },
    chance: (p: number): boolean => next() < p,
  };
}
