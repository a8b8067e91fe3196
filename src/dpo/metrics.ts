// TRL-named metrics of a DPO batch from the few scalars a micro-step reads back.
import type { MicroStepResult } from './step';

export type Metrics = Record<string, number>;

/** Metrics of one or more micro-batches (averaged over all their pairs, as TRL logs them). */
export function dpoMetrics(results: MicroStepResult[], vocabSize: number): Metrics {
  let n = 0;
  let loss = 0;
  let rc = 0;
  let rr = 0;
  let acc = 0;
  let lc = 0;
  let lr = 0;
  let klSum = 0;
  let scored = 0;
  let logitC = 0;
  let logitR = 0;
  let tokC = 0;
  let tokR = 0;
  for (const r of results) {
    const N = r.losses.length;
    for (let i = 0; i < N; i++) {
      loss += r.losses[i];
      rc += r.rewards[i];
      rr += r.rewards[N + i];
      acc += r.rewards[i] > r.rewards[N + i] ? 1 : 0;
      lc += r.policyLogps[i];
      lr += r.policyLogps[N + i];
    }
    n += N;
    klSum += r.klSum;
    scored += r.scoredTokens;
    logitC += r.logitSumChosen;
    logitR += r.logitSumRejected;
    tokC += r.chosenTokens;
    tokR += r.rejectedTokens;
  }
  return {
    loss: loss / n,
    'rewards/chosen': rc / n,
    'rewards/rejected': rr / n,
    'rewards/accuracies': acc / n,
    'rewards/margins': (rc - rr) / n,
    'logps/chosen': lc / n,
    'logps/rejected': lr / n,
    'logits/chosen': logitC / Math.max(1, tokC * vocabSize),
    'logits/rejected': logitR / Math.max(1, tokR * vocabSize),
    nll_loss_chosen_per_token: -lc / Math.max(1, tokC),
    'kl/token_mean_exact': klSum / Math.max(1, scored),
  };
}

/** sigma(r_l - r_w): DPO's per-pair gradient weight (large where the pair is ordered wrongly). */
export function gradientWeights(r: MicroStepResult): Float32Array {
  const N = r.losses.length;
  const w = new Float32Array(N);
  for (let i = 0; i < N; i++) w[i] = 1 / (1 + Math.exp(-(r.rewards[N + i] - r.rewards[i])));
  return w;
}
