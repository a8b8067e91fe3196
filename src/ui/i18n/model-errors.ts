// The model side's errors (src/model/*, src/worker/sources.ts, the Hub's weight files) whose sentence is
// put together from parts: a file's safetensors error after the file's name, a config error after the
// Hub repo it came from, the lists of missing and wrongly shaped tensors. Numbers go through `shown`
// (Intl for the locale); names (tensors, files, dtypes, config keys) stay as they are.
import { i18n } from '.';

type Params = Record<string, string | number>;

/** "a, b and 3 more" without English: the names (joined by `sep`), then " 외 3개" for what the engine left out. */
function list(count: number, names: string, sep: string): string {
  const given = names ? names.split(sep).length : 0;
  return names + (count > given ? i18n.t('error.checkpoint.more', { count: count - given }) : '');
}

/** The sentence of a model-side code, or undefined when the plain `error.<code>` entry says it whole. */
export function modelSentence(code: string, p: Params, shown: (p: Params) => Params): string | undefined {
  const key = `error.${code}`;
  if (p.cannotTrain !== undefined) {
    // a config.json on the Hub that cannot be trained: the repo, then the config's own sentence
    const { cannotTrain, ...rest } = p;
    return i18n.t('error.hub.cannot-train', { repo: cannotTrain, reason: i18n.t(key, shown(rest)) });
  }
  if (code.startsWith('safetensors.') && p.file !== undefined) return `${p.file}: ${i18n.t(key, shown(p))}`;
  if (code === 'checkpoint.mismatch' || code === 'hub.mismatch') {
    const parts: string[] = [];
    if (Number(p.missing) > 0) parts.push(i18n.t('error.checkpoint.mismatch.missing', { count: p.missing, names: list(Number(p.missing), String(p.missingNames), ', ') }));
    if (Number(p.wrong) > 0) parts.push(i18n.t('error.checkpoint.mismatch.wrong', { count: p.wrong, names: list(Number(p.wrong), String(p.wrongNames), '; ') }));
    return i18n.t(key, { ...shown(p), parts: parts.join('; ') });
  }
  // files picked without a folder: the worker calls them 'files from disk'; the page says it in its language
  if (code === 'source.no-tokenizer' && p.unnamed) return i18n.t(key, { ...shown(p), label: i18n.t('error.source.picked-files') });
  if (code === 'checkpoint.not-float') {
    const more = Number(p.more) > 0 ? ` ${i18n.t('error.checkpoint.not-float.more', { count: p.more })}` : '';
    return i18n.t(key, { ...shown(p), more });
  }
  return undefined;
}
