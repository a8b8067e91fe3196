// TRL-named metrics of CPO / SimPO, ORPO and KTO micro-steps, as TRL 1.13 logs them: each micro-batch's
// values are appended to a list and `log` averages the lists (so an optimizer step reports the mean of its
// micro-batch means). KTO appends a class's rewards/logps/logits only when the micro-batch has that class,
// and rewards/margins only when it has both.
import type { Metrics } from './metrics';
import type { PreferenceStepResult } from './preference-step';

export function preferenceMetrics(results: PreferenceStepResult[]): Metrics {
  const lists = new Map<string, number[]>();
  const push = (k: string, v: number) => {
    const l = lists.get(k) ?? [];
    l.push(v);
    lists.set(k, l);
  };
  for (const r of results) {
    const N = r.N;
    const mean = (xs: ArrayLike<number>, from: number, to: number) => {
      let s = 0;
      for (let i = from; i < to; i++) s += xs[i];
      return s / Math.max(1, to - from);
    };
    push('loss', mean(r.losses, 0, N));
    if (r.kind === 'kto') {
      push('kl', r.stats[0]);
      push('entropy', r.entropyTokens > 0 ? r.entropySum / r.entropyTokens : 0);
      const sum = { rc: 0, lc: 0, nc: 0, rr: 0, lr: 0, nr: 0 };
      for (let i = 0; i < N; i++) {
        if (r.labels![i] > 0) {
          sum.rc += r.rewards[i];
          sum.lc += r.policyLogps[i];
          sum.nc++;
        } else {
          sum.rr += r.rewards[i];
          sum.lr += r.policyLogps[i];
          sum.nr++;
        }
      }
      if (r.logitCounts[0] > 0) push('logits/chosen', r.logitSums[0] / r.logitCounts[0]);
      if (r.logitCounts[1] > 0) push('logits/rejected', r.logitSums[1] / r.logitCounts[1]);
      if (sum.nc > 0) {
        push('rewards/chosen', sum.rc / sum.nc);
        push('logps/chosen', sum.lc / sum.nc);
      }
      if (sum.nr > 0) {
        push('rewards/rejected', sum.rr / sum.nr);
        push('logps/rejected', sum.lr / sum.nr);
      }
      if (sum.nc > 0 && sum.nr > 0) push('rewards/margins', sum.rc / sum.nc - sum.rr / sum.nr);
      continue;
    }
    // CPO / ORPO: logps are the (averaged, for ipo / simpo / orpo) log-probs the loss used, rewards beta * them
    const avg = r.kind === 'cpo_ipo' || r.kind === 'cpo_simpo' || r.kind === 'orpo';
    const x = (s: number) => (avg ? r.policyLogps[s] / Math.max(r.lengths[s], 1) : r.policyLogps[s]);
    let acc = 0;
    for (let i = 0; i < N; i++) acc += r.rewards[i] > r.rewards[N + i] ? 1 : 0;
    push('rewards/chosen', mean(r.rewards, 0, N));
    push('rewards/rejected', mean(r.rewards, N, 2 * N));
    push('rewards/accuracies', acc / N);
    push('rewards/margins', mean(r.rewards, 0, N) - mean(r.rewards, N, 2 * N));
    push('logps/chosen', mean(Array.from({ length: N }, (_, i) => x(i)), 0, N));
    push('logps/rejected', mean(Array.from({ length: N }, (_, i) => x(N + i)), 0, N));
    push('logits/chosen', r.logitSums[0] / Math.max(1, r.logitCounts[0]));
    push('logits/rejected', r.logitSums[1] / Math.max(1, r.logitCounts[1]));
    if (r.kind === 'orpo') {
      push('nll_loss', r.stats[2]);
      push('log_odds_ratio', r.stats[0]);
      push('log_odds_chosen', r.stats[1]);
    } else {
      push('nll_loss', r.stats[0]);
    }
  }
  const out: Metrics = {};
  for (const [k, l] of lists) out[k] = l.reduce((a, b) => a + b, 0) / l.length;
  return out;
}
