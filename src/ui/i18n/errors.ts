// The sentence of an error in the page's language: the worker's typed errors carry a code
// (src/worker/error-code.ts); in Korean the page says error.<code> from ko.ts, in English (or for an
// error without a code, or a code ko.ts does not know) the engine's own English sentence.
import { errorCode } from '../../worker/error-code';
import { currentLanguage, i18n } from '.';

export function errorSentence(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (currentLanguage() === 'en') return e.message;
  const x = e as Error & { code?: string; params?: Record<string, string | number> };
  const c = x.code ? { code: x.code, params: x.params } : errorCode(e);
  const key = c && `error.${c.code}`;
  return key && i18n.exists(key) ? i18n.t(key, { ...c.params }) : e.message;
}
