// LoRA adapters with PEFT's semantics (LoraConfig r, lora_alpha, target_modules; lora_dropout 0):
// for a targeted linear y = base(x) + (lora_alpha / r) * (x A^T) B^T, A [r, in] drawn like PEFT's
// kaiming_uniform_(a=sqrt(5)) (uniform in +-1/sqrt(in)), B [out, r] = 0, so the first forward equals
// the base model. The base weights stay frozen; only A and B get gradients and AdamW moments.
// The DPO reference is the same model with the adapters switched off (TRL's behaviour with a
// peft_config), so no second copy of the weights is kept.
// GPT-2's fused c_attn is one PEFT module (A [r, C], B [3C, r]); our parameters split it into q/k/v, so
// the three share one A and each holds its rows of B.
import type { Gpu } from '../gpu/context';
import { Rng } from '../data/split';
import { parameterSpecs, type ModelConfig } from './config';
import { attachLora, detachLora } from './linear';
import type { Param, ParamSet } from './params';
import { writeSafetensors } from './safetensors';

export interface LoraConfig {
  r: number;
  lora_alpha: number;
  /** Module names (a module matches when its name equals one or ends with '.' + one, as in PEFT), 'all-linear', or a regex (full match). */
  target_modules: string[] | string;
  /** Only 0 is supported. */
  lora_dropout?: number;
}

/** `code` (lora.<case>) and `params`: the page says it in its language (src/ui/i18n/errors.ts). */
export class LoraConfigError extends Error {
  override name = 'LoraConfigError';
  constructor(
    message: string,
    readonly code?: string,
    readonly params?: Record<string, string | number>,
  ) {
    super(message);
  }
}

/** One targeted Hugging Face module, e.g. `model.layers.0.self_attn.q_proj` or GPT-2's `h.0.attn.c_attn`. */
export interface LoraTarget {
  /** Parameter-name prefix (GPT-2 unprefixed, as parameterSpecs names it). */
  module: string;
  /** The module's path in the *ForCausalLM model (PEFT's key; GPT-2 gains `transformer.`). */
  hfModule: string;
  inF: number;
  outF: number;
  /** Internal weights the adapter attaches to, each with its own B of `rows` rows (c_attn: q, k, v). */
  parts: { weight: string; bName: string; rows: number }[];
  aName: string;
}

/** Full module path in the causal-LM model, as PEFT names it. */
function hfModulePath(cfg: ModelConfig, module: string): string {
  return cfg.arch === 'gpt2' ? `transformer.${module}` : module;
}

export function validateLoraConfig(c: LoraConfig): void {
  if (!Number.isInteger(c.r) || c.r < 1) throw new LoraConfigError(`LoRA r must be a positive whole number (got ${c.r}); 8 or 16 are common.`, 'lora.r', { value: String(c.r) });
  if (!(c.lora_alpha > 0) || !Number.isFinite(c.lora_alpha)) throw new LoraConfigError(`lora_alpha must be a positive number (got ${c.lora_alpha}); PEFT's default is 8.`, 'lora.alpha', { value: String(c.lora_alpha) });
  if ((c.lora_dropout ?? 0) !== 0) throw new LoraConfigError(`lora_dropout ${c.lora_dropout} is not supported: only 0 (the training step is deterministic).`, 'lora.dropout', { value: String(c.lora_dropout) });
  const t = c.target_modules;
  if (Array.isArray(t) ? t.length === 0 || t.some((x) => typeof x !== 'string' || !x) : typeof t !== 'string' || !t) {
    throw new LoraConfigError('target_modules must name at least one module (e.g. q_proj, v_proj), or be "all-linear".', 'lora.no-targets');
  }
}

export function loraScaling(c: LoraConfig): number {
  return c.lora_alpha / c.r;
}

/** The modules target_modules selects, in parameter order (PEFT's matching rules). */
export function loraTargets(cfg: ModelConfig, c: LoraConfig): LoraTarget[] {
  validateLoraConfig(c);
  const t = c.target_modules;
  const matches = (name: string): boolean => {
    if (Array.isArray(t)) return t.some((k) => name === k || name.endsWith(`.${k}`));
    if (t === 'all-linear') return true;
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${t})$`);
    } catch {
      throw new LoraConfigError(`target_modules "${t}" is not a valid regular expression.`, 'lora.regex', { pattern: t });
    }
    return re.test(name);
  };
  const out: LoraTarget[] = [];
  for (const s of parameterSpecs(cfg)) {
    if (s.kind !== 'linear' || s.name === 'lm_head.weight') continue;
    const module = s.name.slice(0, -'.weight'.length);
    const hfModule = hfModulePath(cfg, module);
    if (!matches(hfModule)) continue;
    const [d0, d1] = s.shape;
    const conv = cfg.arch === 'gpt2';
    const inF = conv ? d0 : d1;
    const outF = conv ? d1 : d0;
    const aName = `${module}.lora_A.weight`;
    const split = conv ? /^(h\.\d+\.attn)\.c_attn$/.exec(module) : null;
    const parts = split
      ? ['q', 'k', 'v'].map((p) => ({ weight: `${split[1]}.${p}.weight`, bName: `${split[1]}.${p}.lora_B.weight`, rows: cfg.hidden }))
      : [{ weight: s.name, bName: `${module}.lora_B.weight`, rows: outF }];
    out.push({ module, hfModule, inF, outF, parts, aName });
  }
  if (Array.isArray(t) && t.includes('lm_head')) throw new LoraConfigError('LoRA on lm_head is not supported; target the attention and MLP projections.', 'lora.lm-head');
  if (out.length === 0) {
    const names = cfg.arch === 'gpt2' ? 'c_attn, c_proj, c_fc' : 'q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj';
    throw new LoraConfigError(`target_modules ${JSON.stringify(t)} matches no linear layer of this ${cfg.modelType} model; its linear layers are ${names}.`, 'lora.no-match', { targets: JSON.stringify(t), modelType: cfg.modelType, names });
  }
  return out;
}

/** Trainable parameters of the adapters: sum over targets of r * (in + out). */
export function countLoraParameters(cfg: ModelConfig, c: LoraConfig): number {
  return loraTargets(cfg, c).reduce((n, t) => n + c.r * (t.inF + t.outF), 0);
}

/** PEFT's initial adapter weights (internal names): A uniform in +-1/sqrt(in) from `seed`, B = 0. */
export function initLoraWeights(cfg: ModelConfig, c: LoraConfig, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const t of loraTargets(cfg, c)) {
    const a = new Float32Array(c.r * t.inF);
    const bound = 1 / Math.sqrt(t.inF);
    for (let i = 0; i < a.length; i++) a[i] = (2 * rng.next() - 1) * bound;
    out.set(t.aName, a);
    for (const p of t.parts) out.set(p.bName, new Float32Array(p.rows * c.r));
  }
  return out;
}

/** The adapters of one model on the GPU: weights, gradients, and the switch (off = the base model). */
export class LoraAdapters {
  readonly params: ParamSet = new Map();
  readonly grads: ParamSet = new Map();
  readonly toggle = { enabled: true };
  readonly targets: LoraTarget[];
  readonly scaling: number;
  private readonly attached: string[] = [];

  /** Attaches adapters to `base` (the frozen model's parameters); `weights` has internal adapter names. */
  constructor(
    private readonly gpu: Gpu,
    readonly cfg: ModelConfig,
    readonly config: LoraConfig,
    private readonly base: ParamSet,
    weights: Map<string, Float32Array>,
  ) {
    this.targets = loraTargets(cfg, config);
    this.scaling = loraScaling(config);
    const r = config.r;
    const add = (name: string, shape: number[]) => {
      const host = weights.get(name);
      if (!host || host.length !== shape[0] * shape[1]) throw new LoraConfigError(`The adapter weights have no tensor '${name}' of shape [${shape.join(', ')}].`, 'lora.missing', { tensor: `${name} [${shape.join(', ')}]` });
      const mk = (t: Param['chunks'][number]): Param => ({ name, shape, decay: true, chunkRows: shape[0], chunks: [t] });
      this.params.set(name, mk(gpu.upload(host, shape)));
      this.grads.set(name, mk(gpu.tensor(shape, 'f32', true)));
    };
    for (const t of this.targets) {
      add(t.aName, [r, t.inF]);
      for (const p of t.parts) {
        add(p.bName, [p.rows, r]);
        const w = base.get(p.weight)?.chunks[0];
        if (!w) throw new Error(`internal error: no base weight ${p.weight}`);
        attachLora(w, {
          r,
          scaling: this.scaling,
          a: this.params.get(t.aName)!.chunks[0],
          b: this.params.get(p.bName)!.chunks[0],
          da: this.grads.get(t.aName)!.chunks[0],
          db: this.grads.get(p.bName)!.chunks[0],
          toggle: this.toggle,
        });
        this.attached.push(p.weight);
      }
    }
  }

  /** Runs fn with the adapters switched off (the base model: TRL's reference with a peft_config). */
  async withAdaptersOff<T>(fn: () => Promise<T> | T): Promise<T> {
    const was = this.toggle.enabled;
    this.toggle.enabled = false;
    try {
      return await fn();
    } finally {
      this.toggle.enabled = was;
    }
  }

  release(): void {
    for (const name of this.attached) {
      const w = this.base.get(name)?.chunks[0];
      if (w) detachLora(w);
    }
    this.attached.length = 0;
    for (const set of [this.params, this.grads]) {
      for (const p of set.values()) this.gpu.release(...p.chunks);
      set.clear();
    }
  }
}

/** Internal adapter tensors -> PEFT's adapter_model.safetensors keys (`base_model.model.<module>.lora_{A,B}.weight`). */
export function loraToPeft(cfg: ModelConfig, c: LoraConfig, internal: Map<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const t of loraTargets(cfg, c)) {
    const a = internal.get(t.aName);
    if (!a) throw new LoraConfigError(`The adapter weights have no tensor '${t.aName}'.`, 'lora.missing', { tensor: t.aName });
    const b = new Float32Array(t.outF * c.r);
    let off = 0;
    for (const p of t.parts) {
      const part = internal.get(p.bName);
      if (!part) throw new LoraConfigError(`The adapter weights have no tensor '${p.bName}'.`, 'lora.missing', { tensor: p.bName });
      b.set(part, off); // B is [out, r]: q, k, v rows one after another, as c_attn's outputs are
      off += part.length;
    }
    out.set(`base_model.model.${t.hfModule}.lora_A.weight`, a);
    out.set(`base_model.model.${t.hfModule}.lora_B.weight`, b);
  }
  return out;
}

/**
 * Hugging Face weights (parameterSpecs names) with the adapters merged in: W + scaling * B A for
 * nn.Linear [out, in], W + scaling * (B A)^T for GPT-2's Conv1D [in, out] (PEFT's merge_and_unload).
 */
export function mergeLora(cfg: ModelConfig, c: LoraConfig, hf: Map<string, Float32Array>, peft: Map<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map(hf);
  const s = loraScaling(c);
  const r = c.r;
  for (const t of loraTargets(cfg, c)) {
    const name = `${t.module}.weight`;
    const w = hf.get(name);
    const a = peft.get(`base_model.model.${t.hfModule}.lora_A.weight`);
    const b = peft.get(`base_model.model.${t.hfModule}.lora_B.weight`);
    if (!w || !a || !b) throw new LoraConfigError(`Cannot merge the adapter into '${name}': a tensor is missing.`, 'lora.merge', { tensor: name });
    const merged = new Float32Array(w);
    const conv = cfg.arch === 'gpt2';
    for (let o = 0; o < t.outF; o++) {
      for (let i = 0; i < t.inF; i++) {
        let d = 0;
        for (let k = 0; k < r; k++) d += b[o * r + k] * a[k * t.inF + i];
        merged[conv ? i * t.outF + o : o * t.inF + i] += s * d;
      }
    }
    out.set(name, merged);
  }
  return out;
}

/** PEFT's adapter folder: adapter_config.json and adapter_model.safetensors (load with PeftModel.from_pretrained). */
export function exportPeftAdapter(cfg: ModelConfig, c: LoraConfig, peft: Map<string, Float32Array>, baseModel = ''): Map<string, Uint8Array> {
  const targets = loraTargets(cfg, c);
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: c.r,
    lora_alpha: c.lora_alpha,
    lora_dropout: 0,
    target_modules: Array.isArray(c.target_modules) ? [...new Set(c.target_modules)] : c.target_modules,
    bias: 'none',
    fan_in_fan_out: cfg.arch === 'gpt2',
    init_lora_weights: true,
    inference_mode: true,
    modules_to_save: null,
    use_rslora: false,
    use_dora: false,
  };
  const tensors = targets.flatMap((t) =>
    (['A', 'B'] as const).map((ab) => {
      const name = `base_model.model.${t.hfModule}.lora_${ab}.weight`;
      const data = peft.get(name);
      if (!data) throw new LoraConfigError(`Cannot export the adapter: no tensor '${name}'.`, 'lora.export', { tensor: name });
      return { name, shape: ab === 'A' ? [c.r, t.inF] : [t.outF, c.r], data, dtype: 'F32' as const };
    }),
  );
  return new Map([
    ['adapter_config.json', new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n')],
    ['adapter_model.safetensors', writeSafetensors(tensors, { format: 'pt' })],
  ]);
}
