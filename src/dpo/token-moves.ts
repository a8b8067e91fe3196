// Which tokens moved: per completion token, the policy's and the reference's log-probs of that token
// (their difference is the token's log-ratio; the sum over the completion is the sequence log-ratio
// that enters the DPO loss). Pure functions over a collated batch and a micro-step's per-token output.
import type { DpoBatch } from './tokenize';

/** One completion (chosen or rejected) as the loss saw it, after truncation. */
export interface TokenRow {
  ids: number[];
  /** log pi(token) per completion token. */
  policy: number[];
  /** log pi_ref(token) per completion token; null when the reference's sequence log-probs were precomputed. */
  reference: number[] | null;
}

export interface PairTokens {
  chosen: TokenRow;
  rejected: TokenRow;
}

/**
 * The completion tokens of sequence `s` of a batch: row s*T+t of the per-token arrays holds log p(ids[t+1]),
 * scored where token t+1 belongs to the completion (the rows the sequence log-prob sums).
 */
export function tokenRow(b: Pick<DpoBatch, 'T' | 'inputIds' | 'completionMask'>, s: number, policy: ArrayLike<number>, reference: ArrayLike<number> | null): TokenRow {
  const { T } = b;
  const row: TokenRow = { ids: [], policy: [], reference: reference ? [] : null };
  for (let t = 0; t + 1 < T; t++) {
    const r = s * T + t;
    if (!(b.completionMask[r + 1] > 0)) continue;
    row.ids.push(b.inputIds[r + 1]);
    row.policy.push(policy[r]);
    row.reference?.push(reference![r]);
  }
  return row;
}

/** Chosen (sequence j) and rejected (sequence N + j) rows of pair j. */
export function pairTokens(b: Pick<DpoBatch, 'N' | 'T' | 'inputIds' | 'completionMask'>, j: number, policy: ArrayLike<number>, reference: ArrayLike<number> | null): PairTokens {
  return { chosen: tokenRow(b, j, policy, reference), rejected: tokenRow(b, b.N + j, policy, reference) };
}

/** Per-token log-ratios log pi - log pi_ref (reference-free runs: the reference is 0). */
export function tokenLogratios(row: TokenRow, referenceFree = false): number[] | null {
  if (row.reference) return row.policy.map((p, i) => p - row.reference![i]);
  return referenceFree ? [...row.policy] : null;
}

/** The decoded text of every id in the rows, for the page (which has no tokenizer). */
export function pieceTable(decode: (ids: number[]) => string, rows: Iterable<readonly number[]>): Record<number, string> {
  const out: Record<number, string> = {};
  for (const ids of rows) for (const id of ids) if (!(id in out)) out[id] = decode([id]);
  return out;
}
