// The sentence of an error in the page's language: the worker's typed errors carry a code
// (src/worker/error-code.ts); in Korean the page says error.<code> from ko.ts, in English (or for an
// error without a code, or a code ko.ts does not know) the engine's own English sentence. Numbers come
// through Intl for the locale: a param named `xBytes` is also given as `x`, a size (fmtBytes); other
// numbers are grouped as the locale writes them. A run's GPU fault ('gpu.run') is put together from
// its parts (what happened where, the memory advice, what was kept).
import { errorCode } from '../../worker/error-code';
import { fmtBytes, fmtInt } from '../format';
import { modelSentence } from './model-errors';
import { currentLanguage, currentLocale, i18n } from '.';

type Params = Record<string, string | number>;

/** The params as the sentence shows them: sizes and counts in the locale's way. */
function shown(params: Params = {}): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'number' && k.endsWith('Bytes')) out[k.slice(0, -'Bytes'.length)] = fmtBytes(v);
    out[k] = typeof v === 'number' && Number.isInteger(v) && !/step|Step/.test(k) ? fmtInt(v) : v;
  }
  return out;
}

/** "a, b or c" in the page's language. */
const orList = (xs: string[]) => new Intl.ListFormat(currentLocale(), { type: 'disjunction' }).format(xs);

interface Change {
  code: string;
  params?: Params;
}
/** A change of settings (faults.ts Change): TRL's / PEFT's option names stay as they are in every language. */
function changeText(c: Change, numbers: boolean): string {
  const p = c.params ?? {};
  switch (c.code) {
    case 'batch':
      return !numbers ? i18n.t('error.gpu.change.batch.any') : p.accumulation !== undefined ? i18n.t('error.gpu.change.batch-keep', shown(p)) : `per_device_train_batch_size ${p.size}`;
    case 'length':
      return numbers ? `max_length ${p.length}` : i18n.t('error.gpu.change.length.any');
    case 'lora':
      return numbers ? i18n.t('error.gpu.change.lora', shown(p)) : 'LoRA';
    case 'checkpointing':
      return 'gradient_checkpointing';
    default:
      return 'precompute_ref_log_probs';
  }
}
const changes = (json: unknown): Change[] => {
  try {
    return typeof json === 'string' ? (JSON.parse(json) as Change[]) : [];
  } catch {
    return [];
  }
};

/** A run's GPU fault (faultParams in src/worker/faults.ts) in the page's language. */
export function faultSentence(p: Params): string {
  const where = i18n.t(`error.gpu.where.${p.where}`, { step: p.step, whereText: p.whereText });
  const detail = p.detail ? i18n.t('error.gpu.detail', { detail: p.detail }) : '';
  const parts = [i18n.t(`error.gpu.run.${p.kind}`, { where, detail })];
  if (p.needBytes !== undefined) {
    const gave = Number(p.gaveBytes) > 0 ? i18n.t('error.gpu.advice.gave', { gave: fmtBytes(Number(p.gaveBytes)) }) : '';
    parts.push(i18n.t('error.gpu.advice.head', { need: fmtBytes(Number(p.needBytes)), gave }));
    const fits = changes(p.fits).map((c) => changeText(c, true));
    const tooBig = changes(p.tooBig).map((c) => changeText(c, false));
    if (fits.length === 0) parts.push(i18n.t('error.gpu.advice.none', { tooBig: orList(tooBig) }));
    else parts.push(i18n.t('error.gpu.advice.fits', { fits: orList(fits), alone: tooBig.length ? i18n.t('error.gpu.advice.alone', { tooBig: orList(tooBig) }) : '' }));
  }
  const saved = Number(p.savedStep);
  const device = p.kind === 'device-lost' ? i18n.t('error.gpu.saved.newDevice') : '';
  if (saved < 0) parts.push(i18n.t('error.gpu.saved.none'));
  else parts.push(i18n.t(saved === 0 ? 'error.gpu.saved.zero' : 'error.gpu.saved.step', { step: saved, button: i18n.t('fault.continue', { step: saved }), device }));
  return parts.join(' ');
}

/** The sentence of a code with its params in the page's language; `english` in English or for an unknown code. */
export function codeSentence(code: string | undefined, params: Params | undefined, english: string): string {
  if (currentLanguage() === 'en' || !code) return english;
  if (code === 'gpu.run' && params) return faultSentence(params);
  const key = `error.${code}`;
  if (!i18n.exists(key)) return english;
  // IndexedDB failures (src/ui/runs.ts StorageError): what the page was doing, and the browser's own words
  if (code === 'session.needs-run' && params) return i18n.t(key, { what: i18n.t(`error.session.what.${params.what}`, { defaultValue: String(params.what) }) });
  // nothing in the file survived: the most frequent skip reason by its name (skip.reason.*, src/ui/dataset-text.ts)
  if (code.startsWith('dataset.no-usable') && params) return i18n.t(key, { ...shown(params), reason: i18n.t(`skip.reason.${params.reason}`, { defaultValue: String(params.reason) }) });
  if (code.startsWith('storage.') && params) return i18n.t(key, { what: i18n.t(`error.storage.what.${params.what}`), detail: params.detail ? i18n.t('error.storage.detail', { detail: params.detail }) : '' });
  const model = modelSentence(code, params ?? {}, shown); // a file's or repo's name before it, lists of tensors
  if (model !== undefined) return model;
  return i18n.t(key, shown(params));
}

export function errorSentence(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (currentLanguage() === 'en') return e.message;
  const x = e as Error & { code?: unknown; params?: Params };
  const c = typeof x.code === 'string' && x.code.includes('.') ? { code: x.code, params: x.params } : errorCode(e);
  return codeSentence(c?.code, c?.params, e.message);
}

/** A memory estimate's refusal (src/worker/memory.ts) in the page's language. */
export const refusalSentence = (est: { refusal: string | null; refusalCode?: { code: string; params: Params } }): string =>
  est.refusal === null ? '' : codeSentence(est.refusalCode?.code, est.refusalCode?.params, est.refusal);
