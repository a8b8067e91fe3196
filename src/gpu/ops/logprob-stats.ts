// Per-token entropy, argmax hit and WPO's aligned log-prob over vocabulary chunks (src/shaders/logprob_stats.wgsl;
// float64 twin: src/gpu/reference/logprob_stats.ts). The model calls tokenStatsChunk for every logits chunk it
// computes for the log-probs, then tokenStatsFinalize once.
import { groups, kernelSections, type Gpu, type Tensor } from '../context';
import src from '../../shaders/logprob_stats.wgsl?raw';

const K = kernelSections('logprob_stats', src);
const WG = 64;

export interface TokenStatsState {
  /** [4N]: running max | sum exp | sum exp * logit | sum exp^2 */
  st: Tensor;
  /** [N] u32: first index of the running max */
  idx: Tensor;
}

export function createTokenStatsState(gpu: Gpu, N: number): TokenStatsState {
  return { st: gpu.tensor([4 * N]), idx: gpu.tensor([N], 'u32') };
}

export function releaseTokenStatsState(gpu: Gpu, s: TokenStatsState): void {
  gpu.release(s.st, s.idx);
}

function need(what: string, t: Tensor, size: number): void {
  if (t.size !== size) throw new RangeError(`${what} must hold ${size} values, it holds ${t.size}.`);
}

/** Merges logits [N, Vc] (ids vOffset..vOffset+Vc-1) into the state; `first` (the first chunk) starts it. */
export function tokenStatsChunk(gpu: Gpu, logits: Tensor, s: TokenStatsState, o: { N: number; Vc: number; vOffset: number; first: boolean }): void {
  if (!(o.Vc > 0)) throw new RangeError('tokenStatsChunk: a vocabulary chunk must hold at least one column.');
  need('tokenStatsChunk: logits', logits, o.N * o.Vc);
  need('tokenStatsChunk: state', s.st, 4 * o.N);
  gpu.dispatch(K.update, [logits, s.st, s.idx], [o.N, o.Vc, o.vOffset, o.first ? 1 : 0], groups(o.N, WG));
}

/** out [3N]: entropy | argmax == target (1/0) | log p(target) - log sum_v p(v)^2, from logp [N] of the same rows. */
export function tokenStatsFinalize(gpu: Gpu, s: TokenStatsState, targets: Tensor, logp: Tensor, out: Tensor, o: { N: number }): void {
  need('tokenStatsFinalize: state', s.st, 4 * o.N);
  need('tokenStatsFinalize: targets', targets, o.N);
  need('tokenStatsFinalize: logp', logp, o.N);
  need('tokenStatsFinalize: out', out, 3 * o.N);
  gpu.dispatch(K.finalize, [s.st, s.idx, targets, logp, out], [o.N], groups(o.N, WG));
}
