// The trainers beside DPO inside the trainer's loop and evaluation: one CPO / ORPO / KTO micro-step on a
// collated batch with the run's options (the GPU work is src/dpo/preference-step.ts). KTO scores its
// examples against the reference (a separate model, or the policy with its LoRA adapters off) and passes
// each example's label.
import type { Gpu } from '../gpu/context';
import type { LoraAdapters } from '../model/lora';
import type { ParamSet } from '../model/params';
import type { Transformer } from '../model/transformer';
import { releasePairBatch, uploadPairBatch } from './gpu-batch';
import type { KtoExample } from './kto-data';
import { preferenceMicroStep, type PreferenceStepResult } from './preference-step';
import { preferenceKind } from './preference-trainer';
import type { DpoBatch, TokenizedPair } from './tokenize';
import type { TrainerArgs } from './trainer-args';

/** The models of a run as a preference step sees them. */
export interface PreferenceModels {
  policy: Transformer;
  reference: Transformer | null;
  lora: LoraAdapters | null;
  /** With LoRA: the reference is the policy with its adapters off. */
  loraRef: boolean;
}

/** One CPO / ORPO / KTO micro-step on a collated batch; grads null = evaluation (no backward). */
export async function preferenceStep(
  gpu: Gpu,
  m: PreferenceModels,
  a: TrainerArgs,
  packed: DpoBatch,
  pairs: readonly TokenizedPair[],
  grads: ParamSet | null,
  gradScale: number,
): Promise<PreferenceStepResult> {
  const kind = preferenceKind(a);
  const ref = kind !== 'kto' ? null : m.reference ? { model: m.reference } : m.loraRef && m.lora ? { model: m.policy, adapters: m.lora.toggle } : null;
  const batch = uploadPairBatch(gpu, packed);
  try {
    return await preferenceMicroStep(gpu, m.policy, ref, packed, batch, {
      kind,
      beta: a.beta,
      labelSmoothing: a.label_smoothing,
      cpoAlpha: a.cpo_alpha,
      simpoGamma: a.simpo_gamma,
      desirableWeight: a.desirable_weight,
      undesirableWeight: a.undesirable_weight,
      gradScale,
      labels: kind === 'kto' ? pairs.map((x) => ((x as KtoExample).label ? 1 : 0)) : undefined,
      grads,
    });
  } finally {
    releasePairBatch(gpu, batch);
  }
}
