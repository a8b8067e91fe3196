// Implicit prompts (HH-RLHF style: only "chosen" and "rejected", each holding the whole conversation).
// `extractPromptTrl` is a line-by-line port of TRL 1.13 `trl.data_utils.extract_prompt`, Python quirks
// included, because TRL's DPOTrainer applies exactly that when the first row has no "prompt" column:
//
//     for idx in range(min(len(chosen), len(rejected))):
//         if chosen[idx] != rejected[idx]:
//             if chosen[idx - 1] == " ":  # remove space before the prompt
//                 idx -= 1
//             break
//     return {"prompt": chosen[:idx], "chosen": chosen[idx:], "rejected": rejected[idx:]}
//
// Quirks kept: strings are indexed by Unicode code point (Python str), not UTF-16 unit; when no
// difference is found (one side is a prefix of the other) the loop variable ends at min_len - 1, so the
// prompt stops one element early; idx = 0 reads chosen[-1] (the last element) and a space there makes
// idx = -1, a negative Python slice. For HH-RLHF this gives a prompt ending in "Assistant:" and
// completions starting with " ", unless the two answers begin with the same words, in which case those
// shared words go into the prompt (that is what TRL does).
import type { Message } from './types';

/** Python-style slice seq[start:end] with negative indices and None (undefined). */
function pySlice<T>(seq: T[], start: number | undefined, end: number | undefined): T[] {
  const n = seq.length;
  const norm = (i: number | undefined, dflt: number) => {
    if (i === undefined) return dflt;
    if (i < 0) return Math.max(0, n + i);
    return Math.min(n, i);
  };
  return seq.slice(norm(start, 0), norm(end, n));
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ka = Object.keys(ao);
  if (ka.length !== Object.keys(bo).length) return false;
  return ka.every((k) => k in bo && deepEqual(ao[k], bo[k]));
}

/** The index TRL's loop ends with, or undefined where Python would raise (an empty side). */
function trlSplitIndex<T>(chosen: T[], rejected: T[], isSpace: (x: T) => boolean, eq: (a: T, b: T) => boolean): number | undefined {
  const m = Math.min(chosen.length, rejected.length);
  if (m === 0) return undefined; // Python: UnboundLocalError on idx
  let idx = 0;
  for (idx = 0; idx < m; idx++) {
    if (!eq(chosen[idx], rejected[idx])) {
      const prev = idx - 1 >= 0 ? chosen[idx - 1] : chosen[chosen.length - 1];
      if (isSpace(prev)) idx -= 1;
      return idx;
    }
  }
  return m - 1; // the loop variable's last value when the loop runs to the end
}

export interface SplitText {
  prompt: string;
  chosen: string;
  rejected: string;
}
export interface SplitMessages {
  prompt: Message[];
  chosen: Message[];
  rejected: Message[];
}

/** TRL's extract_prompt on two strings; undefined where TRL would raise (an empty string). */
export function extractPromptTrl(chosen: string, rejected: string): SplitText | undefined;
/** TRL's extract_prompt on two conversations; undefined where TRL would raise (an empty list). */
export function extractPromptTrl(chosen: Message[], rejected: Message[]): SplitMessages | undefined;
export function extractPromptTrl(
  chosen: string | Message[],
  rejected: string | Message[],
): SplitText | SplitMessages | undefined {
  if (typeof chosen === 'string' && typeof rejected === 'string') {
    const c = Array.from(chosen);
    const r = Array.from(rejected);
    const idx = trlSplitIndex(c, r, (x) => x === ' ', (a, b) => a === b);
    if (idx === undefined) return undefined;
    return {
      prompt: pySlice(c, undefined, idx).join(''),
      chosen: pySlice(c, idx, undefined).join(''),
      rejected: pySlice(r, idx, undefined).join(''),
    };
  }
  const c = chosen as Message[];
  const r = rejected as Message[];
  const idx = trlSplitIndex<Message>(c, r, () => false, deepEqual);
  if (idx === undefined) return undefined;
  return { prompt: pySlice(c, undefined, idx), chosen: pySlice(c, idx, undefined), rejected: pySlice(r, idx, undefined) };
}

const ASSISTANT_TAG = '\n\nAssistant:';

/**
 * Not TRL: the prompt is the shared prefix cut right after its last "\n\nAssistant:", the rule HH-RLHF
 * papers describe, so shared first words of both answers stay in the completions. Falls back to TRL's
 * rule when the shared prefix has no such tag. Offered as an option; the default is TRL's.
 */
export function extractPromptLastAssistant(chosen: string, rejected: string): SplitText | undefined {
  const trl = extractPromptTrl(chosen, rejected);
  if (!trl) return undefined;
  const c = Array.from(chosen);
  const r = Array.from(rejected);
  let common = 0;
  while (common < c.length && common < r.length && c[common] === r[common]) common++;
  const shared = c.slice(0, common).join('');
  const at = shared.lastIndexOf(ASSISTANT_TAG);
  if (at < 0) return trl;
  const cut = Array.from(shared.slice(0, at + ASSISTANT_TAG.length)).length; // in code points
  return { prompt: c.slice(0, cut).join(''), chosen: c.slice(cut).join(''), rejected: r.slice(cut).join('') };
}
