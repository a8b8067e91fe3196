// Metric history helpers: CSV/JSONL export, latest values for the charts' text alternatives,
// downsampling for drawing, time left. Pure functions (tested in test/ui-history.test.tsx).
import type { LogRecord } from '../dpo/trainer';

/** One JSON object per line, in step order (the shape TRL's log_history uses). */
export function historyJsonl(records: readonly LogRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
}

const csvCell = (v: unknown): string => {
  if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** CSV with `step` and `epoch` first, then every other metric seen (first-seen order). */
export function historyCsv(records: readonly LogRecord[]): string {
  const cols: string[] = ['step', 'epoch'];
  for (const r of records) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const lines = [cols.join(',')];
  for (const r of records) lines.push(cols.map((c) => csvCell(r[c])).join(','));
  return lines.join('\n') + '\n';
}

/** Last record that has `key`, or undefined. */
export function latest(records: readonly LogRecord[], key: string): LogRecord | undefined {
  for (let i = records.length - 1; i >= 0; i--) if (records[i][key] !== undefined && Number.isFinite(records[i][key])) return records[i];
  return undefined;
}

export function countPoints(records: readonly LogRecord[], keys: readonly string[]): number {
  return records.reduce((n, r) => n + (keys.some((k) => r[k] !== undefined && Number.isFinite(r[k])) ? 1 : 0), 0);
}

export function fmtNum(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return v.toFixed(a >= 100 ? 1 : 4);
}

/** Short axis labels: 3 significant digits, exponent only for very small or large values. */
export function fmtTick(v: number): string {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/** At most `max` points, always keeping the first and the last (every k-th in between). */
export function downsample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return items.slice();
  const k = Math.ceil(items.length / max);
  const out: T[] = [];
  for (let i = 0; i < items.length - 1; i += k) out.push(items[i]);
  out.push(items[items.length - 1]);
  return out;
}

/** Seconds left from the rate so far; null before there is a rate. */
export function secondsLeft(step: number, total: number, elapsedSec: number, startStep = 0): number | null {
  const done = step - startStep;
  if (done <= 0 || elapsedSec <= 0 || total <= step) return total <= step ? 0 : null;
  return ((total - step) * elapsedSec) / done;
}

export function fmtDuration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '-';
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
