import { describe, expect, it } from 'vitest';
import type { Gpu, Tensor } from '../src/gpu/context';
import { embeddingBackward, embeddingForward } from '../src/gpu/ops/embedding';
import { embeddingBackwardRef, embeddingForwardRef } from '../src/gpu/reference/embedding';
import { maxRelErr, randn, rng, testGpu } from './helpers/gpu';

const vocab = 53;
const dim = 13;
const n = 37;
const table = randn(vocab * dim, 31);
const r = rng(32);
const ids = new Uint32Array(n).map(() => Math.floor(r() * vocab));
ids[3] = ids[4] = ids[20] = 17; // repeated ids accumulate
ids[5] = 52; // last row of the last (short) chunk
ids[6] = 0;

/** Splits the table into chunks of chunkRows rows on the GPU. */
function upChunks(gpu: Gpu, data: Float32Array, chunkRows: number): Tensor[] {
  const out: Tensor[] = [];
  for (let r0 = 0; r0 < vocab; r0 += chunkRows) {
    const rows = Math.min(chunkRows, vocab - r0);
    out.push(gpu.upload(data.slice(r0 * dim, (r0 + rows) * dim), [rows, dim]));
  }
  return out;
}

describe('embedding', () => {
  for (const chunkRows of [vocab, 20]) {
    it(`forward (overwrite and accumulate) and backward match the reference, chunkRows=${chunkRows}`, async () => {
      const gpu = await testGpu();
      const chunks = upChunks(gpu, table, chunkRows);
      const tids = gpu.upload(ids);
      const tout = gpu.upload(new Float32Array(n * dim).fill(NaN)); // garbage must be overwritten
      const prior = randn(n * dim, 33);
      const tacc = gpu.upload(prior);
      embeddingForward(gpu, tids, chunks, chunkRows, tout, { n, dim });
      embeddingForward(gpu, tids, chunks, chunkRows, tacc, { n, dim, accumulate: true });
      const grad0 = randn(vocab * dim, 34);
      const gchunks = upChunks(gpu, grad0, chunkRows);
      const dout = randn(n * dim, 35);
      const tdout = gpu.upload(dout);
      embeddingBackward(gpu, tids, tdout, gchunks, chunkRows, { n, dim });
      const [out, acc, ...gs] = await gpu.read(tout, tacc, ...gchunks);
      const ref = embeddingForwardRef(ids, table, n, dim);
      expect(maxRelErr(out, ref)).toBe(0);
      expect(maxRelErr(acc, ref.map((v, i) => v + prior[i]))).toBeLessThan(1e-6);
      const grad = new Float32Array(vocab * dim);
      gs.forEach((g, i) => grad.set(g.subarray(0, chunks[i].size), i * chunkRows * dim));
      expect(maxRelErr(grad, embeddingBackwardRef(ids, dout, grad0, n, dim))).toBeLessThan(1e-6);
      gpu.release(...chunks, ...gchunks, tids, tout, tacc, tdout);
    });
  }

  it('refuses float ids and misshapen chunks', async () => {
    const gpu = await testGpu();
    const f = gpu.tensor([n]);
    const u = gpu.upload(ids);
    const out = gpu.tensor([n, dim]);
    const c = gpu.tensor([20, dim]);
    const bad = gpu.tensor([10, dim]);
    expect(() => embeddingForward(gpu, f, [c], 20, out, { n, dim })).toThrow(/ids must be a u32 tensor/);
    expect(() => embeddingForward(gpu, u, [bad, c], 20, out, { n, dim })).toThrow(/chunk 0 has 10 rows/);
    gpu.release(f, u, out, c, bad);
  });
});
