// Learning-rate schedules with Hugging Face's semantics (transformers.optimization):
// the multiplier for optimizer step k (0-based) is lambda(k); warmup steps = ceil(warmup_ratio * total)
// unless warmup_steps is given.
export type LrSchedulerType = 'linear' | 'cosine' | 'constant' | 'constant_with_warmup';

export function warmupSteps(total: number, warmupRatio: number, warmupStepsArg = 0): number {
  return warmupStepsArg > 0 ? warmupStepsArg : Math.ceil(total * warmupRatio);
}

export function lrLambda(type: LrSchedulerType, step: number, total: number, warmup: number): number {
  if (type === 'constant') return 1;
  if (step < warmup) return step / Math.max(1, warmup);
  if (type === 'constant_with_warmup') return 1;
  const progress = (step - warmup) / Math.max(1, total - warmup);
  if (type === 'linear') return Math.max(0, (total - step) / Math.max(1, total - warmup));
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
