// The dataset panel's engine lines in the page's language: a skipped row (src/data/record-checks.ts SkipLog:
// reason, code, params, place) and a token-report warning (src/dpo/tokenize.ts tokenReportNoteCodes). In
// English the page shows the engine's own sentence (tests and the CLI print the same); in Korean it says
// skip.<code> / tokens.<code> with the numbers through Intl (./format.ts).
import type { SkippedRow } from '../data/types';
import type { TokenNote } from '../dpo/tokenize';
import { fmtInt, fmtPercent } from './format';
import { currentLanguage, t } from './i18n';

/** A share with the engine's digits (tokenize.ts pct: whole percents from 10%, one decimal from 0.1%, else one significant digit), so both languages say the same number. */
const share = (x: number) => fmtPercent(x, x >= 0.1 ? 0 : x >= 0.001 ? 1 : Math.max(2, -Math.floor(Math.log10(x * 100))));

/** A value kind's name (skip.kind.<kind>), the kind itself when the page has no word for it. */
const kind = (k: unknown) => (typeof k === 'string' ? t(`skip.kind.${k}`, { defaultValue: k }) : '');

/** Where the row is: line (JSONL) or row (JSON, Parquet). */
const place = (s: Pick<SkippedRow, 'line' | 'row'>) => (s.line !== undefined ? t('skip.where.line', { n: fmtInt(s.line) }) : t('skip.where.row', { n: fmtInt(s.row) }));

/** One skipped row's line, e.g. "7번째 줄: ..." / the engine's "line 7: ...". */
export function skipLine(s: SkippedRow): string {
  if (currentLanguage() === 'en' || !s.code) return s.message;
  const p = s.params ?? {};
  const shown: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) shown[k] = typeof v === 'number' ? fmtInt(v) : v;
  if ('kind' in p) shown.kind = kind(p.kind);
  return t('skip.line', { where: place(s), what: t(`skip.${s.code}`, shown) });
}

/** A skip reason's name in the panel's counts (skip.reason.<reason>). */
export const skipReasonName = (reason: string): string => t(`skip.reason.${reason}`, { defaultValue: reason });

/** A token-report warning in the page's language. */
export function tokenNoteText(n: TokenNote): string {
  if (currentLanguage() === 'en') return n.text;
  const p = n.params;
  const num = (k: string) => fmtInt(Number(p[k] ?? 0));
  if (n.code === 'mismatch') return t('tokens.mismatch', { share: share(Number(p.share)), n: num('mismatched'), of: num('pairs') });
  const vocab = Number(p.vocab) > 0 ? t('tokens.vocab', { vocab: num('vocab') }) : t('tokens.vocabAny');
  return t(`tokens.${n.code}`, { share: share(Number(p.share)), n: num('unknown'), of: num('tokens'), token: String(p.token), vocab });
}
