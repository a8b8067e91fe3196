// One DPO micro-step on the GPU, recorded into a single command encoder:
//   reference forward (or precomputed reference log-probs) -> policy forward -> fused DPO loss ->
//   d loss / d token log-probs -> policy backward (gradients accumulate) -> the metric reductions.
// Only a few scalars per pair come back to the CPU at the end.
import type { Gpu, Tensor } from '../gpu/context';
import { addInPlace, scale } from '../gpu/ops/elementwise';
import { maskedSum, sequenceLogps, sequenceLogpsBackward } from '../gpu/ops/reduce';
import type { ParamSet } from '../model/params';
import type { Transformer } from '../model/transformer';
import type { GpuPairBatch } from './gpu-batch';
import { dpoLoss, type DpoLossKind } from './loss';

export interface DpoLossOptions {
  beta: number;
  kind: DpoLossKind;
  labelSmoothing: number;
  referenceFree?: boolean;
  /** Multiplies the gradient (1 / gradient_accumulation_steps). */
  gradScale?: number;
  /** RPO: adds rpo_alpha * (mean NLL over the batch's chosen tokens) to the loss. */
  rpoAlpha?: number;
}

export interface MicroStepResult {
  policyLogps: Float32Array; // [2N] chosen then rejected
  referenceLogps: Float32Array; // [2N]
  losses: Float32Array; // [N]
  rewards: Float32Array; // [2N]
  /** Sums over scored rows: [kl (all 2N seqs), logits chosen, logits rejected], and the counts. */
  klSum: number;
  logitSumChosen: number;
  logitSumRejected: number;
  scoredTokens: number;
  chosenTokens: number;
  rejectedTokens: number;
  /** Per-token log-probs [2N*T] (row s*T+t holds log p(ids[t+1])), when asked for. */
  policyTokenLogps?: Float32Array;
  referenceTokenLogps?: Float32Array;
}

/**
 * The reference: a model, or precomputed sequence log-probs. With LoRA the model is the policy itself and
 * `adapters` its switch, turned off while the reference forward is recorded (TRL with a peft_config).
 */
export type ReferenceSource = { model: Transformer; adapters?: { enabled: boolean } } | { logps: Float32Array };

export interface MicroStepOptions extends DpoLossOptions {
  /** Compute the exact token KL (needs the reference model). */
  kl?: boolean;
  /** Return per-token log-probs too (golden checks). */
  tokenLogps?: boolean;
  /** Accumulate gradients into `grads`; when null, only the forward and the loss are computed. */
  grads: ParamSet | null;
}

export async function dpoMicroStep(
  gpu: Gpu,
  policy: Transformer,
  ref: ReferenceSource,
  batch: GpuPairBatch,
  o: MicroStepOptions,
): Promise<MicroStepResult> {
  const S = 2 * batch.N;
  const R = S * batch.T;
  const tmp: Tensor[] = [];
  const t = (shape: number[]) => {
    const x = gpu.tensor(shape);
    tmp.push(x);
    return x;
  };

  // reference
  const refSeq = t([S]);
  let refState = null;
  let refLp = null;
  if ('model' in ref) {
    const was = ref.adapters?.enabled;
    if (ref.adapters) ref.adapters.enabled = false;
    try {
      refState = ref.model.forward(batch.seq, false);
      refLp = ref.model.tokenLogprobs(refState);
    } finally {
      if (ref.adapters) ref.adapters.enabled = was!;
    }
    sequenceLogps(gpu, refLp.logp, batch.scored, refSeq, { S, T: batch.T });
  } else {
    if (ref.logps.length !== S) throw new Error(`precomputed reference log-probs: expected ${S}, got ${ref.logps.length}`);
    gpu.write(refSeq, ref.logps);
  }

  // policy
  const train = o.grads !== null;
  const state = policy.forward(batch.seq, train);
  const lp = policy.tokenLogprobs(state);
  const polSeq = t([S]);
  sequenceLogps(gpu, lp.logp, batch.scored, polSeq, { S, T: batch.T });

  const losses = t([batch.N]);
  const rewards = t([S]);
  const dlogp = t([S]);
  dpoLoss(gpu, { policy: polSeq, reference: refSeq, lengths: batch.lengths }, { losses, rewards, dlogp }, {
    N: batch.N,
    beta: o.beta,
    kind: o.kind,
    labelSmoothing: o.labelSmoothing,
    referenceFree: o.referenceFree,
    gradScale: o.gradScale ?? 1,
  });

  // metrics: [kl, logits chosen, logits rejected]
  const sums = t([3]);
  gpu.zero(sums);
  if (o.kl && refState && refLp && 'model' in ref) {
    const kl = policy.tokenKl(state, lp, ref.model, refState, refLp);
    maskedSum(gpu, kl, batch.scored, sums, { R, outIndex: 0 });
    gpu.release(kl);
  }
  maskedSum(gpu, lp.logitSum, batch.scoredChosen, sums, { R, outIndex: 1 });
  maskedSum(gpu, lp.logitSum, batch.scoredRejected, sums, { R, outIndex: 2 });

  const toRead: Tensor[] = [polSeq, refSeq, losses, rewards, sums];
  if (o.tokenLogps) toRead.push(lp.logp);
  if (o.tokenLogps && refLp) toRead.push(refLp.logp);

  if (train) {
    const g = t([R]);
    sequenceLogpsBackward(gpu, dlogp, batch.scored, g, { S, T: batch.T });
    if (o.rpoAlpha) {
      // d/d logp_token of rpo_alpha * (-sum chosen logps / chosen tokens), times the accumulation scale
      const rpo = t([R]);
      const k = (-o.rpoAlpha * (o.gradScale ?? 1)) / Math.max(1, batch.host.chosenTokens);
      scale(gpu, batch.scoredChosen, rpo, R, k);
      addInPlace(gpu, g, rpo, R);
    }
    // the token log-probs are read back before backward releases what it no longer needs
    policy.backward(state, lp, g, o.grads!);
  } else {
    policy.releaseState(state);
  }
  const out = await gpu.read(...toRead);
  policy.releaseLogprobs(lp);
  if (refState && refLp && 'model' in ref) {
    ref.model.releaseState(refState);
    ref.model.releaseLogprobs(refLp);
  }
  gpu.release(...tmp);
  const [pol, refl, loss, rew, s] = out;
  return {
    policyLogps: pol.slice(0, S),
    referenceLogps: refl.slice(0, S),
    losses: loss.slice(0, batch.N),
    rewards: rew.slice(0, S),
    klSum: s[0],
    logitSumChosen: s[1],
    logitSumRejected: s[2],
    scoredTokens: batch.host.chosenTokens + batch.host.rejectedTokens,
    chosenTokens: batch.host.chosenTokens,
    rejectedTokens: batch.host.rejectedTokens,
    policyTokenLogps: o.tokenLogps ? out[5].slice(0, R) : undefined,
    referenceTokenLogps: o.tokenLogps && refLp ? out[6].slice(0, R) : undefined,
  };
}

export interface SftMicroStepResult {
  /** Sum of the chosen tokens' log-probs and their count (loss = -sum / count). */
  logpSum: number;
  tokens: number;
}

/**
 * SFT on the chosen completions (to make a reference when the user has none, as in the DPO paper):
 * gradient of -(sum of completion-token log-probs) / `windowTokens`, where windowTokens counts the
 * completion tokens of every micro-batch of the optimizer step (Hugging Face's num_items_in_batch).
 */
export async function sftMicroStep(gpu: Gpu, policy: Transformer, batch: GpuPairBatch, grads: ParamSet | null, windowTokens: number): Promise<SftMicroStepResult> {
  const R = batch.S * batch.T;
  const state = policy.forward(batch.seq, grads !== null);
  const lp = policy.tokenLogprobs(state);
  const sum = gpu.tensor([1], 'f32', true);
  maskedSum(gpu, lp.logp, batch.scored, sum, { R, outIndex: 0 });
  if (grads) {
    const g = gpu.tensor([R]);
    scale(gpu, batch.scored, g, R, -1 / Math.max(1, windowTokens));
    policy.backward(state, lp, g, grads);
    gpu.release(g);
  } else {
    policy.releaseState(state);
  }
  const [s] = await gpu.read(sum);
  policy.releaseLogprobs(lp);
  gpu.release(sum);
  return { logpSum: s[0], tokens: batch.host.chosenTokens };
}
