// The fused DPO loss on the GPU: per-pair losses, TRL's implicit rewards and the gradient with respect to
// the policy's sequence log-probs, in one dispatch. Formulas and the CPU twin: src/gpu/reference/dpo_loss.ts.
import { f32, type Gpu, type Tensor } from '../gpu/context';
import { needElems, needNoAlias } from '../gpu/ops/reduce';
import { checkDpoLossOptions, DPO_LOSS_KINDS, type DpoLossKind, type DpoLossOptions } from '../gpu/reference/dpo_loss';
import code from '../shaders/dpo_loss.wgsl?raw';

export type { DpoLossKind, DpoLossOptions };
export { DPO_LOSS_KINDS };

const KIND_ID: Record<DpoLossKind, number> = { sigmoid: 0, cdpo: 1, robust: 2, hinge: 3, ipo: 4 };

/**
 * inp.policy, inp.reference, inp.lengths: [2N] (chosen 0..N-1, rejected N..2N-1); lengths are completion
 * token counts as f32 (read by ipo only, clamped to >= 1 like TRL). inp.reference may be left out when
 * o.referenceFree (reference log-probs are then 0).
 * out.losses [N]: per-pair loss. out.rewards [2N]: beta * (policy - reference), chosen then rejected (TRL's
 * rewards/chosen and rewards/rejected before the mean; never length-normalized). out.dlogp [2N]:
 * d(gradScale * mean over pairs of the loss) / d policy logp.
 */
export function dpoLoss(
  gpu: Gpu,
  inp: { policy: Tensor; reference?: Tensor; lengths: Tensor },
  out: { losses: Tensor; rewards: Tensor; dlogp: Tensor },
  o: DpoLossOptions,
): void {
  const op = 'dpoLoss';
  checkDpoLossOptions(o);
  const N = o.N;
  if (!inp.reference && !o.referenceFree) throw new RangeError(`${op}: reference log-probs are required unless referenceFree is set.`);
  const reference = inp.reference ?? inp.policy; // bound but never read when reference-free
  needElems(op, 'policy', inp.policy, 2 * N);
  needElems(op, 'reference', reference, 2 * N);
  needElems(op, 'lengths', inp.lengths, 2 * N);
  needElems(op, 'losses', out.losses, N);
  needElems(op, 'rewards', out.rewards, 2 * N);
  needElems(op, 'dlogp', out.dlogp, 2 * N);
  const all = [inp.policy, reference, inp.lengths, out.losses, out.rewards, out.dlogp];
  needNoAlias(op, [out.losses, out.rewards, out.dlogp], all);
  gpu.dispatch(
    { name: 'dpo_loss', code },
    all,
    [N, KIND_ID[o.kind], f32(o.beta), f32(o.labelSmoothing), f32(o.gradScale ?? 1), o.referenceFree ? 1 : 0],
    1,
  );
}
