// Reading the metric history for the rules: one metric's finite points, means and windows at its ends.
import type { LogRecord } from './trainer';
import type { ChartId } from './diagnosis-types';
import { WINDOW } from './diagnosis-thresholds';

export type Point = { step: number; v: number };

/** Records that have a finite `key`. */
export function series(records: readonly LogRecord[], key: string): Point[] {
  const out: Point[] = [];
  for (const r of records) {
    const v = r[key];
    if (typeof v === 'number' && Number.isFinite(v)) out.push({ step: r.step, v });
  }
  return out;
}

export const mean = (xs: readonly { v: number }[]): number => xs.reduce((a, x) => a + x.v, 0) / Math.max(1, xs.length);

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Mean of the first and of the last `n` points, with their step ranges. */
export function ends(s: Point[], n = WINDOW) {
  const k = Math.max(1, Math.min(n, Math.floor(s.length / 2)));
  const a = s.slice(0, k);
  const b = s.slice(-k);
  return { first: mean(a), last: mean(b), firstSteps: [a[0].step, a.at(-1)!.step] as [number, number], lastSteps: [b[0].step, b.at(-1)!.step] as [number, number] };
}

const CHART_OF: [RegExp, ChartId][] = [
  [/rewards\/(chosen|rejected)/, 'rewards'],
  [/rewards\/margins/, 'margins'],
  [/rewards\/accuracies/, 'accuracies'],
  [/logps\//, 'logps'],
  [/^(eval_)?kl/, 'kl'],
  [/grad_norm|learning_rate/, 'optim'],
];

/** The chart a metric (TRL's name) is drawn on. */
export function chartOf(key: string): ChartId {
  for (const [re, id] of CHART_OF) if (re.test(key)) return id;
  return 'loss';
}
