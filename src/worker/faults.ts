// A GPU fault as the page shows it: the engine's GpuFaultError (src/gpu/fault.ts) said in terms of the
// run (which step failed, the step it can continue from) and, for out-of-memory, the memory estimate and
// which single change of settings would fit, each computed with the estimator.
import { GpuFaultError, type GpuFaultKind } from '../gpu/context';
import type { ModelConfig } from '../model/config';
import type { TrainerArgs } from '../dpo/trainer';
import { estimateMemory, fmtBytes, type AdapterLimits } from './memory';

/** LoRA as the out-of-memory advice proposes it (PEFT's common choice for small models). */
const ADVICE_LORA = { r: 16, lora_alpha: 32, target_modules: 'all-linear' } as const;

export interface MemoryAdvice {
  /** The estimate of the run that failed. */
  totalBytes: number;
  /** What the buffer pool held before the refused allocation (0: not known). */
  allocatedBytes: number;
  /** What the comparison used as the GPU's capacity. */
  capacityBytes: number;
  /** Single changes that would fit, in the page's / TRL's words. */
  fits: string[];
  /** The changes tried that would not fit alone. */
  tooBig: string[];
}

/**
 * Which single change would fit where this run ran out of memory. The GPU's capacity is taken as what
 * the buffer pool held when it refused (`allocatedBytes`), but never above the failed run's estimate (it
 * did not fit, so the GPU has less than it really needs); a change fits when its estimate is 10% below.
 */
export function memoryAdvice(cfg: ModelConfig, a: TrainerArgs, seqLen: number, limits: AdapterLimits, allocatedBytes: number): MemoryAdvice {
  const est = (p: Partial<TrainerArgs>) => estimateMemory(cfg, { ...a, ...p }, seqLen, limits, Infinity).totalBytes;
  const totalBytes = est({});
  const capacityBytes = allocatedBytes > 0 ? Math.min(allocatedBytes, totalBytes) : totalBytes;
  const fitsIn = (p: Partial<TrainerArgs>) => est(p) <= 0.9 * capacityBytes;
  const fits: string[] = [];
  const tooBig: string[] = [];
  const tryChange = (label: string, candidates: { label: string; patch: Partial<TrainerArgs> }[]) => {
    const ok = candidates.find((c) => fitsIn(c.patch));
    if (ok) fits.push(ok.label);
    else if (candidates.length) tooBig.push(label);
  };
  const bs = a.per_device_train_batch_size;
  const smaller: { label: string; patch: Partial<TrainerArgs> }[] = [];
  for (let b = Math.floor(bs / 2); b >= 1; b = Math.floor(b / 2)) {
    const keep = bs % b === 0 ? ` with gradient_accumulation_steps ${(a.gradient_accumulation_steps * bs) / b} to keep the batch` : '';
    smaller.push({ label: `per_device_train_batch_size ${b}${keep}`, patch: { per_device_train_batch_size: b, gradient_accumulation_steps: bs % b === 0 ? (a.gradient_accumulation_steps * bs) / b : a.gradient_accumulation_steps } });
    if (b === 1) break;
  }
  tryChange('a smaller per_device_train_batch_size', smaller);
  const T = Math.max(1, Math.min(seqLen, a.max_length ?? seqLen, cfg.maxPositions));
  const shorter: { label: string; patch: Partial<TrainerArgs> }[] = [];
  for (let L = 2 ** Math.floor(Math.log2(T - 1 || 1)); L >= 16 && L < T; L /= 2) shorter.push({ label: `max_length ${L}`, patch: { max_length: L } });
  tryChange('a shorter max_length', shorter);
  if (!a.lora) tryChange('LoRA', [{ label: `LoRA (r=${ADVICE_LORA.r}, lora_alpha=${ADVICE_LORA.lora_alpha} on ${ADVICE_LORA.target_modules})`, patch: { lora: { ...ADVICE_LORA } } }]);
  if (!a.gradient_checkpointing) tryChange('gradient_checkpointing', [{ label: 'gradient_checkpointing', patch: { gradient_checkpointing: true } }]);
  if (!a.precompute_ref_log_probs && !a.reference_free && !a.lora) tryChange('precompute_ref_log_probs', [{ label: 'precompute_ref_log_probs', patch: { precompute_ref_log_probs: true } }]);
  return { totalBytes, allocatedBytes, capacityBytes, fits, tooBig };
}

const list = (xs: string[], last = 'or') => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} ${last} ${xs.at(-1)}`);

export function adviceSentence(m: MemoryAdvice): string {
  const gave = m.allocatedBytes > 0 ? `; the GPU refused more after giving ${fmtBytes(m.allocatedBytes)}` : '';
  const head = `By the estimate this run needs about ${fmtBytes(m.totalBytes)}${gave}.`;
  if (m.fits.length === 0) return `${head} None of ${list(m.tooBig)} alone would fit: pick a smaller model, or combine them.`;
  const alone = m.tooBig.length ? ` (${list(m.tooBig)} alone would not)` : '';
  return `${head} It would fit with ${list(m.fits)}${alone}: change it and start the run again.`;
}

export interface FaultContext {
  /** Where the run was: "step 7", "the start (computing the reference log-probs)", "SFT step 3". */
  where: string;
  /** The step the run can continue from, null when nothing can be continued. */
  savedStep: number | null;
  /** For out-of-memory: the advice sentence (adviceSentence). */
  memory?: string;
}

const WHAT: Record<GpuFaultKind, (detail: string, where: string) => string> = {
  // the browser's own words for a loss ("A valid external Instance reference no longer exists") say nothing to a user: kept in detail only
  'device-lost': (_d, w) => `The GPU device was lost during ${w}: browsers lose it when the GPU process restarts, the driver updates or the computer sleeps.`,
  'out-of-memory': (d, w) => `The GPU ran out of memory during ${w}${d ? ` (${d})` : ''}.`,
  validation: (d, w) => `WebGPU refused the work of ${w} as invalid${d ? ` (${d})` : ''}: a bug in the playground, not in your settings; please report it with this message.`,
  internal: (d, w) => `The GPU driver reported an internal error during ${w}${d ? ` (${d})` : ''}.`,
};

/** The sentence the page shows for a fault: what happened, what was kept, what to do. */
export function faultSentence(f: GpuFaultError, c: FaultContext): string {
  const parts = [WHAT[f.kind](f.detail, c.where)];
  if (c.memory) parts.push(c.memory);
  if (c.savedStep === null) parts.push('Nothing of this run was saved yet: start it again.');
  else if (c.savedStep === 0) parts.push(`Nothing after step 0 was recorded: press "Continue from step 0" to run it again${f.kind === 'device-lost' ? ' on a new GPU device' : ''}.`);
  else parts.push(`No metrics were recorded for the failed step and the run is saved at step ${c.savedStep}: press "Continue from step ${c.savedStep}" to go on${f.kind === 'device-lost' ? ' on a new GPU device' : ''}, or export it as it is.`);
  return parts.join(' ');
}

/** The fault re-said for the page (same kind and detail, the run's sentence). */
export function runFault(f: GpuFaultError, c: FaultContext): GpuFaultError {
  return new GpuFaultError(f.kind, faultSentence(f, c), f.detail, f.allocatedBytes);
}
