// The fused DPO loss on the GPU: per-pair losses (TRL's loss_type list with loss_weights), TRL's implicit
// rewards and the gradients with respect to the policy's sequence log-probs, in one dispatch. Formulas and
// the CPU twin: src/gpu/reference/dpo_loss.ts.
import { f32, type Gpu, type Tensor } from '../gpu/context';
import { needElems, needNoAlias } from '../gpu/ops/reduce';
import {
  checkDpoLossOptions,
  DPO_LOSS_KINDS,
  F_DIVERGENCE_KINDS,
  F_DIVERGENCES,
  lossTerms,
  TRL_LOSS_TYPES,
  type DpoLossKind,
  type DpoLossOptions,
  type DpoLossTerm,
  type FDivergence,
} from '../gpu/reference/dpo_loss';
import body from '../shaders/dpo_loss.wgsl?raw';
import stableMath from '../shaders/stable_math.wgsl?raw';

const code = stableMath + body;

export type { DpoLossKind, DpoLossOptions, DpoLossTerm, FDivergence };
export { DPO_LOSS_KINDS, F_DIVERGENCE_KINDS, F_DIVERGENCES, lossTerms, TRL_LOSS_TYPES };

const KIND_ID: Record<DpoLossKind, number> = {
  sigmoid: 0,
  cdpo: 1,
  robust: 2,
  hinge: 3,
  ipo: 4,
  exo_pair: 5,
  nca_pair: 6,
  bco_pair: 7,
  sppo_hard: 8,
  aot: 9,
  aot_unpaired: 10,
  apo_zero: 11,
  apo_down: 12,
  discopop: 13,
  sft: 14,
  sigmoid_norm: 15,
};
const FDIV_ID: Record<FDivergence, number> = { reverse_kl: 0, forward_kl: 1, js_divergence: 2, alpha_divergence: 3 };

/**
 * inp.policy, inp.reference, inp.lengths: [2N] (chosen 0..N-1, rejected N..2N-1); lengths are completion
 * token counts as f32 (ipo and sigmoid_norm, clamped to >= 1 like TRL). inp.reference may be left out when
 * o.referenceFree (reference log-probs are then 0). inp.plain [2N]: the unweighted completion log-prob sums
 * (the sft term; default: policy, the same without ld_alpha). inp.wpoSum / inp.wpoLen [2N]: WPO's aligned
 * log-prob sums and scored token counts (needed with o.useWeighting).
 * out.losses [N]: per-pair loss, every term weighted (mean = TRL's loss). out.rewards [2N]: beta * (policy -
 * reference). out.dlogp [2N]: d(gradScale * mean loss) / d policy logp. out.dplain [2N], optional:
 * d(gradScale * mean loss) / d plain (the sft term; rejected half 0).
 */
export function dpoLoss(
  gpu: Gpu,
  inp: { policy: Tensor; reference?: Tensor; lengths: Tensor; plain?: Tensor; wpoSum?: Tensor; wpoLen?: Tensor },
  out: { losses: Tensor; rewards: Tensor; dlogp: Tensor; dplain?: Tensor },
  o: DpoLossOptions,
): void {
  const op = 'dpoLoss';
  checkDpoLossOptions(o);
  const N = o.N;
  const terms = lossTerms(o);
  if (!inp.reference && !o.referenceFree) throw new RangeError(`${op}: reference log-probs are required unless referenceFree is set.`);
  if (o.useWeighting && !(inp.wpoSum && inp.wpoLen)) throw new RangeError(`${op}: use_weighting needs the WPO sums and lengths.`);
  const reference = inp.reference ?? inp.policy; // bound but never read when reference-free
  needElems(op, 'policy', inp.policy, 2 * N);
  needElems(op, 'reference', reference, 2 * N);
  needElems(op, 'lengths', inp.lengths, 2 * N);
  if (inp.plain) needElems(op, 'plain', inp.plain, 2 * N);
  if (inp.wpoSum) needElems(op, 'wpoSum', inp.wpoSum, 2 * N);
  if (inp.wpoLen) needElems(op, 'wpoLen', inp.wpoLen, 2 * N);
  needElems(op, 'losses', out.losses, N);
  needElems(op, 'rewards', out.rewards, 2 * N);
  needElems(op, 'dlogp', out.dlogp, 2 * N);
  if (out.dplain) needElems(op, 'dplain', out.dplain, 2 * N);
  const ins = [inp.policy, reference, inp.lengths, inp.plain, inp.wpoSum, inp.wpoLen].filter((t): t is Tensor => !!t);
  const outs = [out.losses, out.rewards, out.dlogp, out.dplain].filter((t): t is Tensor => !!t);
  needNoAlias(op, outs, [...ins, ...outs]);
  // the side inputs travel in one buffer and both gradients come out of one, to stay within 8 storage bindings
  const aux = gpu.tensor([8 * N]);
  gpu.copy(inp.lengths, aux, 0, 0, 2 * N);
  gpu.copy(inp.plain ?? inp.policy, aux, 0, 2 * N, 2 * N);
  if (o.useWeighting) {
    gpu.copy(inp.wpoSum!, aux, 0, 4 * N, 2 * N);
    gpu.copy(inp.wpoLen!, aux, 0, 6 * N, 2 * N);
  }
  const grad = gpu.tensor([4 * N]);
  const kinds = new Array<number>(8).fill(0);
  const weights = new Array<number>(8).fill(0);
  terms.forEach((t, k) => {
    kinds[k] = KIND_ID[t.kind];
    weights[k] = t.weight;
  });
  gpu.dispatch(
    { name: 'dpo_loss', code },
    [inp.policy, reference, aux, out.losses, out.rewards, grad],
    [
      N,
      terms.length,
      f32(o.beta),
      f32(o.labelSmoothing),
      f32(o.gradScale ?? 1),
      o.referenceFree ? 1 : 0,
      FDIV_ID[o.fDivergence ?? 'reverse_kl'],
      f32(o.fAlphaCoef ?? 0.5),
      f32(o.discopopTau ?? 0.05),
      o.useWeighting ? 1 : 0,
      f32(o.chosenTokens ?? 0),
      0,
      ...kinds,
      ...weights.map(f32),
    ],
    1,
  );
  gpu.copy(grad, out.dlogp, 0, 0, 2 * N);
  if (out.dplain) gpu.copy(grad, out.dplain, 2 * N, 0, 2 * N);
  gpu.release(aux, grad);
}
