// The per-record checks both readers share (pairs in dataset.ts, TRL's unpaired format in unpaired.ts): what
// a record is, the skip log with its counts, and the first problems a record can have (invalid JSON, not an
// object, a missing column, a value of the wrong kind), each as a reason and a sentence, plus a code and its
// params (skip.<code> in the page's i18n) so the page can say the same line in its own language.
import type { RawRecord } from './read';
import type { SkipParams, SkipReason, SkippedRow } from './types';

/** A record's problem: the English sentence, and the code + params the page says it by (skip.<code>). */
export interface Problem {
  text: string;
  code: string;
  params?: SkipParams;
}

/** A value's kind as the skip sentences name it (skip.kind.<kind> in the page). */
export const kindName = (v: unknown): string => (Array.isArray(v) ? 'list' : v === null ? 'null' : typeof v === 'string' ? 'text' : typeof v);

/** Column names as the sentences list them: "a", "b" (quoted, comma-separated). */
export const quotedColumns = (cols: readonly string[]): string => cols.map((c) => `"${c}"`).join(', ');

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

  skip(r: RawRecord, reason: SkipReason, what: string | Problem): void {
    this.counts[reason]++;
    this.skippedCount++;
    const p: Problem = typeof what === 'string' ? { text: what, code: reason } : what;
    if (this.skipped.length < this.maxListed) this.skipped.push({ row: r.row, line: r.line, reason, message: `${where(r)}: ${p.text}`, code: p.code, params: p.params ?? {} });
  }

  /** The sentence of the most frequent reason (for "nothing survived"). */
  mostOften(): string {
    const top = (Object.keys(this.counts) as SkipReason[]).sort((a, b) => this.counts[b] - this.counts[a])[0];
    return this.skipped.find((s) => s.reason === top)?.message ?? top;
  }

  /** The most frequent reason itself (the page's code for "nothing survived"). */
  topReason(): SkipReason {
    return (Object.keys(this.counts) as SkipReason[]).sort((a, b) => this.counts[b] - this.counts[a])[0];
  }
}

/**
 * Logs the record's first problem of shape (invalid JSON, not an object with `objectOf` columns, one of `columns`
 * missing) and returns undefined; returns its columns when it has none of these.
 */
export function recordColumns(r: RawRecord, log: SkipLog, columns: readonly string[], objectOf: string): Record<string, unknown> | undefined {
  if (r.error !== undefined) {
    // the parser's own words stay English (a detail of the browser's JSON.parse); the page's sentence omits them
    log.skip(r, 'invalid-json', { text: r.error.replace(/^not valid JSON on line \d+/, 'not valid JSON'), code: 'invalid-json' });
    return undefined;
  }
  if (!isObject(r.value)) {
    log.skip(r, 'not-an-object', { text: `the record is not an object with ${objectOf} columns`, code: 'not-an-object', params: { kind: kindName(r.value) } });
    return undefined;
  }
  const v = r.value;
  const missing = columns.filter((c) => !present(v[c]));
  if (missing.length) {
    log.skip(r, 'missing-column', { text: `missing ${missing.map((c) => `"${c}"`).join(' and ')}`, code: 'missing-column', params: { columns: quotedColumns(missing), count: missing.length } });
    return undefined;
  }
  return v;
}

/** The first of `cols` that is not a list of {role, content} messages; undefined when all are. */
export function messagesProblem(v: Record<string, unknown>, cols: readonly string[]): Problem | undefined {
  for (const col of cols) {
    const x = v[col];
    if (!Array.isArray(x)) {
      const kind = typeof x === 'string' ? 'text' : typeof x;
      return { text: `"${col}" is ${kind}, but this dataset holds lists of {role, content} messages in "${col}"`, code: 'wrong-type.messages', params: { column: col, kind } };
    }
    for (let i = 0; i < x.length; i++) {
      const m = x[i];
      if (!isObject(m) || typeof m.role !== 'string' || typeof m.content !== 'string')
        return { text: `message ${i + 1} of "${col}" is not a {role, content} object with text content`, code: 'wrong-type.message', params: { column: col, index: i + 1 } };
    }
  }
  return undefined;
}

/** The first of `cols` that is not text; undefined when all are. */
export function textProblem(v: Record<string, unknown>, cols: readonly string[]): Problem | undefined {
  const bad = cols.find((c) => typeof v[c] !== 'string');
  if (bad === undefined) return undefined;
  const kind = Array.isArray(v[bad]) ? 'list' : typeof v[bad];
  return { text: `"${bad}" is ${kind === 'list' ? 'a list' : kind}, but this dataset holds text in "${bad}"`, code: 'wrong-type.text', params: { column: bad, kind } };
}
