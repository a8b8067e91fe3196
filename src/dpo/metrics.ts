// TRL-named metrics of a DPO batch from the few scalars a micro-step reads back.
import type { MicroStepResult } from './step';

export type Metrics = Record<string, number>;

/**
 * Metrics of one or more micro-batches, as TRL 1.13 logs them: DPOTrainer appends each micro-batch's
 * mean to a list and `log` averages the list, so an optimizer step whose micro-batches differ in size
 * (the last one of an epoch) reports the mean of the micro-batch means, not the mean over pairs; the
 * Trainer's `loss` is likewise the sum of loss / micro-batches. logits/* are token means per micro-batch
 * (TRL), kl/token_mean_exact and nll_loss_chosen_per_token (ours) are pooled over all tokens. num_tokens
 * (TRL's running count of attended tokens) is the trainer's.
 */
export function dpoMetrics(results: MicroStepResult[], vocabSize: number): Metrics {
  const keys = [
    'loss',
    'entropy',
    'mean_token_accuracy',
    'rewards/chosen',
    'rewards/rejected',
    'rewards/accuracies',
    'rewards/margins',
    'logps/chosen',
    'logps/rejected',
    'logits/chosen',
    'logits/rejected',
  ] as const;
  const out: Metrics = Object.fromEntries(keys.map((k) => [k, 0]));
  let lcAll = 0;
  let klSum = 0;
  let scored = 0;
  let tokCAll = 0;
  for (const r of results) {
    const N = r.losses.length;
    let loss = 0;
    let rc = 0;
    let rr = 0;
    let acc = 0;
    let lc = 0;
    let lr = 0;
    for (let i = 0; i < N; i++) {
      loss += r.losses[i];
      rc += r.rewards[i];
      rr += r.rewards[N + i];
      acc += r.rewards[i] > r.rewards[N + i] ? 1 : 0;
      lc += r.policyLogps[i];
      lr += r.policyLogps[N + i];
    }
    const m: Record<(typeof keys)[number], number> = {
      loss: loss / N,
      // TRL 1.13: entropy over every completion token of the micro-batch, accuracy of argmax on the chosen ones
      entropy: r.scoredTokens > 0 ? r.entropySum / r.scoredTokens : 0,
      mean_token_accuracy: r.chosenTokens > 0 ? r.chosenHits / r.chosenTokens : 0,
      'rewards/chosen': rc / N,
      'rewards/rejected': rr / N,
      'rewards/accuracies': acc / N,
      'rewards/margins': (rc - rr) / N,
      'logps/chosen': lc / N,
      'logps/rejected': lr / N,
      'logits/chosen': r.chosenTokens > 0 ? r.logitSumChosen / (r.chosenTokens * vocabSize) : 0,
      'logits/rejected': r.rejectedTokens > 0 ? r.logitSumRejected / (r.rejectedTokens * vocabSize) : 0,
    };
    for (const k of keys) out[k] += m[k] / results.length;
    lcAll += lc;
    tokCAll += r.chosenTokens;
    klSum += r.klSum;
    scored += r.scoredTokens;
  }
  out.nll_loss_chosen_per_token = -lcAll / Math.max(1, tokCAll);
  out['kl/token_mean_exact'] = klSum / Math.max(1, scored);
  return out;
}

/**
 * The weight the run's loss gives each pair: minus the gradient of the pair's loss with respect to its margin
 * of log-ratios, per unit beta, -(dL/dlc - dL/dlr) / (2 beta). For sigmoid (DPO) this is sigma(r_l - r_w), large
 * where the pair is ordered wrongly; for every other kind (and combination, WPO) it is what the kernel applied.
 */
export function gradientWeights(r: MicroStepResult, beta: number, gradScale = 1): Float32Array {
  const N = r.losses.length;
  const w = new Float32Array(N);
  for (let i = 0; i < N; i++) w[i] = (-(r.dlogp[i] - r.dlogp[N + i]) * N) / (2 * beta * gradScale);
  return w;
}
