// Numbers, sizes and durations on the page, through Intl for the active language (ko-KR, en-US).
// Metric values keep their fixed digits (history.ts fmtNum) so they read as in TRL's logs.
import { fmtDuration as fmtDurationEn } from './history';
import { currentLanguage, currentLocale } from './i18n';

const nf = (opts?: Intl.NumberFormatOptions) => new Intl.NumberFormat(currentLocale(), opts);

/** A count: 12,345 (en) / 12,345 (ko). */
export const fmtInt = (n: number): string => nf({ maximumFractionDigits: 0 }).format(n);

/** A number with at most `digits` decimals. */
export const fmtDecimal = (n: number, digits: number): string => nf({ maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);

/** A share 0..1 as a percentage. */
export const fmtPercent = (x: number, digits = 1): string => nf({ style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(x);

/** Memory in GiB or MiB, as the worker's estimates are written (worker/memory.ts fmtBytes). */
export const fmtBytes = (b: number): string => (b >= 2 ** 30 ? `${fmtDecimal(b / 2 ** 30, 2)} GiB` : `${fmtDecimal(b / 2 ** 20, 1)} MiB`);

/** A stored size in GiB, MiB, KiB or B, as runs.ts fmtSize writes it. */
export function fmtSize(b: number): string {
  if (b >= 2 ** 30) return `${fmtDecimal(b / 2 ** 30, 2)} GiB`;
  if (b >= 2 ** 20) return `${fmtDecimal(b / 2 ** 20, 1)} MiB`;
  if (b >= 1024) return `${fmtDecimal(b / 1024, 1)} KiB`;
  return `${fmtInt(b)} B`;
}

const unit = (n: number, u: 'second' | 'minute' | 'hour') => nf({ style: 'unit', unit: u, unitDisplay: 'short', maximumFractionDigits: 0 }).format(n);

/** A duration in seconds: "42 s", "3 min 12 s", "1 h 5 min" (en, as the page always wrote them); "42초", "3분 12초", "1시간 5분" (ko, Intl). */
export function fmtDuration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '-';
  if (currentLanguage() === 'en') return fmtDurationEn(s);
  if (s < 60) return unit(Math.round(s), 'second');
  const m = Math.floor(s / 60);
  if (m < 60) return `${unit(m, 'minute')} ${unit(Math.round(s - 60 * m), 'second')}`;
  return `${unit(Math.floor(m / 60), 'hour')} ${unit(m % 60, 'minute')}`;
}

/** A date and time in the active locale. */
export const fmtDateTime = (ms: number): string => new Date(ms).toLocaleString(currentLocale());
