// One micro-step of TRL 1.13's trainers beside DPO, on the GPU in one command encoder:
//   CPO / SimPO and ORPO: policy forward only (no reference is held) -> fused loss -> backward;
//   KTO: reference forward and policy forward over the batch's completions AND their mismatched KL
//   completions (rows N..2N-1, TRL's KL_completion_ids) -> fused loss (KL point detached) -> backward.
// The batch is a collated pair batch (src/dpo/tokenize.ts collate): for CPO/ORPO the chosen/rejected pairs,
// for KTO (completion_i, KL completion_i) per example (src/dpo/kto-data.ts). Only a few scalars come back.
import type { Gpu, Tensor } from '../gpu/context';
import { Scratch } from '../gpu/scratch';
import { addInPlace } from '../gpu/ops/elementwise';
import { maskedSum, sequenceLogps, sequenceLogpsBackward } from '../gpu/ops/reduce';
import type { ParamSet } from '../model/params';
import { NO_TARGET, type Transformer } from '../model/transformer';
import type { GpuPairBatch } from './gpu-batch';
import { preferenceLoss, type PreferenceKind } from './preference-loss';
import type { DpoBatch } from './tokenize';

export interface PreferenceStepOptions {
  kind: PreferenceKind;
  beta: number;
  labelSmoothing: number;
  cpoAlpha: number;
  simpoGamma: number;
  desirableWeight: number;
  undesirableWeight: number;
  gradScale: number;
  /** KTO: 1 desirable, 0 undesirable, per example. */
  labels?: readonly number[];
  grads: ParamSet | null;
}

export interface PreferenceStepResult {
  kind: PreferenceKind;
  N: number;
  policyLogps: Float32Array; // [2N] completion sums
  referenceLogps: Float32Array | null; // [2N] (KTO)
  lengths: Float32Array; // [2N]
  losses: Float32Array; // [N]
  rewards: Float32Array; // [2N]
  dlogp: Float32Array; // [2N]
  /** ORPO: [mean log sigma(log odds), mean log odds, nll]; KTO: [kl, 0, 0]; CPO: [nll, 0, nll]. */
  stats: Float32Array;
  labels: readonly number[] | null;
  /** Logit sums (over the vocabulary) and the counts TRL divides them by, chosen then rejected. */
  logitSums: [number, number];
  logitCounts: [number, number];
  /** KTO: entropy sum over the completions' scored rows, and their count. */
  entropySum: number;
  entropyTokens: number;
}

export async function preferenceMicroStep(
  gpu: Gpu,
  policy: Transformer,
  /** KTO's reference (with LoRA: the policy, its adapters switched off while the reference forward is recorded). */
  ref: { model: Transformer; adapters?: { enabled: boolean } } | null,
  host: DpoBatch,
  batch: GpuPairBatch,
  o: PreferenceStepOptions,
): Promise<PreferenceStepResult> {
  const { N, T } = batch;
  const S = 2 * N;
  const R = S * T;
  const V = policy.cfg.vocabSize;
  const kto = o.kind === 'kto';
  const reference = ref?.model ?? null;
  if (kto && !reference) throw new Error('KTO needs its reference model.');
  if (kto && o.labels?.length !== N) throw new Error(`KTO: expected ${N} labels, got ${o.labels?.length}`);
  const scratch = new Scratch(gpu);
  const t = (shape: number[]) => scratch.tensor(shape);
  const up = (x: Float32Array) => scratch.upload(x);
  const sc = batch.host.scored;

  // masks (host, tiny): the NLL's rows, and the rows TRL's logits/* average over
  const nllMask = new Float32Array(R);
  let nllTokens = 0;
  if (o.kind === 'orpo') {
    // ORPO's NLL: every attended target of the chosen sequences, prompt included (labels = input_ids where attended)
    for (let s = 0; s < N; s++) for (let r = 0; r + 1 < host.seqLens[s]; r++) nllMask[s * T + r] = 1;
  } else if (!kto) {
    for (let r = 0; r < N * T; r++) nllMask[r] = sc[r]; // CPO: the chosen completions
  }
  for (const m of nllMask) nllTokens += m;
  const logitMasks = [new Float32Array(R), new Float32Array(R)];
  const logitCounts: [number, number] = [0, 0];
  for (let s = 0; s < S; s++) {
    for (let r = 0; r < T; r++) {
      const i = s * T + r;
      let side = -1;
      let on = 0;
      if (kto) {
        // TRL's KTO: completion tokens of desirable (chosen) / undesirable examples; KL rows do not count
        if (s < N) side = o.labels![s] > 0 ? 0 : 1;
        on = sc[i];
      } else {
        // CPO: the mean of the whole padded [N, T, V] logits; ORPO: without the last position. Pad rows count, so
        // their logits must be transformers': the batch's seq.lens masks their attention to the row's real tokens
        side = s < N ? 0 : 1;
        on = o.kind === 'orpo' && r === T - 1 ? 0 : 1;
      }
      if (side >= 0 && on) {
        logitMasks[side][i] = 1;
        logitCounts[side] += V;
      }
    }
  }

  let refSeq: Tensor | undefined;
  if (reference) {
    const was = ref!.adapters?.enabled;
    if (ref!.adapters) ref!.adapters.enabled = false;
    try {
      const rs = reference.forward(batch.seq, false);
      const rlp = reference.tokenLogprobs(rs);
      refSeq = t([S]);
      sequenceLogps(gpu, rlp.logp, batch.scored, refSeq, { S, T });
      // released after recording: the pool may reuse the buffers only for work recorded later
      reference.releaseState(rs);
      reference.releaseLogprobs(rlp);
    } finally {
      if (ref!.adapters) ref!.adapters.enabled = was!;
    }
  }

  // ORPO's NLL scores the prompt tokens too: their next-token targets (the batch sets only the completion's)
  let seq = batch.seq;
  if (o.kind === 'orpo') {
    const targets = new Uint32Array(R).fill(NO_TARGET);
    for (let s = 0; s < S; s++) for (let r = 0; r + 1 < host.seqLens[s]; r++) targets[s * T + r] = host.inputIds[s * T + r + 1];
    const tt = scratch.upload(targets, [R]);
    seq = { ...batch.seq, targets: tt };
  }
  const train = o.grads !== null;
  const state = policy.forward(seq, train);
  const lp = policy.tokenLogprobs(state, kto);
  const polSeq = t([S]);
  sequenceLogps(gpu, lp.logp, batch.scored, polSeq, { S, T });
  const nllMaskT = up(nllMask);
  const nll2 = t([S]);
  sequenceLogps(gpu, lp.logp, nllMaskT, nll2, { S, T });
  const nll = t([N]);
  gpu.copy(nll2, nll, 0, 0, N);
  const labelsT = kto ? up(Float32Array.from(o.labels!)) : undefined;

  const losses = t([N]);
  const rewards = t([S]);
  const dlogp = t([S]);
  const dnll = t([N]);
  const stats = t([3]);
  preferenceLoss(gpu, { policy: polSeq, reference: refSeq, lengths: batch.lengths, nll, labels: labelsT }, { losses, rewards, dlogp, dnll, stats }, {
    N,
    kind: o.kind,
    beta: o.beta,
    labelSmoothing: o.labelSmoothing,
    cpoAlpha: o.cpoAlpha,
    simpoGamma: o.simpoGamma,
    desirableWeight: o.desirableWeight,
    undesirableWeight: o.undesirableWeight,
    nllTokens,
    gradScale: o.gradScale,
  });

  // [logits chosen, logits rejected, entropy]
  const sums = t([3]);
  gpu.zero(sums);
  maskedSum(gpu, lp.logitSum, up(logitMasks[0]), sums, { R, outIndex: 0 });
  maskedSum(gpu, lp.logitSum, up(logitMasks[1]), sums, { R, outIndex: 1 });
  if (kto) maskedSum(gpu, lp.stats!, batch.scoredChosen, sums, { R, outIndex: 2 }); // entropy is stats[0, R)
  const toRead: Tensor[] = [polSeq, losses, rewards, dlogp, stats, sums];
  if (refSeq) toRead.push(refSeq);

  if (train) {
    const g = t([R]);
    sequenceLogpsBackward(gpu, dlogp, batch.scored, g, { S, T });
    if (nllTokens > 0) {
      const dn2 = t([S]);
      gpu.zero(dn2);
      gpu.copy(dnll, dn2, 0, 0, N);
      const gn = t([R]);
      sequenceLogpsBackward(gpu, dn2, nllMaskT, gn, { S, T });
      addInPlace(gpu, g, gn, R);
    }
    policy.backward(state, lp, g, o.grads!);
  } else {
    policy.releaseState(state);
  }
  const out = await gpu.read(...toRead);
  policy.releaseLogprobs(lp);
  scratch.release();
  const [pol, loss, rew, dl, st, sm] = out;
  return {
    kind: o.kind,
    N,
    policyLogps: pol.slice(0, S),
    referenceLogps: refSeq ? out[6].slice(0, S) : null,
    lengths: batch.host.lengths.slice(),
    losses: loss.slice(0, N),
    rewards: rew.slice(0, S),
    dlogp: dl.slice(0, S),
    stats: st.slice(0, 3),
    labels: o.labels ?? null,
    logitSums: [sm[0], sm[1]],
    logitCounts,
    entropySum: sm[2],
    entropyTokens: batch.host.chosenTokens,
  };
}
