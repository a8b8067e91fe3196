// Shared test utilities: one GPU device per test file (Dawn + SwiftShader in Node), seeded random
// data, and error measures that match the fixtures' tolerances.
import { mulberry32 } from '../../src/data/split';
import { Gpu } from '../../src/gpu/context';

let shared: Promise<Gpu> | undefined;
export function testGpu(): Promise<Gpu> {
  shared ??= Gpu.create();
  return shared;
}

/** The engine's seeded PRNG (mulberry32), so every test draws the same numbers. */
export const rng = mulberry32;

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

/** max |a - b| / max(1, max |b|): relative to the tensor's scale, like the fixture tolerances. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
    if (Number.isNaN(a[i])) return Infinity;
  }
  return err / Math.max(scale, 1e-30);
}
