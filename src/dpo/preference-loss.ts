// The fused loss of CPO / SimPO, ORPO and KTO on the GPU: per-row losses, TRL's rewards and the gradients
// with respect to the sequence log-prob sums (and the NLL's sums), in one dispatch. Formulas and the CPU twin:
// src/gpu/reference/preference_loss.ts.
import { f32, type Gpu, type Tensor } from '../gpu/context';
import { needElems, needNoAlias } from '../gpu/ops/reduce';
import {
  checkPreferenceLossOptions,
  PREFERENCE_KINDS,
  type PreferenceKind,
  type PreferenceLossOptions,
} from '../gpu/reference/preference_loss';
import body from '../shaders/preference_loss.wgsl?raw';
import stableMath from '../shaders/stable_math.wgsl?raw';

const code = stableMath + body;

export type { PreferenceKind, PreferenceLossOptions };
export { PREFERENCE_KINDS };

const KIND_ID: Record<PreferenceKind, number> = { cpo_sigmoid: 0, cpo_hinge: 1, cpo_ipo: 2, cpo_simpo: 3, orpo: 4, kto: 5 };

/**
 * inp.policy, inp.lengths: [2N]; inp.reference [2N] (KTO); inp.nll [N] the chosen rows' sums over the NLL's
 * tokens (CPO with cpo_alpha != 0, ORPO); inp.labels [N] (KTO, 1 desirable).
 * out.losses [N], out.rewards [2N], out.dlogp [2N], out.dnll [N], out.stats [3] (see the reference).
 */
export function preferenceLoss(
  gpu: Gpu,
  inp: { policy: Tensor; reference?: Tensor; lengths: Tensor; nll?: Tensor; labels?: Tensor },
  out: { losses: Tensor; rewards: Tensor; dlogp: Tensor; dnll: Tensor; stats: Tensor },
  o: PreferenceLossOptions,
): void {
  const op = 'preferenceLoss';
  checkPreferenceLossOptions(o);
  const N = o.N;
  const alpha = o.kind === 'orpo' ? 1 : o.kind === 'kto' ? 0 : (o.cpoAlpha ?? 1);
  if (o.kind === 'kto' && !(inp.reference && inp.labels)) throw new RangeError(`${op}: KTO needs the reference log-probs and the labels.`);
  if (alpha !== 0 && !inp.nll) throw new RangeError(`${op}: the NLL term needs the chosen rows' NLL sums.`);
  needElems(op, 'policy', inp.policy, 2 * N);
  needElems(op, 'lengths', inp.lengths, 2 * N);
  if (inp.reference) needElems(op, 'reference', inp.reference, 2 * N);
  if (inp.nll) needElems(op, 'nll', inp.nll, N);
  if (inp.labels) needElems(op, 'labels', inp.labels, N);
  needElems(op, 'losses', out.losses, N);
  needElems(op, 'rewards', out.rewards, 2 * N);
  needElems(op, 'dlogp', out.dlogp, 2 * N);
  needElems(op, 'dnll', out.dnll, N);
  needElems(op, 'stats', out.stats, 3);
  const ins = [inp.policy, inp.reference, inp.lengths, inp.nll, inp.labels].filter((t): t is Tensor => !!t);
  const outs = [out.losses, out.rewards, out.dlogp, out.dnll, out.stats];
  needNoAlias(op, outs, [...ins, ...outs]);
  // side inputs in one buffer, both gradients out of one: within 8 storage bindings
  const aux = gpu.tensor([4 * N]);
  gpu.zero(aux);
  gpu.copy(inp.lengths, aux, 0, 0, 2 * N);
  if (inp.nll) gpu.copy(inp.nll, aux, 0, 2 * N, N);
  if (inp.labels) gpu.copy(inp.labels, aux, 0, 3 * N, N);
  const grad = gpu.tensor([3 * N]);
  gpu.dispatch(
    { name: 'preference_loss', code },
    [inp.policy, inp.reference ?? inp.policy, aux, out.losses, out.rewards, grad, out.stats],
    [
      N,
      KIND_ID[o.kind],
      f32(o.beta),
      f32(o.labelSmoothing ?? 0),
      f32(o.gradScale ?? 1),
      f32(alpha),
      f32(o.simpoGamma ?? 0.5),
      f32(o.desirableWeight ?? 1),
      f32(o.undesirableWeight ?? 1),
      f32(o.nllTokens ?? 0),
      0,
      0,
    ],
    1,
  );
  gpu.copy(grad, out.dlogp, 0, 0, 2 * N);
  gpu.copy(grad, out.dnll, 2 * N, 0, N);
  gpu.release(aux, grad);
}
