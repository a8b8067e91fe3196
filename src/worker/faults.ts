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
  /** `fits` and `tooBig` as codes with their numbers, for the page's sentence in its language. */
  fitChanges: Change[];
  tooBigChanges: Change[];
}

/**
 * A change of settings as data: 'batch' (per_device_train_batch_size `size`, with
 * gradient_accumulation_steps `accumulation` when it keeps the batch), 'length' (max_length `length`),
 * 'lora' (r, lora_alpha, target_modules), 'checkpointing', 'precompute'; a change that would not fit
 * alone has no numbers ("a smaller per_device_train_batch_size").
 */
export interface Change {
  code: 'batch' | 'length' | 'lora' | 'checkpointing' | 'precompute';
  params?: Record<string, string | number>;
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
  const fitChanges: Change[] = [];
  const tooBigChanges: Change[] = [];
  type Candidate = { label: string; patch: Partial<TrainerArgs>; change: Change };
  const tryChange = (label: string, code: Change['code'], candidates: Candidate[]) => {
    const ok = candidates.find((c) => fitsIn(c.patch));
    if (ok) {
      fits.push(ok.label);
      fitChanges.push(ok.change);
    } else if (candidates.length) {
      tooBig.push(label);
      tooBigChanges.push({ code });
    }
  };
  const bs = a.per_device_train_batch_size;
  const smaller: Candidate[] = [];
  for (let b = Math.floor(bs / 2); b >= 1; b = Math.floor(b / 2)) {
    const accumulation = (a.gradient_accumulation_steps * bs) / b;
    const keep = bs % b === 0 ? ` with gradient_accumulation_steps ${accumulation} to keep the batch` : '';
    smaller.push({
      label: `per_device_train_batch_size ${b}${keep}`,
      patch: { per_device_train_batch_size: b, gradient_accumulation_steps: bs % b === 0 ? accumulation : a.gradient_accumulation_steps },
      change: { code: 'batch', params: bs % b === 0 ? { size: b, accumulation } : { size: b } },
    });
    if (b === 1) break;
  }
  tryChange('a smaller per_device_train_batch_size', 'batch', smaller);
  const T = Math.max(1, Math.min(seqLen, a.max_length ?? seqLen, cfg.maxPositions));
  const shorter: Candidate[] = [];
  for (let L = 2 ** Math.floor(Math.log2(T - 1 || 1)); L >= 16 && L < T; L /= 2) shorter.push({ label: `max_length ${L}`, patch: { max_length: L }, change: { code: 'length', params: { length: L } } });
  tryChange('a shorter max_length', 'length', shorter);
  const lora = { r: ADVICE_LORA.r, alpha: ADVICE_LORA.lora_alpha, targets: ADVICE_LORA.target_modules };
  if (!a.lora) tryChange('LoRA', 'lora', [{ label: `LoRA (r=${lora.r}, lora_alpha=${lora.alpha} on ${lora.targets})`, patch: { lora: { ...ADVICE_LORA } }, change: { code: 'lora', params: lora } }]);
  if (!a.gradient_checkpointing) tryChange('gradient_checkpointing', 'checkpointing', [{ label: 'gradient_checkpointing', patch: { gradient_checkpointing: true }, change: { code: 'checkpointing' } }]);
  if (!a.precompute_ref_log_probs && !a.reference_free && !a.lora) tryChange('precompute_ref_log_probs', 'precompute', [{ label: 'precompute_ref_log_probs', patch: { precompute_ref_log_probs: true }, change: { code: 'precompute' } }]);
  return { totalBytes, allocatedBytes, capacityBytes, fits, tooBig, fitChanges, tooBigChanges };
}

const list = (xs: string[], last = 'or') => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} ${last} ${xs.at(-1)}`);

/** The last advice said, by its sentence: runFault finds the numbers of a `memory` sentence made here. */
let lastAdvice: { sentence: string; advice: MemoryAdvice } | null = null;

export function adviceSentence(m: MemoryAdvice): string {
  const gave = m.allocatedBytes > 0 ? `; the GPU refused more after giving ${fmtBytes(m.allocatedBytes)}` : '';
  const head = `By the estimate this run needs about ${fmtBytes(m.totalBytes)}${gave}.`;
  const alone = m.tooBig.length ? ` (${list(m.tooBig)} alone would not)` : '';
  const sentence = m.fits.length === 0 ? `${head} None of ${list(m.tooBig)} alone would fit: pick a smaller model, or combine them.` : `${head} It would fit with ${list(m.fits)}${alone}: change it and start the run again.`;
  lastAdvice = { sentence, advice: m };
  return sentence;
}

export interface FaultContext {
  /** Where the run was: "step 7", "the start (computing the reference log-probs)", "SFT step 3". */
  where: string;
  /** The step the run can continue from, null when nothing can be continued. */
  savedStep: number | null;
  /** For out-of-memory: the advice sentence (adviceSentence). */
  memory?: string;
  /** For out-of-memory: the advice itself (else found from `memory` when adviceSentence made it). */
  advice?: MemoryAdvice;
}

/**
 * Where the run was, as a code for the page (error.gpu.where.<code>): the run loop's phrases, with the
 * step number of "step 7" / "SFT step 3"; a phrase not listed keeps its English in `where`.
 */
const WHERE_CODES: Record<string, string> = {
  'the start': 'start',
  'the start (copying the weights to the GPU)': 'start-copy',
  'the start (computing the reference log-probs)': 'start-reference',
  'the end of SFT': 'sft-end',
  'the final evaluation': 'final-eval',
  'the rebuild of the saved run': 'rebuild',
  'the pause': 'pause',
  'the evaluation': 'evaluation',
  'the export': 'export',
  'saving the state': 'save-state',
  'a queued request': 'queued',
};
export function whereCode(where: string): { where: string; step?: number } {
  const m = /^(SFT )?step (\d+)$/.exec(where);
  if (m) return { where: m[1] ? 'sft-step' : 'step', step: Number(m[2]) };
  return { where: WHERE_CODES[where] ?? 'other' };
}

/**
 * The fault's sentence as data (error code 'gpu.run'): its kind, where (code and step), WebGPU's detail,
 * the step the run is saved at (-1: none), and for out-of-memory the estimate, what the GPU gave and the
 * changes that would (fits) and would not (tooBig) fit, as JSON lists of Change.
 */
export function faultParams(f: GpuFaultError, c: FaultContext): Record<string, string | number> {
  const w = whereCode(c.where);
  const advice = c.advice ?? (c.memory && lastAdvice?.sentence === c.memory ? lastAdvice.advice : undefined);
  return {
    kind: f.kind,
    where: w.where,
    ...(w.step !== undefined ? { step: w.step } : {}),
    ...(w.where === 'other' ? { whereText: c.where } : {}),
    // the browser's words for a loss or a full GPU say nothing more than the sentence (and are English); a validation or internal error keeps them for a bug report
    detail: f.kind === 'device-lost' || f.kind === 'out-of-memory' ? '' : f.detail,
    savedStep: c.savedStep ?? -1,
    ...(advice ? { needBytes: advice.totalBytes, gaveBytes: advice.allocatedBytes, fits: JSON.stringify(advice.fitChanges), tooBig: JSON.stringify(advice.tooBigChanges) } : {}),
  };
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

/** The fault re-said for the page (same kind and detail, the run's sentence, its code and params). */
export function runFault(f: GpuFaultError, c: FaultContext): GpuFaultError & { code: string; params: Record<string, string | number> } {
  const memory = c.memory ?? (c.advice ? adviceSentence(c.advice) : undefined);
  const ctx = { ...c, memory };
  return Object.assign(new GpuFaultError(f.kind, faultSentence(f, ctx), f.detail, f.allocatedBytes), { code: 'gpu.run', params: faultParams(f, ctx) });
}
