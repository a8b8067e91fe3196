// A request the user cannot make right now (no model yet, run already going...), said as a sentence.
// Each case has a code (the page says `error.session.<code>` in its language, src/ui/i18n/errors.ts)
// and the English sentence the worker and the CLI show, one catalog for both.

type Params = Record<string, string | number>;

/** The English sentence of each case, by code; {{name}} is filled from the params. */
export const SESSION_SENTENCES = {
  'no-model': 'Load a model first.',
  'no-dataset': 'Load a dataset first.',
  'busy-model': 'Stop the current run before loading another model.',
  'busy-dataset': 'Stop the current run before loading another dataset.',
  'no-gpu': 'The GPU is not ready yet.',
  'no-eval-pairs': 'There are no eval pairs: raise the eval fraction of the dataset split.',
  'empty-prompt': 'The prompt is empty after tokenization: type a few words.',
  'run-going': 'A run is already going: pause or stop it first.',
  'sft-resume': 'A run that began with SFT can only continue after a reload when its reference log-probs were precomputed; start it again instead.',
  'already-going': 'The run is already going.',
  'nothing-paused': 'There is no paused run to resume: start a new one.',
  'finished': 'This run has finished; start a new one to train more.',
  'no-fault': 'There is no run stopped by a GPU fault to continue: start a new one.',
  // `what`: Evaluation, Sampling or Export (error.session.what.<what> on the page)
  'needs-run': '{{what}} needs a run: press Train first (at step 0 the policy equals the reference).',
} as const;
export type SessionCode = keyof typeof SESSION_SENTENCES;

const fill = (s: string, p: Params = {}) => s.replace(/\{\{(\w+)\}\}/g, (_m, k: string) => String(p[k] ?? ''));
const CODE_OF = new Map<string, SessionCode>(Object.entries(SESSION_SENTENCES).map(([c, s]) => [s, c as SessionCode]));

export class SessionError extends Error {
  override name = 'SessionError';
  /** The case, for the page's sentence in its language; undefined for a sentence outside the catalog. */
  readonly code?: string;
  readonly params?: Params;
  /**
   * `new SessionError('no-model')` (a code of the catalog), or a sentence of its own with an optional
   * code and params (a memory refusal: `new SessionError(est.refusal, 'memory.budget', {...})`). A sentence
   * that is one of the catalog's gets that code too, so throw sites written before the catalog keep it.
   */
  constructor(codeOrMessage: SessionCode | string, code?: string, params?: Params) {
    const known = (SESSION_SENTENCES as Record<string, string>)[codeOrMessage];
    super(known ? fill(known, params) : codeOrMessage);
    const c = known ? `session.${codeOrMessage}` : code ?? (CODE_OF.has(codeOrMessage) ? `session.${CODE_OF.get(codeOrMessage)}` : undefined);
    if (c) this.code = c;
    if (params) this.params = params;
  }
}
