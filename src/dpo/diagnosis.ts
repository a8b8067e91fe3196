// Live diagnosis of a DPO run: rules over the train and eval metric history (TRL's names, as the trainer
// logs them) and the dataset's token lengths that name a known DPO behaviour when it shows, with the
// evidence (which chart, which steps, the numbers), why it happens and what to try. Pure functions, no
// DOM: the page (src/ui/explain/Diagnosis.tsx) draws the result and test/diagnosis.test.ts runs each rule
// on real runs of the engine.
import { dpoPairLoss, type DpoLossKind } from '../gpu/reference/dpo_loss';
import type { LogRecord } from './trainer';

/** The charts a piece of evidence points at (Charts.tsx ids, plus the dataset panel and the demo's frontier). */
export type ChartId = 'loss' | 'rewards' | 'margins' | 'accuracies' | 'logps' | 'kl' | 'optim' | 'dataset' | 'frontier';

export type RuleId =
  | 'non-finite'
  | 'no-learning'
  | 'reference-mismatch'
  | 'over-optimisation'
  | 'likelihood-displacement'
  | 'length-shortcut'
  | 'truncation'
  | 'pairs-dropped'
  | 'always-clipped';

/**
 * alarm: the run is wasting its time or its numbers are wrong; warning: it works but is drifting into a
 * known trap; note: a known DPO behaviour is showing that is not by itself a fault (the page explains it).
 */
export type Severity = 'alarm' | 'warning' | 'note';

export interface Evidence {
  chart: ChartId;
  /** First and last step the evidence covers (null for dataset facts). */
  steps: [number, number] | null;
  /** The numbers, as a sentence. */
  text: string;
}

export interface Diagnosis {
  rule: RuleId;
  severity: Severity;
  title: string;
  evidence: Evidence[];
  why: string;
  tryThis: string[];
}

/** Token lengths of the training pairs (before truncation), as tokenized for the run. */
export interface DatasetLengths {
  prompt: ArrayLike<number>;
  chosen: ArrayLike<number>;
  rejected: ArrayLike<number>;
}

/** What the dataset rules read: counts from the loader and shares computed from the token lengths. */
export interface DatasetFacts {
  /** Records in the file(s). */
  totalRows: number;
  /** Records dropped by the loader (invalid, empty, identical) plus pairs dropped by tokenization (prompt fills max_length). */
  dropped: number;
  droppedTooLong: number;
  /** Training pairs the lengths cover. */
  pairs: number;
  /** Share of pairs whose chosen completion has more tokens than the rejected one. */
  chosenLonger: number;
  meanChosen: number;
  meanRejected: number;
  /** Share of completions (chosen and rejected) that max_length cuts. */
  truncated: number;
  /** Share of pairs where both completions are cut. */
  bothTruncated: number;
  maxLength: number | null;
}

/** One measurement of sampled completion lengths (mean words or tokens), policy against reference. */
export interface SampleLengths {
  step: number;
  policy: number;
  reference: number;
}

/** The trainer arguments the rules read (TRL's names; loss_type may be a comma-separated list with loss_weights). */
export interface DiagnosisArgs {
  beta: number;
  loss_type: string;
  loss_weights?: readonly number[] | null;
  label_smoothing: number;
  max_grad_norm: number;
  learning_rate: number;
  reference_free: boolean;
  logging_steps: number;
}

export interface DiagnosisInput {
  history: readonly LogRecord[];
  evalHistory: readonly LogRecord[];
  args: DiagnosisArgs;
  dataset?: DatasetFacts | null;
  /** Samples of the policy and the reference on the same prompts over the run (the demo's frontier probe). */
  samples?: readonly SampleLengths[];
  /** The run stopped with an error (e.g. the trainer's NonFiniteGradientError sentence). */
  failure?: { message: string; step: number } | null;
}

// ------------------------------------------------------------------ thresholds (named so the tests and the text agree)

/** Steps after which a loss still at its h = 0 value counts as "not learning". */
export const NO_LEARNING_STEPS = 10;
/** How close to the h = 0 loss (relative) and to zero rewards the stuck run stays. */
export const NO_LEARNING_TOL = 1e-3;
/** First-step loss off its h = 0 value by more than this (absolute) means the reference is not the start. */
export const FIRST_STEP_TOL = 1e-3;
/** Over-optimisation: loss below this share of the h = 0 loss, accuracy at least OVEROPT_ACC over the last window. */
export const OVEROPT_LOSS_SHARE = 0.05;
export const OVEROPT_ACC = 0.99;
/** ...and eval loss up by this factor from its lowest point (or above the untrained h = 0 loss), or the KL per token up by this factor over the run. */
export const OVEROPT_EVAL_RISE = 1.2;
export const OVEROPT_KL_RISE = 1.5;
/** Steps averaged at each end of a window. */
export const WINDOW = 5;
/** Likelihood displacement: the chosen completions' log-prob this many nats (per sequence) below the reference's. */
export const DISPLACEMENT_NATS = 20;
/** Length shortcut: chosen longer in at least this share of pairs. */
export const LENGTH_SHARE = 0.7;
/** ...and the policy's samples this much longer than the reference's. */
export const SAMPLE_GROWTH = 1.2;
/** Truncation: at least this share of completions cut. */
export const TRUNCATION_SHARE = 0.5;
/** Pairs dropped: at least this share of the file's records. */
export const DROPPED_SHARE = 0.05;
/** Clipping: every step of at least this many clipped, with the median norm this many times max_grad_norm. */
export const CLIP_STEPS = 10;
export const CLIP_RATIO = 5;

// ------------------------------------------------------------------ helpers

/** Loss kinds whose per-pair loss is a function of the two log-ratios alone (not sft's NLL, not aot's batch sort). */
const PAIR_KINDS = new Set(['sigmoid', 'cdpo', 'robust', 'hinge', 'ipo', 'exo_pair', 'nca_pair', 'bco_pair', 'sppo_hard', 'apo_zero', 'apo_down', 'discopop', 'sigmoid_norm']);

/** TRL's loss_type list ("sigmoid" or "sigmoid,bco_pair") with its loss_weights (1 each when absent). */
export function lossTerms(lossType: string, weights?: readonly number[] | null): { kind: string; weight: number }[] {
  return lossType
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
    .map((kind, i) => ({ kind, weight: weights?.[i] ?? 1 }));
}

/**
 * The loss of a pair whose policy equals its reference (h_w = h_l = 0), for the run's loss type(s), from
 * the engine's CPU reference; NaN when a term does not depend on the log-ratios alone (sft, aot).
 */
export function lossAtZero(lossType: string, beta: number, labelSmoothing: number, weights?: readonly number[] | null): number {
  let sum = 0;
  for (const t of lossTerms(lossType, weights)) {
    if (!PAIR_KINDS.has(t.kind)) return NaN;
    sum += t.weight * dpoPairLoss(t.kind as DpoLossKind, beta, labelSmoothing, 0, 0, 1, 1).loss;
  }
  return sum;
}

const fmt = (v: number): string => {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return v.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3);
};
const pct = (v: number): string => `${Math.round(100 * v)}%`;

/** Records that have a finite `key`. */
function series(records: readonly LogRecord[], key: string): { step: number; v: number }[] {
  const out: { step: number; v: number }[] = [];
  for (const r of records) {
    const v = r[key];
    if (typeof v === 'number' && Number.isFinite(v)) out.push({ step: r.step, v });
  }
  return out;
}

const mean = (xs: readonly { v: number }[]): number => xs.reduce((a, x) => a + x.v, 0) / Math.max(1, xs.length);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Mean of the first and of the last `n` points, with their step ranges. */
function ends(s: { step: number; v: number }[], n = WINDOW) {
  const k = Math.max(1, Math.min(n, Math.floor(s.length / 2)));
  const a = s.slice(0, k);
  const b = s.slice(-k);
  return { first: mean(a), last: mean(b), firstSteps: [a[0].step, a.at(-1)!.step] as [number, number], lastSteps: [b[0].step, b.at(-1)!.step] as [number, number] };
}

const stepsText = ([a, b]: [number, number]) => (a === b ? `step ${a}` : `steps ${a}-${b}`);

// ------------------------------------------------------------------ dataset facts

/** Token lengths of the first `cap` pairs (enough for the shares, small enough to post to the page). */
export function datasetLengths(pairs: readonly { promptIds: ArrayLike<number>; chosenIds: ArrayLike<number>; rejectedIds: ArrayLike<number> }[], cap = 4096): { prompt: number[]; chosen: number[]; rejected: number[] } {
  const some = pairs.slice(0, cap);
  return { prompt: some.map((p) => p.promptIds.length), chosen: some.map((p) => p.chosenIds.length), rejected: some.map((p) => p.rejectedIds.length) };
}

/** Shares of the dataset rules from the training pairs' token lengths and the loader's counts. */
export function datasetFacts(
  lengths: DatasetLengths,
  o: { maxLength: number | null; truncationMode: 'keep_start' | 'keep_end'; totalRows: number; dropped: number; droppedTooLong?: number },
): DatasetFacts {
  const n = Math.min(lengths.prompt.length, lengths.chosen.length, lengths.rejected.length);
  let longer = 0;
  let sc = 0;
  let sr = 0;
  let cut = 0;
  let both = 0;
  const L = o.maxLength;
  // keep_start cuts the end of prompt + completion; keep_end keeps the last max_length tokens, so it cuts
  // into the completion only when the completion alone is longer (TRL 1.13's collator)
  const isCut = (p: number, c: number) => L !== null && (o.truncationMode === 'keep_start' ? p + c > L : c > L);
  for (let i = 0; i < n; i++) {
    const p = lengths.prompt[i];
    const c = lengths.chosen[i];
    const r = lengths.rejected[i];
    if (c > r) longer++;
    sc += c;
    sr += r;
    const cc = isCut(p, c);
    const cr = isCut(p, r);
    cut += (cc ? 1 : 0) + (cr ? 1 : 0);
    if (cc && cr) both++;
  }
  return {
    totalRows: o.totalRows,
    dropped: o.dropped,
    droppedTooLong: o.droppedTooLong ?? 0,
    pairs: n,
    chosenLonger: n ? longer / n : 0,
    meanChosen: n ? sc / n : 0,
    meanRejected: n ? sr / n : 0,
    truncated: n ? cut / (2 * n) : 0,
    bothTruncated: n ? both / n : 0,
    maxLength: L,
  };
}

/** Mean length in words of the policy's and the reference's samples (the demo's frontier samples). */
export function sampleLengths(step: number, samples: readonly { policy: string; reference: string }[]): SampleLengths | null {
  if (samples.length === 0) return null;
  const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
  const n = samples.length;
  return { step, policy: samples.reduce((a, s) => a + words(s.policy), 0) / n, reference: samples.reduce((a, s) => a + words(s.reference), 0) / n };
}

// ------------------------------------------------------------------ the rules

type Rule = (inp: DiagnosisInput, l0: number) => Diagnosis | null;

const nonFinite: Rule = ({ history, evalHistory, failure }) => {
  const bad: { step: number; key: string; v: number }[] = [];
  for (const r of [...history, ...evalHistory]) {
    for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && !Number.isFinite(v)) bad.push({ step: r.step, key: k, v });
  }
  const stopped = failure && /non-finite|NaN|Inf/i.test(failure.message) ? failure : null;
  if (!bad.length && !stopped) return null;
  const evidence: Evidence[] = [];
  if (bad.length) {
    const first = bad[0];
    evidence.push({ chart: chartOf(first.key), steps: [first.step, bad.at(-1)!.step], text: `${first.key} is ${first.v} at step ${first.step} (${bad.length} non-finite value${bad.length > 1 ? 's' : ''} in the log).` });
  }
  if (stopped) evidence.push({ chart: 'loss', steps: [stopped.step, stopped.step], text: stopped.message });
  return {
    rule: 'non-finite',
    severity: 'alarm',
    title: 'NaN or Inf: the numbers overflowed',
    evidence,
    why: 'An update was so large that the weights or the logits left the range of 32-bit floats (or a log-prob of an impossible token was taken); from then on every number is meaningless.',
    tryThis: ['Lower learning_rate (by 10x).', 'Keep max_grad_norm at 1 (clipping caps each update).', 'Add warmup (warmup_ratio 0.1) so the first steps are small.'],
  };
};

const CHART_OF: [RegExp, ChartId][] = [
  [/rewards\/(chosen|rejected)/, 'rewards'],
  [/rewards\/margins/, 'margins'],
  [/rewards\/accuracies/, 'accuracies'],
  [/logps\//, 'logps'],
  [/^(eval_)?kl/, 'kl'],
  [/grad_norm|learning_rate/, 'optim'],
];
function chartOf(key: string): ChartId {
  for (const [re, id] of CHART_OF) if (re.test(key)) return id;
  return 'loss';
}

const noLearning: Rule = ({ history, args }, l0) => {
  const loss = series(history, 'loss');
  if (loss.length === 0 || loss.at(-1)!.step < NO_LEARNING_STEPS) return null;
  // the last window (the run may have started well and then stalled at h = 0, e.g. lr decayed to 0 is not this)
  const tail = history.filter((r) => r.step > loss.at(-1)!.step - NO_LEARNING_STEPS);
  const fromStart = args.reference_free || !Number.isFinite(l0);
  const ref = fromStart ? history[0].loss : l0;
  const tol = NO_LEARNING_TOL * Math.max(1, Math.abs(ref));
  const lossStuck = tail.every((r) => Number.isFinite(r.loss) && Math.abs(r.loss - ref) <= tol);
  const key = args.reference_free ? 'rewards/margins' : 'rewards/chosen';
  const rewardMax = Math.max(...tail.map((r) => Math.max(Math.abs(r['rewards/chosen'] ?? 0), Math.abs(r['rewards/rejected'] ?? 0))));
  const marginMoved = args.reference_free ? Math.max(...tail.map((r) => Math.abs((r['rewards/margins'] ?? 0) - (history[0]['rewards/margins'] ?? 0)))) : rewardMax;
  if (!lossStuck || marginMoved > tol) return null;
  const steps: [number, number] = [tail[0].step, tail.at(-1)!.step];
  const lrs = series(history, 'learning_rate');
  const lrMax = lrs.length ? Math.max(...lrs.map((x) => x.v)) : args.learning_rate;
  return {
    rule: 'no-learning',
    severity: 'alarm',
    title: 'No learning: the loss sits at its starting value',
    evidence: [
      { chart: 'loss', steps, text: `loss stays within ${fmt(tol)} of ${fmt(ref)} (${fromStart ? 'its first value' : `the ${args.loss_type} loss at h = 0${args.loss_type === 'sigmoid' ? ', log 2' : ''}`}) over ${stepsText(steps)}.` },
      { chart: 'rewards', steps, text: `${args.reference_free ? 'the reward margin moves by at most' : 'rewards/chosen and rewards/rejected stay within'} ${fmt(marginMoved)} ${args.reference_free ? '' : 'of 0 '}(${key}).` },
      { chart: 'optim', steps, text: `learning_rate peaks at ${fmt(lrMax)}.` },
    ],
    why: 'The policy still gives every pair the same log-ratios as the reference, so h = 0 and the loss stays at its value for h = 0. Either the updates are too small to move the log-probs (learning rate far too small, or 0), the weights are not being trained, or chosen and rejected are identical (for example after truncation cut both to the same prompt-only sequence).',
    tryThis: ['Raise learning_rate (pretrained LMs: 5e-7 to 5e-6; the tiny demo model: ~1e-3).', 'Check that chosen and rejected still differ after max_length (the dataset panel).', 'With warmup, check that the schedule is not still at 0.'],
  };
};

const referenceMismatch: Rule = ({ history, args }, l0) => {
  if (args.reference_free || args.logging_steps !== 1) return null;
  const first = history[0];
  if (!first || first.step !== 1 || !Number.isFinite(first.loss)) return null;
  const off = Number.isFinite(l0) ? Math.abs(first.loss - l0) : 0; // sft / aot terms: only the rewards are known at h = 0
  const rc = first['rewards/chosen'] ?? 0;
  const rr = first['rewards/rejected'] ?? 0;
  if (off <= FIRST_STEP_TOL && Math.abs(rc) <= FIRST_STEP_TOL && Math.abs(rr) <= FIRST_STEP_TOL) return null;
  return {
    rule: 'reference-mismatch',
    severity: 'alarm',
    title: 'The reference is not the policy the run started from',
    evidence: [
      { chart: 'loss', steps: [1, 1], text: `The loss of step 1 is ${fmt(first.loss)}; with the reference equal to the starting policy every pair has h = 0 and the ${args.loss_type} loss is ${fmt(l0)}.` },
      { chart: 'rewards', steps: [1, 1], text: `At step 1 rewards/chosen is ${fmt(rc)} and rewards/rejected ${fmt(rr)}, not 0.` },
    ],
    why: 'Step 1 is computed before any update, so the policy is still the starting model; if the reference were that model, log pi - log pi_ref would be 0 for every sequence. It is not: the reference weights differ (another folder or checkpoint), the forward passes differ (dropout on, or a different dtype), or precomputed reference log-probs came from another model or another tokenization.',
    tryThis: ['Load the same checkpoint as policy and reference (or leave the reference unset, so it is a copy of the policy).', 'Turn dropout off in both models (TRL does for the reference).', 'Recompute precomputed reference log-probs with this model and this max_length.'],
  };
};

const overOptimisation: Rule = ({ history, evalHistory, args }, l0) => {
  const loss = series(history, 'loss');
  const acc = series(history, 'rewards/accuracies');
  if (loss.length < 2 * WINDOW) return null;
  const tailLoss = mean(loss.slice(-WINDOW));
  const tailAcc = mean(acc.slice(-WINDOW));
  if (!(tailLoss < OVEROPT_LOSS_SHARE * l0 && tailAcc >= OVEROPT_ACC)) return null;
  const tailSteps: [number, number] = [loss.at(-WINDOW)!.step, loss.at(-1)!.step];
  const evidence: Evidence[] = [
    { chart: 'loss', steps: tailSteps, text: `loss ${fmt(tailLoss)} over ${stepsText(tailSteps)} (it starts at ${fmt(l0)}).` },
    { chart: 'accuracies', steps: tailSteps, text: `rewards/accuracies ${fmt(tailAcc)}: every training pair is already ordered right.` },
  ];
  let climbing = 0;
  const m = series(history, 'rewards/margins');
  if (m.length >= 2 * WINDOW) {
    const e = ends(m);
    evidence.push({ chart: 'margins', steps: [e.firstSteps[0], e.lastSteps[1]], text: `rewards/margins ${fmt(e.first)} -> ${fmt(e.last)} (${fmt(e.last / Math.max(args.beta, 1e-9))} nats of log-ratio per pair).` });
  }
  const kl = series(history, 'kl/token_mean_exact');
  if (kl.length >= 2 * WINDOW) {
    const e = ends(kl);
    if (e.last > OVEROPT_KL_RISE * e.first && e.last > 0) {
      climbing++;
      evidence.push({ chart: 'kl', steps: [e.firstSteps[0], e.lastSteps[1]], text: `KL per token ${fmt(e.first)} -> ${fmt(e.last)} nats: the policy keeps moving away from the reference.` });
    }
  }
  const ev = series(evalHistory, 'eval_loss');
  if (ev.length >= 2) {
    let lo = 0;
    for (let i = 1; i < ev.length; i++) if (ev[i].v < ev[lo].v) lo = i;
    const last = ev.at(-1)!;
    if (lo < ev.length - 1 && last.v > OVEROPT_EVAL_RISE * ev[lo].v) {
      climbing++;
      evidence.push({ chart: 'loss', steps: [ev[lo].step, last.step], text: `eval_loss rose from ${fmt(ev[lo].v)} (step ${ev[lo].step}) to ${fmt(last.v)} (step ${last.step}) while the training loss fell.` });
    } else if (last.v > l0) {
      climbing++;
      evidence.push({ chart: 'loss', steps: [ev[0].step, last.step], text: `eval_loss is ${fmt(last.v)} at step ${last.step}, above the ${fmt(l0)} of the untrained policy: the held-out pairs got worse while the training pairs were solved.` });
    }
  }
  if (climbing === 0) return null;
  return {
    rule: 'over-optimisation',
    severity: 'alarm',
    title: 'Over-optimisation: the training pairs are solved, the policy keeps drifting',
    evidence,
    why: 'DPO\'s loss only asks chosen to beat rejected by a wide log-ratio margin; once every training pair is separated, the cheapest way to lower the loss further is to push the margins up without limit, which moves the policy far from the reference (KL) and memorises the training pairs instead of the preference (held-out loss rises). A too-high learning rate gets there in a few steps, a small beta lets the margins grow with little KL cost, and pairs that a shortcut separates (length, a keyword) are solved without learning the preference.',
    tryThis: ['Lower learning_rate (by 3-10x) or train fewer steps (stop where eval_loss is lowest).', 'Raise beta (keeps the policy closer to the reference).', 'Use ipo or hinge, whose loss stops rewarding ever larger margins.', 'Check the pairs for a shortcut (length, formatting).'],
  };
};

const displacement: Rule = ({ history, evalHistory, args }) => {
  if (args.reference_free) return null;
  // eval pairs are the same at every eval, so their rewards are the cleanest trend; fall back to training
  const useEval = series(evalHistory, 'eval_rewards/chosen').length >= 1;
  const src = useEval ? evalHistory : history;
  const p = useEval ? 'eval_' : '';
  const rc = series(src, `${p}rewards/chosen`);
  const rr = series(src, `${p}rewards/rejected`);
  const mg = series(src, `${p}rewards/margins`);
  if (rc.length === 0 || rr.length === 0 || mg.length === 0) return null;
  const k = useEval ? 1 : Math.min(WINDOW, rc.length);
  const c = mean(rc.slice(-k)) / args.beta; // nats of log-prob change per sequence (log pi - log pi_ref)
  const r = mean(rr.slice(-k)) / args.beta;
  const margin = mean(mg.slice(-k));
  if (!(c < -DISPLACEMENT_NATS && r < c && margin > 0)) return null;
  const steps: [number, number] = [rc.at(-k)!.step, rc.at(-1)!.step];
  // a note while the margin still grows (the preference is being learned); a warning once the margin
  // has fallen back from its best while chosen keeps losing probability
  // best margin of a window of k (one eval, or k training steps: single noisy steps do not count as a best)
  let best = -Infinity;
  for (let i = k; i <= mg.length; i++) best = Math.max(best, mean(mg.slice(i - k, i)));
  const stalled = mg.length >= 2 && margin < 0.9 * best;
  return {
    rule: 'likelihood-displacement',
    severity: stalled ? 'warning' : 'note',
    title: 'Likelihood displacement: chosen and rejected both became less likely',
    evidence: [
      { chart: 'rewards', steps, text: `${p}rewards/chosen ${fmt(c * args.beta)} and ${p}rewards/rejected ${fmt(r * args.beta)} at ${stepsText(steps)}: the policy gives the chosen answers ${fmt(-c)} nats less log-probability than the reference, the rejected ${fmt(-r)} less.` },
      { chart: 'margins', steps, text: `...while ${p}rewards/margins is ${fmt(margin)} > 0: the order is right, only because rejected fell faster.` },
      { chart: 'logps', steps, text: `${p}logps/chosen is ${fmt(mean(series(src, `${p}logps/chosen`).slice(-k)))} (summed over the completion).` },
    ],
    why: 'The DPO gradient pushes log pi(chosen) up and log pi(rejected) down with the same weight; when chosen and rejected share most of their tokens, the push down on the shared tokens wins and the probability mass goes to answers that are neither. The margin grows, yet the model would now rarely write the chosen answer itself.',
    tryThis: ['Add the SFT term on the chosen answers: rpo_alpha = 1 (RPO), which keeps log pi(chosen) up.', 'Lower learning_rate.', 'Start from an SFT model (SFT steps before DPO) so chosen is already likely.'],
  };
};

const lengthShortcut: Rule = ({ dataset, samples }) => {
  if (!dataset || dataset.pairs === 0 || dataset.chosenLonger < LENGTH_SHARE) return null;
  const evidence: Evidence[] = [
    { chart: 'dataset', steps: null, text: `The chosen answer is longer than the rejected one in ${pct(dataset.chosenLonger)} of the ${dataset.pairs} training pairs (mean ${fmt(dataset.meanChosen)} vs ${fmt(dataset.meanRejected)} tokens).` },
  ];
  let severity: Severity = 'warning';
  const s = samples?.filter((x) => x.reference > 0) ?? [];
  if (s.length) {
    const last = s.at(-1)!;
    const growth = last.policy / last.reference;
    evidence.push({ chart: 'frontier', steps: [s[0].step, last.step], text: `The policy's samples average ${fmt(last.policy)} words at step ${last.step}, the reference's ${fmt(last.reference)} (${growth >= 1 ? '+' : ''}${pct(growth - 1)}).` });
    if (growth >= SAMPLE_GROWTH) severity = 'alarm';
  }
  return {
    rule: 'length-shortcut',
    severity,
    title: 'Length shortcut: longer answers win most pairs',
    evidence,
    why: 'The sequence log-ratio sums over tokens, so a pair can be separated by making answers longer rather than better; when the longer answer is usually the chosen one, length alone predicts the preference and the policy learns to be verbose.',
    tryThis: ['Use a length-normalised loss (ipo averages the log-ratios over tokens; SimPO / length-normalised DPO do too).', 'Balance the dataset so chosen is not usually the longer answer.', 'Compare sample lengths of policy and reference as you train.'],
  };
};

const truncation: Rule = ({ dataset }) => {
  if (!dataset || dataset.pairs === 0 || dataset.truncated < TRUNCATION_SHARE) return null;
  return {
    rule: 'truncation',
    severity: 'alarm',
    title: 'Truncation cuts most completions',
    evidence: [
      { chart: 'dataset', steps: null, text: `max_length ${dataset.maxLength} cuts ${pct(dataset.truncated)} of the completions; in ${pct(dataset.bothTruncated)} of the pairs both chosen and rejected lose their ends.` },
    ],
    why: 'The loss only sees the tokens that fit in max_length. When the ends are cut, the part that makes one answer better is often what is lost, and two answers that start alike become (nearly) the same sequence: the pair then carries no preference and the run learns little or noise.',
    tryThis: ['Raise max_length so most prompt + completion pairs fit (the dataset panel shows the lengths).', 'Shorten long prompts (truncation_mode keep_end keeps the completion and cuts the prompt\'s start).'],
  };
};

const pairsDropped: Rule = ({ dataset }) => {
  if (!dataset || dataset.totalRows === 0 || dataset.dropped / dataset.totalRows < DROPPED_SHARE) return null;
  return {
    rule: 'pairs-dropped',
    severity: 'warning',
    title: 'Many pairs were dropped',
    evidence: [
      {
        chart: 'dataset',
        steps: null,
        text: `${dataset.dropped} of ${dataset.totalRows} records (${pct(dataset.dropped / dataset.totalRows)}) are not trained on${dataset.droppedTooLong ? `, ${dataset.droppedTooLong} of them because the prompt alone fills max_length` : ''}.`,
      },
    ],
    why: 'Records that do not parse, have an empty or identical chosen and rejected, or whose prompt leaves no room for a completion are skipped; the run learns from what is left, which may no longer be the data you meant.',
    tryThis: ['Read the reasons in the dataset panel and fix the file.', 'Raise max_length if prompts fill it.'],
  };
};

const alwaysClipped: Rule = ({ history, args }) => {
  if (!(args.max_grad_norm > 0)) return null;
  const g = series(history, 'grad_norm');
  if (g.length < CLIP_STEPS || !g.every((x) => x.v > args.max_grad_norm)) return null;
  const med = median(g.map((x) => x.v));
  if (med < CLIP_RATIO * args.max_grad_norm) return null;
  const steps: [number, number] = [g[0].step, g.at(-1)!.step];
  return {
    rule: 'always-clipped',
    severity: 'warning',
    title: 'The gradient is clipped on every step',
    evidence: [{ chart: 'optim', steps, text: `grad_norm is above max_grad_norm ${fmt(args.max_grad_norm)} on all ${g.length} steps (${stepsText(steps)}); median ${fmt(med)}, max ${fmt(Math.max(...g.map((x) => x.v)))}.` }],
    why: 'Clipping is meant to catch the rare huge step. When every gradient is many times the threshold, clipping rescales every step and hides how large the gradients are: the loss surface is steep where the run is (a too-high learning rate, tiny beta, or a few pairs with enormous log-ratios), and the optimiser is being held back each step rather than following the gradient.',
    tryThis: ['Lower learning_rate and watch grad_norm settle below max_grad_norm.', 'Raise beta (smaller margins, smaller gradients), or look for outlier pairs in the per-pair view.'],
  };
};

const RULES: Rule[] = [nonFinite, noLearning, referenceMismatch, overOptimisation, displacement, lengthShortcut, truncation, pairsDropped, alwaysClipped];

/** Every rule that fires on this run, alarms first. */
export function diagnose(inp: DiagnosisInput): Diagnosis[] {
  const a = inp.args;
  const l0 = lossAtZero(a.loss_type, a.beta, a.label_smoothing, a.loss_weights);
  const out: Diagnosis[] = [];
  for (const rule of RULES) {
    const d = rule(inp, l0);
    if (d) out.push(d);
  }
  const rank: Record<Severity, number> = { alarm: 0, warning: 1, note: 2 };
  return out.sort((x, y) => rank[x.severity] - rank[y.severity]);
}
