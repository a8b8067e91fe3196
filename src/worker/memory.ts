// How much GPU memory a run needs, before it starts: weights (policy, reference unless precomputed or
// reference-free), gradients, AdamW moments, and the activations of one micro-batch kept for backward.
// With LoRA: the frozen base once (the reference is the base with the adapters off, so it costs nothing),
// plus the adapters and their gradients and AdamW moments; the base gets no gradients or moments.
// With gradient_checkpointing only each block's input is kept; backward recomputes one block at a time.
// An estimate (the buffer pool rounds sizes up; the engine recomputes some activations), good to ~30%.
import { countParameters, type ModelConfig } from '../model/config';
import { countLoraParameters } from '../model/lora';
import type { TrainerArgs } from '../dpo/trainer';
import { trainerNeedsReference, trainerOf } from '../dpo/preference-trainer';
import type { MemoryEstimate } from './protocol';

export interface AdapterLimits {
  maxBindingBytes: number;
  maxBufferBytes: number;
}

/** Browsers do not say how much memory a GPU has; above this we refuse rather than crash the tab. */
export const DEFAULT_BUDGET_BYTES = 6 * 2 ** 30;

const MiB = 2 ** 20;
export const fmtBytes = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / MiB).toFixed(1)} MiB`);

export function estimateMemory(cfg: ModelConfig, a: TrainerArgs, seqLen: number, limits: AdapterLimits, budgetBytes = DEFAULT_BUDGET_BYTES): MemoryEstimate {
  const P = countParameters(cfg);
  let adapterP = 0;
  let loraError: string | null = null;
  let loraCode: { code: string; params: Record<string, string | number> } | undefined; // LoraConfigError's lora.<case>
  if (a.lora) {
    try {
      adapterP = countLoraParameters(cfg, a.lora);
    } catch (e) {
      const x = e as Error & { code?: string; params?: Record<string, string | number> };
      loraError = x.message;
      if (x.code) loraCode = { code: x.code, params: x.params ?? {} };
    }
  }
  // CPO / SimPO and ORPO hold no reference at all; KTO holds one like DPO (src/dpo/preference-trainer.ts)
  const withRef = a.mode === 'dpo' && trainerNeedsReference(a) && !a.precompute_ref_log_probs && !a.lora;
  const weightsBytes = 4 * P * (withRef ? 2 : 1) + 4 * adapterP;
  const optimizerBytes = 4 * (a.lora ? adapterP : P) * 3; // gradients, exp_avg, exp_avg_sq of what is trained
  const T = Math.max(1, Math.min(seqLen, a.max_length ?? seqLen, cfg.maxPositions));
  const rows = (a.mode === 'dpo' ? 2 : 1) * a.per_device_train_batch_size;
  const tokens = rows * T;
  const C = cfg.hidden;
  const I = cfg.intermediate;
  const qkv = (cfg.heads + 2 * cfg.kvHeads) * cfg.headDim;
  // per layer and token: norms, q/k/v, attention output, MLP in/out (SwiGLU keeps gate and up)
  const perTokenLayer = 4 * C + qkv + cfg.heads * cfg.headDim + (cfg.arch === 'llama' ? 3 : 2) * I;
  // attention keeps one logsumexp per (sequence, head, query row) per layer: the fused kernel
  // (ops/flash-attention.ts) recomputes the [T, T] probabilities in backward instead of storing them
  const attnRows = rows * cfg.heads * T;
  const vocabChunk = Math.min(cfg.vocabSize, 8192);
  // gradient checkpointing keeps each block's input, and one block's activations at a time in backward
  const kept = a.gradient_checkpointing ? cfg.layers * tokens * C + tokens * perTokenLayer + attnRows : cfg.layers * (tokens * perTokenLayer + attnRows);
  const activationBytes = 4 * (kept + 2 * tokens * vocabChunk + tokens * C * 4);
  const totalBytes = weightsBytes + optimizerBytes + activationBytes;
  let refusal: string | null = loraError;
  // the code and numbers of the refusal, so the page says it in its language (error.memory.* in ko.ts)
  let refusalCode: MemoryEstimate['refusalCode'];
  const mlpBytes = 4 * tokens * I;
  if (refusal) {
    // the LoRA settings are wrong; that sentence says what to change
    refusalCode = loraCode ?? { code: 'memory.lora', params: { detail: refusal } };
  } else if (mlpBytes > limits.maxBindingBytes) {
    refusal = `One micro-batch (${rows} sequences of ${T} tokens) needs a ${fmtBytes(mlpBytes)} buffer, above this GPU's ${fmtBytes(limits.maxBindingBytes)} per-buffer limit: lower per_device_train_batch_size or max_length.`;
    refusalCode = { code: 'memory.binding', params: { rows, tokens: T, bufferBytes: mlpBytes, limitBytes: limits.maxBindingBytes } };
  } else if (totalBytes > budgetBytes) {
    refusal = `This run needs about ${fmtBytes(totalBytes)} of GPU memory, more than the ${fmtBytes(budgetBytes)} the page allows itself: pick a smaller model, lower the batch size or max_length, precompute the reference log-probs, train LoRA adapters or turn on gradient_checkpointing.`;
    refusalCode = { code: 'memory.budget', params: { needBytes: totalBytes, budgetBytes } };
  }
  return { weightsBytes, optimizerBytes, activationBytes, totalBytes, refusal, ...(refusalCode ? { refusalCode } : {}) };
}

/** A change of settings that would make a run fit, with what it would then need. */
export interface FitOption {
  /** What changes, in the page's / TRL's words ("LoRA r=16 on all-linear + gradient_checkpointing"). */
  label: string;
  /** The TrainerArgs fields to set. */
  patch: Partial<TrainerArgs>;
  totalBytes: number;
}

/** LoRA as the page offers it by default (PEFT's common choice for small models). */
export const DEFAULT_LORA = { r: 16, lora_alpha: 32, target_modules: 'all-linear' } as const;

/**
 * The settings that would fit, cheapest change first: the current ones if they fit, else
 * precompute_ref_log_probs, gradient_checkpointing, LoRA and their combinations, then LoRA +
 * checkpointing with a shorter max_length (down to 128). At most `max` options.
 */
export function fitOptions(cfg: ModelConfig, a: TrainerArgs, seqLen: number, limits: AdapterLimits, budgetBytes = DEFAULT_BUDGET_BYTES, max = 3): FitOption[] {
  const lora = { ...DEFAULT_LORA };
  const candidates: { label: string; patch: Partial<TrainerArgs> }[] = [
    { label: 'the current settings', patch: {} },
    { label: 'precompute_ref_log_probs', patch: { precompute_ref_log_probs: true } },
    { label: 'gradient_checkpointing', patch: { gradient_checkpointing: true } },
    { label: 'precompute_ref_log_probs + gradient_checkpointing', patch: { precompute_ref_log_probs: true, gradient_checkpointing: true } },
    { label: `LoRA r=${lora.r} on ${lora.target_modules}`, patch: { lora } },
    { label: `LoRA r=${lora.r} on ${lora.target_modules} + gradient_checkpointing`, patch: { lora, gradient_checkpointing: true } },
  ];
  const T = Math.min(seqLen, a.max_length ?? seqLen, cfg.maxPositions);
  for (let L = 512; L >= 128; L /= 2) {
    if (L < T) candidates.push({ label: `LoRA r=${lora.r} + gradient_checkpointing + max_length ${L}`, patch: { lora, gradient_checkpointing: true, max_length: L } });
  }
  if (a.per_device_train_batch_size > 1) {
    candidates.push({ label: 'LoRA + gradient_checkpointing + max_length 128 + per_device_train_batch_size 1', patch: { lora, gradient_checkpointing: true, max_length: Math.min(128, T), per_device_train_batch_size: 1 } });
  }
  const out: FitOption[] = [];
  // precomputing the reference only helps DPO (CPO / ORPO hold none; KTO's reference also scores its KL completions)
  const canPrecompute = trainerOf(a) === 'dpo' && trainerNeedsReference(a);
  for (const c of candidates) {
    if (c.patch.precompute_ref_log_probs && !canPrecompute) continue;
    const e = estimateMemory(cfg, { ...a, ...c.patch }, seqLen, limits, budgetBytes);
    if (e.refusal) continue;
    out.push({ label: c.label, patch: c.patch, totalBytes: e.totalBytes });
    if (Object.keys(c.patch).length === 0 || out.length >= max) break; // the current settings fit: nothing to suggest
  }
  return out;
}
