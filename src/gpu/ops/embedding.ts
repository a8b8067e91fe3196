// Embedding lookup (token and position tables) and its gradient, for tables stored as row chunks:
// chunks[i] holds rows [i * chunkRows, i * chunkRows + chunks[i].shape[0]).
import { groups, type Gpu, type Tensor } from '../context';
import code from '../../shaders/embedding.wgsl?raw';
import { requireDistinct, requireInt, requireSize } from './elementwise';

const kernel = (entryPoint: string) => ({ name: 'embedding', code, entryPoint });

function checkChunks(op: string, ids: Tensor, chunks: Tensor[], chunkRows: number, n: number, dim: number): void {
  requireInt(op, 'n', n);
  requireInt(op, 'dim', dim);
  requireInt(op, 'chunkRows', chunkRows);
  if (ids.dtype !== 'u32') throw new TypeError(`${op}: ids must be a u32 tensor, got ${ids.dtype}.`);
  requireSize(op, 'ids', ids, n);
  if (chunks.length === 0) throw new RangeError(`${op}: the table has no chunks.`);
  chunks.forEach((c, i) => {
    const rows = c.shape[0];
    if (c.size !== rows * dim) throw new RangeError(`${op}: chunk ${i} has shape [${c.shape}], expected [rows, ${dim}].`);
    if (rows > chunkRows || (i < chunks.length - 1 && rows !== chunkRows)) {
      throw new RangeError(`${op}: chunk ${i} has ${rows} rows; every chunk but the last must have exactly ${chunkRows}.`);
    }
  });
}

/**
 * out[t, :] (=|+=) table[ids[t], :], table given as row chunks. Ids beyond the table give zero rows
 * (without accumulate) or leave out unchanged (with accumulate).
 */
export function embeddingForward(
  gpu: Gpu,
  ids: Tensor,
  chunks: Tensor[],
  chunkRows: number,
  out: Tensor,
  o: { n: number; dim: number; accumulate?: boolean },
): void {
  const op = 'embeddingForward';
  checkChunks(op, ids, chunks, chunkRows, o.n, o.dim);
  requireSize(op, 'out', out, o.n * o.dim);
  requireDistinct(op, out, ids, ...chunks);
  chunks.forEach((c, i) => {
    const overwrite = !o.accumulate && i === 0 ? 1 : 0;
    gpu.dispatch(kernel('forward'), [ids, c, out], [o.n, o.dim, i * chunkRows, c.shape[0], overwrite], groups(o.n * o.dim, 256));
  });
}

/** grad[ids[t], :] += dout[t, :] over all tokens, into row-chunked gradient tables (deterministic). */
export function embeddingBackward(
  gpu: Gpu,
  ids: Tensor,
  dout: Tensor,
  gradChunks: Tensor[],
  chunkRows: number,
  o: { n: number; dim: number },
): void {
  const op = 'embeddingBackward';
  checkChunks(op, ids, gradChunks, chunkRows, o.n, o.dim);
  requireSize(op, 'dout', dout, o.n * o.dim);
  gradChunks.forEach((g, i) => {
    requireDistinct(op, g, ids, dout);
    gpu.dispatch(kernel('backward'), [ids, dout, g], [o.n, o.dim, i * chunkRows, g.shape[0], 0], groups(o.dim, 64));
  });
}
