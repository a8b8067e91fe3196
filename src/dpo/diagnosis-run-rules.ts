// The rules over the run's train and eval metric history (TRL's names, as the trainer logs them): NaN/Inf,
// no learning, a reference that is not the start, over-optimisation, likelihood displacement and a
// gradient clipped on every step. Each returns data (codes and numbers); the page says it.
import { evidence, tryThis } from './diagnosis-codes';
import { chartOf, ends, mean, median, series } from './diagnosis-series';
import {
  CLIP_RATIO,
  CLIP_STEPS,
  DISPLACEMENT_NATS,
  FIRST_STEP_TOL,
  NO_LEARNING_STEPS,
  NO_LEARNING_TOL,
  OVEROPT_ACC,
  OVEROPT_EVAL_RISE,
  OVEROPT_KL_RISE,
  OVEROPT_LOSS_SHARE,
  WINDOW,
} from './diagnosis-thresholds';
import type { Evidence, Rule } from './diagnosis-types';

export const nonFinite: Rule = ({ history, evalHistory, failure }) => {
  const bad: { step: number; key: string; v: number }[] = [];
  for (const r of [...history, ...evalHistory]) {
    for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && !Number.isFinite(v)) bad.push({ step: r.step, key: k, v });
  }
  const stopped = failure && /non-finite|NaN|Inf/i.test(failure.message) ? failure : null;
  if (!bad.length && !stopped) return null;
  const ev: Evidence[] = [];
  if (bad.length) {
    const first = bad[0];
    ev.push(evidence(chartOf(first.key), [first.step, bad.at(-1)!.step], 'non-finite.value', { key: first.key, value: first.v, step: first.step, count: bad.length }));
  }
  if (stopped) ev.push(evidence('loss', [stopped.step, stopped.step], 'non-finite.stopped', { step: stopped.step }));
  return {
    rule: 'non-finite',
    severity: 'alarm',
    evidence: ev,
    tryThis: [tryThis('lower-lr-by', { factor: 10 }), tryThis('keep-clipping', { maxGradNorm: 1 }), tryThis('add-warmup', { warmupRatio: 0.1 })],
  };
};

export const noLearning: Rule = ({ history, args }, l0) => {
  const loss = series(history, 'loss');
  if (loss.length === 0 || loss.at(-1)!.step < NO_LEARNING_STEPS) return null;
  // the last window (the run may have started well and then stalled at h = 0, e.g. lr decayed to 0 is not this)
  const tail = history.filter((r) => r.step > loss.at(-1)!.step - NO_LEARNING_STEPS);
  const fromStart = args.reference_free || !Number.isFinite(l0);
  const ref = fromStart ? history[0].loss : l0;
  const tol = NO_LEARNING_TOL * Math.max(1, Math.abs(ref));
  const lossStuck = tail.every((r) => Number.isFinite(r.loss) && Math.abs(r.loss - ref) <= tol);
  const rewardMax = Math.max(...tail.map((r) => Math.max(Math.abs(r['rewards/chosen'] ?? 0), Math.abs(r['rewards/rejected'] ?? 0))));
  const marginMoved = args.reference_free ? Math.max(...tail.map((r) => Math.abs((r['rewards/margins'] ?? 0) - (history[0]['rewards/margins'] ?? 0)))) : rewardMax;
  if (!lossStuck || marginMoved > tol) return null;
  const steps: [number, number] = [tail[0].step, tail.at(-1)!.step];
  const lrs = series(history, 'learning_rate');
  const lrMax = lrs.length ? Math.max(...lrs.map((x) => x.v)) : args.learning_rate;
  const lossEv = fromStart
    ? evidence('loss', steps, 'no-learning.loss-first', { tol, ref })
    : evidence('loss', steps, args.loss_type === 'sigmoid' ? 'no-learning.loss-log2' : 'no-learning.loss-h0', { tol, ref, lossType: args.loss_type });
  return {
    rule: 'no-learning',
    severity: 'alarm',
    evidence: [
      lossEv,
      evidence('rewards', steps, args.reference_free ? 'no-learning.margin-still' : 'no-learning.rewards-zero', { moved: marginMoved }),
      evidence('optim', steps, 'no-learning.lr-peak', { lr: lrMax }),
    ],
    tryThis: [tryThis('raise-lr', { pretrainedLow: 5e-7, pretrainedHigh: 5e-6, demo: 1e-3 }), tryThis('check-pairs-differ'), tryThis('check-warmup')],
  };
};

export const referenceMismatch: Rule = ({ history, args }, l0) => {
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
    evidence: [
      evidence('loss', [1, 1], 'reference-mismatch.first-loss', { loss: first.loss, lossType: args.loss_type, l0 }),
      evidence('rewards', [1, 1], 'reference-mismatch.first-rewards', { chosen: rc, rejected: rr }),
    ],
    tryThis: [tryThis('same-checkpoint'), tryThis('dropout-off'), tryThis('recompute-reference')],
  };
};

export const overOptimisation: Rule = ({ history, evalHistory, args }, l0) => {
  const loss = series(history, 'loss');
  const acc = series(history, 'rewards/accuracies');
  if (loss.length < 2 * WINDOW) return null;
  const tailLoss = mean(loss.slice(-WINDOW));
  const tailAcc = mean(acc.slice(-WINDOW));
  if (!(tailLoss < OVEROPT_LOSS_SHARE * l0 && tailAcc >= OVEROPT_ACC)) return null;
  const tailSteps: [number, number] = [loss.at(-WINDOW)!.step, loss.at(-1)!.step];
  const ev: Evidence[] = [evidence('loss', tailSteps, 'over-optimisation.loss', { loss: tailLoss, l0 }), evidence('accuracies', tailSteps, 'over-optimisation.accuracy', { accuracy: tailAcc })];
  let climbing = 0;
  const m = series(history, 'rewards/margins');
  if (m.length >= 2 * WINDOW) {
    const e = ends(m);
    ev.push(evidence('margins', [e.firstSteps[0], e.lastSteps[1]], 'over-optimisation.margins', { first: e.first, last: e.last, nats: e.last / Math.max(args.beta, 1e-9) }));
  }
  const kl = series(history, 'kl/token_mean_exact');
  if (kl.length >= 2 * WINDOW) {
    const e = ends(kl);
    if (e.last > OVEROPT_KL_RISE * e.first && e.last > 0) {
      climbing++;
      ev.push(evidence('kl', [e.firstSteps[0], e.lastSteps[1]], 'over-optimisation.kl', { first: e.first, last: e.last }));
    }
  }
  const evl = series(evalHistory, 'eval_loss');
  if (evl.length >= 2) {
    let lo = 0;
    for (let i = 1; i < evl.length; i++) if (evl[i].v < evl[lo].v) lo = i;
    const last = evl.at(-1)!;
    if (lo < evl.length - 1 && last.v > OVEROPT_EVAL_RISE * evl[lo].v) {
      climbing++;
      ev.push(evidence('loss', [evl[lo].step, last.step], 'over-optimisation.eval-rose', { low: evl[lo].v, lowStep: evl[lo].step, last: last.v, lastStep: last.step }));
    } else if (last.v > l0) {
      climbing++;
      ev.push(evidence('loss', [evl[0].step, last.step], 'over-optimisation.eval-above-start', { last: last.v, lastStep: last.step, l0 }));
    }
  }
  if (climbing === 0) return null;
  return {
    rule: 'over-optimisation',
    severity: 'alarm',
    evidence: ev,
    tryThis: [tryThis('lower-lr-range', { low: 3, high: 10 }), tryThis('raise-beta'), tryThis('bounded-loss'), tryThis('check-shortcut')],
  };
};

export const displacement: Rule = ({ history, evalHistory, args }) => {
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
    evidence: [
      evidence('rewards', steps, 'likelihood-displacement.rewards', { chosenKey: `${p}rewards/chosen`, chosen: c * args.beta, rejectedKey: `${p}rewards/rejected`, rejected: r * args.beta, chosenNats: -c, rejectedNats: -r }),
      evidence('margins', steps, 'likelihood-displacement.margins', { key: `${p}rewards/margins`, margin }),
      evidence('logps', steps, 'likelihood-displacement.logps', { key: `${p}logps/chosen`, logps: mean(series(src, `${p}logps/chosen`).slice(-k)) }),
    ],
    tryThis: [tryThis('add-sft-term', { rpoAlpha: 1 }), tryThis('lower-lr'), tryThis('start-from-sft')],
  };
};

export const alwaysClipped: Rule = ({ history, args }) => {
  if (!(args.max_grad_norm > 0)) return null;
  const g = series(history, 'grad_norm');
  if (g.length < CLIP_STEPS || !g.every((x) => x.v > args.max_grad_norm)) return null;
  const med = median(g.map((x) => x.v));
  if (med < CLIP_RATIO * args.max_grad_norm) return null;
  const steps: [number, number] = [g[0].step, g.at(-1)!.step];
  return {
    rule: 'always-clipped',
    severity: 'warning',
    evidence: [evidence('optim', steps, 'always-clipped.norms', { maxGradNorm: args.max_grad_norm, count: g.length, median: med, max: Math.max(...g.map((x) => x.v)) })],
    tryThis: [tryThis('lower-lr-watch-norm'), tryThis('raise-beta-or-outliers')],
  };
};
