// Every code a diagnosis can carry, with the kind of each of its params, so the page formats the numbers
// for its locale and a test can check that each code has an English and a Korean sentence with these
// placeholders. Evidence codes are '<rule>.<what>'; what-to-try codes are shared between rules.
import type { ChartId, Evidence, Params, TryItem } from './diagnosis-types';

/**
 * value: a metric value (loss, reward, KL, norm: fixed digits, exponent when tiny or huge); count: an
 * integer (steps, pairs, records); share: 0..1 shown as a percentage; signedShare: a change as a signed
 * percentage; setting: an option value as it is typed (5e-7, 0.1); name: a TRL metric or option name,
 * a loss type or a sentence, shown as it is.
 */
export type ParamKind = 'value' | 'count' | 'share' | 'signedShare' | 'setting' | 'name';

type Spec = Readonly<Record<string, Readonly<Record<string, ParamKind>>>>;

export const EVIDENCE_PARAMS = {
  'non-finite.value': { key: 'name', value: 'value', step: 'count', count: 'count' },
  'non-finite.stopped': { step: 'count' },
  'no-learning.loss-first': { tol: 'value', ref: 'value' },
  'no-learning.loss-log2': { tol: 'value', ref: 'value', lossType: 'name' },
  'no-learning.loss-h0': { tol: 'value', ref: 'value', lossType: 'name' },
  'no-learning.rewards-zero': { moved: 'value' },
  'no-learning.margin-still': { moved: 'value' },
  'no-learning.lr-peak': { lr: 'value' },
  'reference-mismatch.first-loss': { loss: 'value', lossType: 'name', l0: 'value' },
  'reference-mismatch.first-rewards': { chosen: 'value', rejected: 'value' },
  'over-optimisation.loss': { loss: 'value', l0: 'value' },
  'over-optimisation.accuracy': { accuracy: 'value' },
  'over-optimisation.margins': { first: 'value', last: 'value', nats: 'value' },
  'over-optimisation.kl': { first: 'value', last: 'value' },
  'over-optimisation.eval-rose': { low: 'value', lowStep: 'count', last: 'value', lastStep: 'count' },
  'over-optimisation.eval-above-start': { last: 'value', lastStep: 'count', l0: 'value' },
  'likelihood-displacement.rewards': { chosenKey: 'name', chosen: 'value', rejectedKey: 'name', rejected: 'value', chosenNats: 'value', rejectedNats: 'value' },
  'likelihood-displacement.margins': { key: 'name', margin: 'value' },
  'likelihood-displacement.logps': { key: 'name', logps: 'value' },
  'length-shortcut.pairs': { share: 'share', pairs: 'count', meanChosen: 'value', meanRejected: 'value' },
  'length-shortcut.samples': { policy: 'value', step: 'count', reference: 'value', growth: 'signedShare' },
  'truncation.cut': { maxLength: 'count', share: 'share', bothShare: 'share' },
  'pairs-dropped.count': { dropped: 'count', total: 'count', share: 'share' },
  'pairs-dropped.count-too-long': { dropped: 'count', total: 'count', share: 'share', tooLong: 'count' },
  'always-clipped.norms': { maxGradNorm: 'value', count: 'count', median: 'value', max: 'value' },
} as const satisfies Spec;

export const TRY_PARAMS = {
  'lower-lr-by': { factor: 'count' },
  'lower-lr-range': { low: 'count', high: 'count' },
  'lower-lr': {},
  'lower-lr-watch-norm': {},
  'keep-clipping': { maxGradNorm: 'setting' },
  'add-warmup': { warmupRatio: 'setting' },
  'raise-lr': { pretrainedLow: 'setting', pretrainedHigh: 'setting', demo: 'setting' },
  'check-pairs-differ': {},
  'check-warmup': {},
  'same-checkpoint': {},
  'dropout-off': {},
  'recompute-reference': {},
  'raise-beta': {},
  'bounded-loss': {},
  'check-shortcut': {},
  'add-sft-term': { rpoAlpha: 'setting' },
  'start-from-sft': {},
  'length-normalised-loss': {},
  'balance-lengths': {},
  'compare-sample-lengths': {},
  'raise-max-length': {},
  'shorten-prompts': {},
  'read-drop-reasons': {},
  'raise-max-length-prompts': {},
  'raise-beta-or-outliers': {},
} as const satisfies Spec;

export type EvidenceCode = keyof typeof EVIDENCE_PARAMS;
export type TryCode = keyof typeof TRY_PARAMS;

type ParamsOf<S> = { readonly [K in keyof S]: S[K] extends 'name' ? string : number };

/** A piece of evidence; the params must be exactly the code's. */
export const evidence = <C extends EvidenceCode>(chart: ChartId, steps: [number, number] | null, code: C, params: ParamsOf<(typeof EVIDENCE_PARAMS)[C]>): Evidence => ({ chart, steps, code, params: params as Params });

/** A thing to try; the params must be exactly the code's. */
export const tryThis = <C extends TryCode>(code: C, ...params: keyof (typeof TRY_PARAMS)[C] extends never ? [] : [ParamsOf<(typeof TRY_PARAMS)[C]>]): TryItem => ({ code, params: (params[0] ?? {}) as Params });
