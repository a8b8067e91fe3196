// CPU float64 reference for src/shaders/adamw.wgsl: torch.optim.AdamW (single-tensor path), in place.

export interface AdamwRefOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based step count after this step (torch's state['step']) */
  step: number;
  weightDecay: number;
  /** global-norm clip coefficient applied to the gradient first (1 = no clipping) */
  clipCoef?: number;
}

export function adamwStepRef(param: Float64Array, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, o: AdamwRefOptions): void {
  const c = o.clipCoef ?? 1;
  const bc1 = 1 - o.beta1 ** o.step;
  const bc2 = 1 - o.beta2 ** o.step;
  const stepSize = o.lr / bc1;
  const bc2Sqrt = Math.sqrt(bc2);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i] * c;
    param[i] *= 1 - o.lr * o.weightDecay;
    m[i] += (1 - o.beta1) * (g - m[i]);
    v[i] = v[i] * o.beta2 + (1 - o.beta2) * g * g;
    const denom = Math.sqrt(v[i]) / bc2Sqrt + o.eps;
    param[i] -= stepSize * (m[i] / denom);
  }
}
