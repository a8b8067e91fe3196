// Shared test utilities: one GPU device per test file (Dawn + SwiftShader in Node), seeded random
// data, and error measures that match the fixtures' tolerances.
import { Gpu } from '../../src/gpu/context';

let shared: Promise<Gpu> | undefined;
export function testGpu(): Promise<Gpu> {
  shared ??= Gpu.create();
  return shared;
}

/** mulberry32: small seeded PRNG so every test draws the same numbers. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
