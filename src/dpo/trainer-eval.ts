// Evaluation on the held-out pairs: TRL's metrics with the eval_ prefix, and one record per pair for the
// page (log-probs, rewards, the loss's weight on the pair, per-token log-probs for "which tokens moved").
// DPO through its micro-step without gradients; CPO / ORPO / KTO through their preference step (KTO: one
// record per example).
import type { Gpu } from '../gpu/context';
import type { Transformer } from '../model/transformer';
import { releasePairBatch, uploadPairBatch } from './gpu-batch';
import { dpoMetrics, gradientWeights } from './metrics';
import { preferenceMetrics } from './preference-metrics';
import type { PreferenceStepResult } from './preference-step';
import { dpoMicroStep, type MicroStepResult, type ReferenceSource } from './step';
import { pairTokens } from './token-moves';
import type { DpoBatch, TokenizedPair } from './tokenize';
import type { TrainerArgs } from './trainer-args';
import type { LogRecord, PairRecord, TrainerEvents } from './trainer-types';

export interface Evaluation {
  metrics: LogRecord;
  pairs: PairRecord[];
}

/** What evaluation needs of the trainer. */
export interface EvalHost {
  gpu: Gpu;
  args: TrainerArgs;
  vocabSize: number;
  policy: Transformer;
  pairs: readonly TokenizedPair[];
  step: number;
  epoch: number;
  pack(pairs: readonly TokenizedPair[]): DpoBatch;
  /** The reference of eval pairs `indices` (a model, or their precomputed log-probs). */
  refSource(indices: number[], N: number): ReferenceSource;
  /** The DPO micro-step's options for evaluation (no gradients, KL and stats as at a logged step). */
  lossOpts(): Parameters<typeof dpoMicroStep>[4];
  preferenceStep(packed: DpoBatch, pairs: readonly TokenizedPair[]): Promise<PreferenceStepResult>;
}

function finish(h: EvalHost, m: Record<string, number>, records: PairRecord[], events: TrainerEvents): Evaluation {
  const metrics: LogRecord = { step: h.step, epoch: h.epoch };
  for (const [k, v] of Object.entries(m)) metrics[`eval_${k}`] = v;
  events.onEval?.(metrics, records);
  return { metrics, pairs: records };
}

/** DPO: loss and metrics on the held-out pairs (prefix eval_), plus one record per pair. */
export async function evaluateDpo(h: EvalHost, events: TrainerEvents): Promise<Evaluation> {
  const pairs = h.pairs;
  const results: MicroStepResult[] = [];
  const records: PairRecord[] = [];
  const bs = h.args.per_device_eval_batch_size;
  for (let i = 0; i < pairs.length; i += bs) {
    const chunk = pairs.slice(i, i + bs);
    const idx = chunk.map((_, j) => i + j);
    const packed = h.pack(chunk);
    const batch = uploadPairBatch(h.gpu, packed);
    const r = await dpoMicroStep(h.gpu, h.policy, h.refSource(idx, chunk.length), batch, { ...h.lossOpts(), tokenLogps: true });
    releasePairBatch(h.gpu, batch);
    results.push(r);
    const N = chunk.length;
    const weights = gradientWeights(r, h.args.beta);
    for (let j = 0; j < N; j++) {
      const rc = r.rewards[j];
      const rr = r.rewards[N + j];
      records.push({
        index: i + j,
        policyChosen: r.policyLogps[j],
        policyRejected: r.policyLogps[N + j],
        referenceChosen: r.referenceLogps[j],
        referenceRejected: r.referenceLogps[N + j],
        rewardChosen: rc,
        rewardRejected: rr,
        margin: rc - rr,
        weight: weights[j],
        tokens: r.policyTokenLogps && pairTokens(packed, j, r.policyTokenLogps, r.referenceTokenLogps ?? null),
      });
    }
  }
  return finish(h, results.length ? dpoMetrics(results, h.vocabSize) : {}, records, events);
}

/** CPO / ORPO / KTO evaluation: TRL's metrics with the eval_ prefix, and one record per pair (KTO: per example). */
export async function evaluatePreference(h: EvalHost, events: TrainerEvents): Promise<Evaluation> {
  const pairs = h.pairs;
  const results: PreferenceStepResult[] = [];
  const records: PairRecord[] = [];
  const bs = h.args.per_device_eval_batch_size;
  for (let i = 0; i < pairs.length; i += bs) {
    const chunk = pairs.slice(i, i + bs);
    const r = await h.preferenceStep(h.pack(chunk), chunk);
    results.push(r);
    const N = chunk.length;
    for (let j = 0; j < N; j++) {
      const rc = r.rewards[j];
      const rr = r.kind === 'kto' ? 0 : r.rewards[N + j];
      records.push({
        index: i + j,
        policyChosen: r.policyLogps[j],
        policyRejected: r.policyLogps[N + j],
        referenceChosen: r.referenceLogps?.[j] ?? 0,
        referenceRejected: r.referenceLogps?.[N + j] ?? 0,
        rewardChosen: rc,
        rewardRejected: rr,
        margin: rc - rr,
        weight: (-(r.dlogp[j] - (r.kind === 'kto' ? 0 : r.dlogp[N + j])) * N) / (2 * h.args.beta),
      });
    }
  }
  return finish(h, results.length ? preferenceMetrics(results) : {}, records, events);
}
