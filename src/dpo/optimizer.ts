// AdamW over every parameter chunk, after global-norm clipping, all on the GPU. The gradient norm is
// read back BEFORE the update so that a NaN/Inf gradient skips the step and keeps the last good weights.
import type { Gpu, Tensor } from '../gpu/context';
import { gradNormAndClip, sumSquares } from '../gpu/ops/reduce';
import type { ModelConfig } from '../model/config';
import { allChunks, releaseParams, zeroParams, zerosLike, type ParamSet } from '../model/params';
import { adamwStep, writeAdamwHyper } from './adamw';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maxGradNorm: number;
  /** Decay every parameter (the golden fixtures); otherwise biases and norm weights are not decayed (HF Trainer). */
  decayAll?: boolean;
}

export class NonFiniteGradientError extends Error {
  override name = 'NonFiniteGradientError';
}

export class AdamW {
  readonly m: ParamSet;
  readonly v: ParamSet;
  step = 0;
  private readonly hyper: Tensor;
  private readonly partial: Tensor;
  private readonly norm: Tensor;

  constructor(
    private readonly gpu: Gpu,
    _cfg: ModelConfig,
    private readonly params: ParamSet,
    private readonly grads: ParamSet,
  ) {
    // moments only for what is trained (the model's parameters, or LoRA adapters: `cfg` is then unused)
    this.m = zerosLike(gpu, params);
    this.v = zerosLike(gpu, params);
    this.hyper = gpu.tensor([8], 'f32', true);
    this.partial = gpu.tensor([allChunks(grads).length], 'f32', true);
    this.norm = gpu.tensor([2], 'f32', true);
  }

  /** Global L2 norm of the accumulated gradients (before clipping); also prepares the clip coefficient. */
  async gradNorm(maxGradNorm: number): Promise<number> {
    const chunks = allChunks(this.grads);
    sumSquares(this.gpu, chunks, this.partial);
    gradNormAndClip(this.gpu, this.partial, chunks.length, this.norm, maxGradNorm);
    const [n] = await this.gpu.read(this.norm);
    return n[0];
  }

  /** Clips, checks and applies one AdamW update; returns the gradient norm before clipping. */
  async apply(o: AdamWOptions): Promise<number> {
    const norm = await this.gradNorm(o.maxGradNorm);
    if (!Number.isFinite(norm)) {
      throw new NonFiniteGradientError(
        `The gradient became ${norm} at step ${this.step + 1}; the update was skipped and the last good weights were kept. Lower the learning rate or beta, or check the data.`,
      );
    }
    this.step++;
    writeAdamwHyper(this.gpu, this.hyper, { lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, step: this.step });
    for (const [name, p] of this.params) {
      const g = this.grads.get(name)!;
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const wd = p.decay || o.decayAll ? o.weightDecay : 0;
      p.chunks.forEach((c, i) => adamwStep(this.gpu, c, g.chunks[i], m.chunks[i], v.chunks[i], this.hyper, this.norm, { n: c.size, weightDecay: wd }));
    }
    return norm;
  }

  zeroGrads(): void {
    zeroParams(this.gpu, this.grads);
  }

  release(): void {
    releaseParams(this.gpu, this.m);
    releaseParams(this.gpu, this.v);
    this.gpu.release(this.hyper, this.partial, this.norm);
  }
}
