// AdamW on the GPU with torch.optim.AdamW's arithmetic. The per-step scalars live in a small storage tensor
// (`hyper`) written once per step, and the clip coefficient comes from gradNormAndClip on the GPU, so a
// training step needs no readback and every parameter's dispatch reuses one pipeline and uniform block.
import { f32, groups, type Gpu, type Tensor } from '../gpu/context';
import { needElems, needInt, needNoAlias } from '../gpu/ops/reduce';
import code from '../shaders/adamw.wgsl?raw';

/**
 * f32 words of the hyper tensor: [lr, beta1, beta2, eps, 1 - beta1^t, 1 - beta2^t, 1 - beta1, 1 - beta2].
 * The first 6 are required; with all 8 (recommended) the kernel multiplies by 1 - beta computed in float64
 * as torch does, instead of 1 - f32(beta) (which for beta2 = 0.999 is 1.3e-5 off relative in v).
 */
export const ADAMW_HYPER_SIZE = 8;
export const ADAMW_HYPER_MIN_SIZE = 6;

export interface AdamwHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based number of this step (torch's state['step'] after incrementing) */
  step: number;
}

/** The eight hyper words for a step (bias corrections and 1 - beta computed in float64). */
export function adamwHyperWords(h: AdamwHyper): Float32Array {
  const op = 'writeAdamwHyper';
  needInt(op, 'step', h.step);
  if (!(h.lr >= 0) || !Number.isFinite(h.lr)) throw new RangeError(`${op}: the learning rate must be a finite number >= 0, got ${h.lr}.`);
  for (const [k, b] of [['beta1', h.beta1], ['beta2', h.beta2]] as const) {
    if (!(b >= 0 && b < 1)) throw new RangeError(`${op}: ${k} must be in [0, 1), got ${b}.`);
  }
  if (!(h.eps >= 0) || !Number.isFinite(h.eps)) throw new RangeError(`${op}: eps must be a finite number >= 0, got ${h.eps}.`);
  return Float32Array.of(h.lr, h.beta1, h.beta2, h.eps, 1 - h.beta1 ** h.step, 1 - h.beta2 ** h.step, 1 - h.beta1, 1 - h.beta2);
}

/**
 * Writes [lr, beta1, beta2, eps, 1 - beta1^step, 1 - beta2^step] (+ [1 - beta1, 1 - beta2] when hyper holds
 * 8 elements) into `hyper`, queued before the next submit.
 */
export function writeAdamwHyper(gpu: Gpu, hyper: Tensor, h: AdamwHyper): void {
  needElems('writeAdamwHyper', 'hyper', hyper, ADAMW_HYPER_MIN_SIZE);
  const words = adamwHyperWords(h);
  gpu.write(hyper, hyper.size >= ADAMW_HYPER_SIZE ? words : words.subarray(0, ADAMW_HYPER_MIN_SIZE));
}

/**
 * One AdamW step on the first o.n elements, in place on param, m and v (m and v start at zero). hyper: see
 * ADAMW_HYPER_SIZE (6 or 8 words); clip: [norm, coef] from gradNormAndClip.
 *   g = grad * clip[1]; p *= 1 - lr*wd; m = lerp(m, g, 1-b1); v = b2 v + (1-b2) g^2;
 *   p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
 */
export function adamwStep(
  gpu: Gpu,
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  hyper: Tensor,
  clip: Tensor,
  o: { n: number; weightDecay: number },
): void {
  const op = 'adamwStep';
  needInt(op, 'n', o.n);
  if (!(o.weightDecay >= 0) || !Number.isFinite(o.weightDecay)) {
    throw new RangeError(`${op}: weight decay must be a finite number >= 0, got ${o.weightDecay}.`);
  }
  needElems(op, 'param', param, o.n);
  needElems(op, 'grad', grad, o.n);
  needElems(op, 'm', m, o.n);
  needElems(op, 'v', v, o.n);
  needElems(op, 'hyper', hyper, ADAMW_HYPER_MIN_SIZE);
  needElems(op, 'clip', clip, 2);
  const all = [param, grad, m, v, hyper, clip];
  needNoAlias(op, [param, m, v], all);
  gpu.dispatch({ name: 'adamw', code }, all, [o.n, f32(o.weightDecay), hyper.size >= ADAMW_HYPER_SIZE ? 1 : 0], groups(o.n, 256));
}
