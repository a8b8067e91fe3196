// The per-record checks both readers share (pairs in dataset.ts, TRL's unpaired format in unpaired.ts): what
// a record is, the skip log with its counts, and the first problems a record can have (invalid JSON, not an
// object, a missing column, a value of the wrong kind), each as a reason and a sentence.
import type { RawRecord } from './read';
import type { SkipReason, SkippedRow } from './types';

export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export const present = (v: unknown): boolean => v !== undefined && v !== null;

/** TRL's is_conversational test on one value: a list whose first element is a dict with "role". */
export const looksConversational = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && isObject(v[0]) && 'role' in v[0];

const where = (r: RawRecord): string => (r.line !== undefined ? `line ${r.line}` : `row ${r.row}`);

/** Skipped records: all counted by reason, the first `maxListed` listed with their sentence. */
export class SkipLog {
  readonly counts: Record<SkipReason, number> = { 'invalid-json': 0, 'not-an-object': 0, 'missing-column': 0, 'wrong-type': 0, empty: 0, identical: 0, 'too-long': 0, 'bad-label': 0 };
  readonly skipped: SkippedRow[] = [];
  skippedCount = 0;

  constructor(private readonly maxListed = 1000) {}

  skip(r: RawRecord, reason: SkipReason, what: string): void {
    this.counts[reason]++;
    this.skippedCount++;
    if (this.skipped.length < this.maxListed) this.skipped.push({ row: r.row, line: r.line, reason, message: `${where(r)}: ${what}` });
  }

  /** The sentence of the most frequent reason (for "nothing survived"). */
  mostOften(): string {
    const top = (Object.keys(this.counts) as SkipReason[]).sort((a, b) => this.counts[b] - this.counts[a])[0];
    return this.skipped.find((s) => s.reason === top)?.message ?? top;
  }
}

/**
 * Logs the record's first problem of shape (invalid JSON, not an object with `objectOf` columns, one of `columns`
 * missing) and returns undefined; returns its columns when it has none of these.
 */
export function recordColumns(r: RawRecord, log: SkipLog, columns: readonly string[], objectOf: string): Record<string, unknown> | undefined {
  if (r.error !== undefined) {
    log.skip(r, 'invalid-json', r.error.replace(/^not valid JSON on line \d+/, 'not valid JSON'));
    return undefined;
  }
  if (!isObject(r.value)) {
    log.skip(r, 'not-an-object', `the record is not an object with ${objectOf} columns`);
    return undefined;
  }
  const v = r.value;
  const missing = columns.filter((c) => !present(v[c]));
  if (missing.length) {
    log.skip(r, 'missing-column', `missing ${missing.map((c) => `"${c}"`).join(' and ')}`);
    return undefined;
  }
  return v;
}

/** The first of `cols` that is not a list of {role, content} messages, as a sentence; undefined when all are. */
export function messagesProblem(v: Record<string, unknown>, cols: readonly string[]): string | undefined {
  for (const col of cols) {
    const x = v[col];
    if (!Array.isArray(x)) return `"${col}" is ${typeof x === 'string' ? 'text' : typeof x}, but this dataset holds lists of {role, content} messages in "${col}"`;
    for (let i = 0; i < x.length; i++) {
      const m = x[i];
      if (!isObject(m) || typeof m.role !== 'string' || typeof m.content !== 'string') return `message ${i + 1} of "${col}" is not a {role, content} object with text content`;
    }
  }
  return undefined;
}

/** The first of `cols` that is not text, as a sentence; undefined when all are. */
export function textProblem(v: Record<string, unknown>, cols: readonly string[]): string | undefined {
  const bad = cols.find((c) => typeof v[c] !== 'string');
  return bad && `"${bad}" is ${Array.isArray(v[bad]) ? 'a list' : typeof v[bad]}, but this dataset holds text in "${bad}"`;
}
