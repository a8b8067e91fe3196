// One DPO micro-step on the GPU, recorded into a single command encoder:
//   reference forward (or precomputed reference log-probs) -> policy forward -> fused DPO loss ->
//   d loss / d token log-probs -> policy backward (gradients accumulate) -> the metric reductions.
// Only a few scalars per pair come back to the CPU at the end.
import type { Gpu, Tensor } from '../gpu/context';
import { Scratch } from '../gpu/scratch';
import { addInPlace, scale } from '../gpu/ops/elementwise';
import { maskedSum, sequenceLogps, sequenceLogpsBackward } from '../gpu/ops/reduce';
import type { ParamSet } from '../model/params';
import type { Transformer } from '../model/transformer';
import type { GpuPairBatch } from './gpu-batch';
import { dpoLoss, type DpoLossKind, type DpoLossTerm, type FDivergence } from './loss';

export interface DpoLossOptions {
  beta: number;
  /** One loss kind; ignored when `terms` is given. */
  kind?: DpoLossKind;
  /** TRL's loss_type list with loss_weights. */
  terms?: readonly DpoLossTerm[];
  labelSmoothing: number;
  referenceFree?: boolean;
  /** Multiplies the gradient (1 / gradient_accumulation_steps). */
  gradScale?: number;
  /** RPO: adds rpo_alpha * (mean NLL over the batch's chosen tokens) to the loss, i.e. an sft term. */
  rpoAlpha?: number;
  fDivergence?: FDivergence;
  fAlphaCoef?: number;
  discopopTau?: number;
  /** WPO (TRL's use_weighting). */
  useWeighting?: boolean;
  /** LD-DPO (TRL's ld_alpha): tokens past the shorter completion's length count ld_alpha times. */
  ldAlpha?: number | null;
}

/** The loss terms of the options: `terms` or `kind`, plus RPO's sft term. */
export function stepTerms(o: DpoLossOptions): DpoLossTerm[] {
  const t: DpoLossTerm[] = [...(o.terms ?? [{ kind: o.kind ?? 'sigmoid', weight: 1 }])];
  if (o.rpoAlpha) t.push({ kind: 'sft', weight: o.rpoAlpha });
  return t;
}

/**
 * LD-DPO's per-token weights (TRL 1.13 _compute_loss): along each completion, the first min(chosen, rejected)
 * scored tokens weigh 1, the rest ld_alpha; rows that are not scored weigh 0.
 */
export function ldTokenWeights(scored: Float32Array, N: number, T: number, alpha: number): Float32Array {
  const w = new Float32Array(scored.length);
  const len = (s: number) => {
    let c = 0;
    for (let t = 0; t < T; t++) c += scored[s * T + t];
    return c;
  };
  for (let i = 0; i < N; i++) {
    const shared = Math.min(len(i), len(N + i));
    for (const s of [i, N + i]) {
      let pos = 0;
      for (let t = 0; t < T; t++) {
        const r = s * T + t;
        if (scored[r] > 0) {
          pos++;
          w[r] = pos <= shared ? 1 : alpha;
        }
      }
    }
  }
  return w;
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
  /** Sum over scored rows of the next-token entropy (TRL's entropy = entropySum / scoredTokens). */
  entropySum: number;
  /** Chosen scored rows whose argmax is the target (TRL's mean_token_accuracy = / chosenTokens). */
  chosenHits: number;
  /** [2N] d(gradScale * mean loss) / d policy logp, as the loss kernel computed it (the per-pair gradient weight). */
  dlogp: Float32Array;
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
  /** TRL's entropy / mean_token_accuracy statistics (an extra pass over the logits); default true, always with WPO. */
  stats?: boolean;
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
  const scratch = new Scratch(gpu);
  const t = (shape: number[]) => scratch.tensor(shape);
  const up = (x: Float32Array) => scratch.upload(x);
  const terms = stepTerms(o);
  // the mask the sequence log-probs sum with: the scored rows, or LD-DPO's weights on them
  const seqMask = o.ldAlpha != null ? up(ldTokenWeights(batch.host.scored, batch.N, batch.T, o.ldAlpha)) : batch.scored;

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
    sequenceLogps(gpu, refLp.logp, seqMask, refSeq, { S, T: batch.T });
  } else {
    if (ref.logps.length !== S) throw new Error(`precomputed reference log-probs: expected ${S}, got ${ref.logps.length}`);
    gpu.write(refSeq, ref.logps);
  }

  // policy (with the per-token entropy / argmax / WPO statistics TRL logs)
  const train = o.grads !== null;
  const state = policy.forward(batch.seq, train);
  const wantStats = o.stats !== false || !!o.useWeighting;
  const lp = policy.tokenLogprobs(state, wantStats);
  const polSeq = t([S]);
  sequenceLogps(gpu, lp.logp, seqMask, polSeq, { S, T: batch.T });
  const plain = o.ldAlpha != null ? t([S]) : polSeq;
  if (plain !== polSeq) sequenceLogps(gpu, lp.logp, batch.scored, plain, { S, T: batch.T });
  const stat = (k: number) => {
    const x = t([R]);
    gpu.copy(lp.stats!, x, k * R, 0, R);
    return x;
  };
  let wpoSum: Tensor | undefined;
  let wpoLen: Tensor | undefined;
  if (o.useWeighting) {
    wpoSum = t([S]);
    sequenceLogps(gpu, stat(2), batch.scored, wpoSum, { S, T: batch.T });
    const len = new Float32Array(S);
    for (let r = 0; r < R; r++) len[Math.floor(r / batch.T)] += batch.host.scored[r];
    wpoLen = up(len);
  }

  const losses = t([batch.N]);
  const rewards = t([S]);
  const dlogp = t([S]);
  const dplain = t([S]);
  dpoLoss(gpu, { policy: polSeq, reference: refSeq, lengths: batch.lengths, plain, wpoSum, wpoLen }, { losses, rewards, dlogp, dplain }, {
    N: batch.N,
    beta: o.beta,
    terms,
    labelSmoothing: o.labelSmoothing,
    referenceFree: o.referenceFree,
    gradScale: o.gradScale ?? 1,
    fDivergence: o.fDivergence,
    fAlphaCoef: o.fAlphaCoef,
    discopopTau: o.discopopTau,
    useWeighting: o.useWeighting,
    chosenTokens: batch.host.chosenTokens,
  });

  // metrics: [kl, logits chosen, logits rejected, entropy, chosen argmax hits]
  const sums = t([5]);
  gpu.zero(sums);
  if (o.kl && refState && refLp && 'model' in ref) {
    const kl = policy.tokenKl(state, lp, ref.model, refState, refLp);
    maskedSum(gpu, kl, batch.scored, sums, { R, outIndex: 0 });
    gpu.release(kl);
  }
  maskedSum(gpu, lp.logitSum, batch.scoredChosen, sums, { R, outIndex: 1 });
  maskedSum(gpu, lp.logitSum, batch.scoredRejected, sums, { R, outIndex: 2 });
  if (wantStats) {
    maskedSum(gpu, lp.stats!, batch.scored, sums, { R, outIndex: 3 }); // entropy is stats[0, R)
    maskedSum(gpu, stat(1), batch.scoredChosen, sums, { R, outIndex: 4 });
  }

  const toRead: Tensor[] = [polSeq, refSeq, losses, rewards, sums, dlogp];
  if (o.tokenLogps) toRead.push(lp.logp);
  if (o.tokenLogps && refLp) toRead.push(refLp.logp);

  if (train) {
    const g = t([R]);
    sequenceLogpsBackward(gpu, dlogp, seqMask, g, { S, T: batch.T });
    if (terms.some((x) => x.kind === 'sft')) {
      // the sft term's gradient reaches every chosen completion token, unweighted by ld_alpha
      const gs = t([R]);
      sequenceLogpsBackward(gpu, dplain, batch.scored, gs, { S, T: batch.T });
      addInPlace(gpu, g, gs, R);
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
  scratch.release();
  const [pol, refl, loss, rew, s, dl] = out;
  return {
    policyLogps: pol.slice(0, S),
    referenceLogps: refl.slice(0, S),
    losses: loss.slice(0, batch.N),
    rewards: rew.slice(0, S),
    klSum: s[0],
    logitSumChosen: s[1],
    logitSumRejected: s[2],
    entropySum: s[3],
    chosenHits: s[4],
    dlogp: dl.slice(0, S),
    scoredTokens: batch.host.chosenTokens + batch.host.rejectedTokens,
    chosenTokens: batch.host.chosenTokens,
    rejectedTokens: batch.host.rejectedTokens,
    policyTokenLogps: o.tokenLogps ? out[6].slice(0, R) : undefined,
    referenceTokenLogps: o.tokenLogps && refLp ? out[7].slice(0, R) : undefined,
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
