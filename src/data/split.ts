// Seeded train/eval split. The eval rows are drawn by a seeded shuffle; both parts keep the file's order,
// so "batches in file order" (--shuffle false) stays meaningful for the train part.
import { DatasetError } from './errors';

export interface SplitOptions {
  /** Fraction of rows held out for evaluation, in [0, 1). Ignored when evalSize is given. Default 0.1. */
  evalFraction?: number;
  /** Exact number of eval rows (overrides evalFraction). */
  evalSize?: number;
  /** Seed of the draw; the same seed and data give the same split. Default 42. */
  seed?: number;
}

/** A small seeded PRNG (mulberry32) whose whole state is one u32, so a paused run resumes with the same numbers. */
export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): number[] {
    return Array.from(seededPermutationWith(n, () => this.next()));
  }
}

/** mulberry32 as a function (the same numbers as Rng). */
export function mulberry32(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

function seededPermutationWith(n: number, r: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** A seeded Fisher-Yates permutation of 0..n-1. */
export function seededPermutation(n: number, seed: number): Uint32Array {
  return seededPermutationWith(n, mulberry32(seed));
}

/** Splits items into train and eval. Eval gets round(evalFraction * n) rows (at least 1 when the fraction is > 0 and n > 1). */
export function splitTrainEval<T>(items: readonly T[], opts: SplitOptions = {}): { train: T[]; eval: T[] } {
  const n = items.length;
  const seed = opts.seed ?? 42;
  let k: number;
  if (opts.evalSize !== undefined) {
    if (!Number.isInteger(opts.evalSize) || opts.evalSize < 0 || opts.evalSize >= n)
      throw new DatasetError(`The eval split must have between 0 and ${n - 1} rows (of ${n}), not ${opts.evalSize}.`, 'dataset.eval-size', { most: n - 1, total: n, given: String(opts.evalSize) });
    k = opts.evalSize;
  } else {
    const f = opts.evalFraction ?? 0.1;
    if (!(f >= 0 && f < 1)) throw new DatasetError(`The eval fraction must be at least 0 and below 1, not ${f}.`, 'dataset.eval-fraction', { given: String(f) });
    k = Math.round(f * n);
    if (f > 0 && k === 0 && n > 1) k = 1;
    if (k >= n) k = n - 1;
  }
  const perm = seededPermutation(n, seed);
  const isEval = new Uint8Array(n);
  for (let i = 0; i < k; i++) isEval[perm[i]] = 1;
  const train: T[] = [];
  const evalItems: T[] = [];
  for (let i = 0; i < n; i++) (isEval[i] ? evalItems : train).push(items[i]);
  return { train, eval: evalItems };
}
