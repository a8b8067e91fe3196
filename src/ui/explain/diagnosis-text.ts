// A diagnosis in the page's language: the engine's finding is data (rule id, evidence and what-to-try
// codes with numbers, src/dpo/diagnosis-codes.ts); its sentences are i18next keys in en.ts and ko.ts
//   diag.rule.<rule>.title / .why, diag.ev.<evidence code>, diag.try.<try code>
// and its numbers are formatted by their kind through Intl for the active locale. TRL's metric and
// option names (params of kind 'name') are shown as they are.
import { EVIDENCE_PARAMS, RULE_IDS, TRY_PARAMS, type Diagnosis, type EvidenceCode, type ParamKind, type Params, type TryCode } from '../../dpo/diagnosis';
import { fmtDecimal, fmtInt, fmtPercent } from '../format';
import { currentLocale } from '../i18n';

type T = (key: string, params?: Record<string, unknown>) => string;

/** A metric value as the engine's logs read: 3 decimals (2 from 10, 1 from 100), an exponent when tiny or huge. */
export function fmtValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return new Intl.NumberFormat(currentLocale(), { notation: 'scientific', minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v);
  return fmtDecimal(v, a >= 100 ? 1 : a >= 10 ? 2 : 3);
}

/** One param by its kind, for the active locale. */
export function fmtParam(v: number | string, kind: ParamKind): string {
  if (typeof v === 'string' || kind === 'name') return String(v);
  switch (kind) {
    case 'value':
      return fmtValue(v);
    case 'count':
      return Number.isFinite(v) ? fmtInt(v) : String(v);
    case 'share':
      return fmtPercent(v, 0);
    case 'signedShare':
      return new Intl.NumberFormat(currentLocale(), { style: 'percent', maximumFractionDigits: 0, signDisplay: 'exceptZero' }).format(v);
    case 'setting': // as an option is written in a TRL config or on the page: 5e-7, 1e-3, 0.1
      return v !== 0 && Math.abs(v) <= 1e-3 ? v.toExponential() : String(v);
  }
}

const formatted = (params: Params, kinds: Readonly<Record<string, ParamKind>>): Record<string, string> =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k, fmtParam(v, kinds[k] ?? 'name')]));

export const ruleKey = (rule: string, part: 'title' | 'why') => `diag.rule.${rule}.${part}`;
export const evidenceKey = (code: EvidenceCode) => `diag.ev.${code}`;
export const tryKey = (code: TryCode) => `diag.try.${code}`;

/** The sentence of a piece of evidence. */
export const evidenceText = (t: T, code: EvidenceCode, params: Params): string => t(evidenceKey(code), formatted(params, EVIDENCE_PARAMS[code]));

/** The sentence of a thing to try. */
export const tryText = (t: T, code: TryCode, params: Params): string => t(tryKey(code), formatted(params, TRY_PARAMS[code]));

/** Every sentence of a finding, in the language of `t`. */
export function findingText(t: T, d: Diagnosis) {
  return {
    title: t(ruleKey(d.rule, 'title')),
    why: t(ruleKey(d.rule, 'why')),
    evidence: d.evidence.map((e) => evidenceText(t, e.code, e.params)),
    tryThis: d.tryThis.map((x) => tryText(t, x.code, x.params)),
  };
}

/** The evidence link's chart and steps ("Loss, steps 3-12"). */
export function evidenceLink(t: T, chart: string, steps: [number, number] | null): string {
  const name = t(`diag.chart.${chart}`);
  if (!steps) return name;
  return `${name}, ${steps[0] === steps[1] ? t('diag.step', { step: fmtInt(steps[0]) }) : t('diag.steps', { from: fmtInt(steps[0]), to: fmtInt(steps[1]) })}`;
}

/** Every key a diagnosis can use, with the placeholders its sentence must have (the i18n tests read this). */
export function diagnosisKeys(): { key: string; params: string[] }[] {
  return [
    ...RULE_IDS.flatMap((r) => [{ key: ruleKey(r, 'title'), params: [] }, { key: ruleKey(r, 'why'), params: [] }]),
    ...Object.entries(EVIDENCE_PARAMS).map(([code, p]) => ({ key: evidenceKey(code as EvidenceCode), params: Object.keys(p).sort() })),
    ...Object.entries(TRY_PARAMS).map(([code, p]) => ({ key: tryKey(code as TryCode), params: Object.keys(p).sort() })),
  ];
}
