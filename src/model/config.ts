// Hugging Face config.json -> one typed ModelConfig, with transformers' own defaults for missing keys
// (checked against transformers 5.x configuration_{gpt2,llama,qwen2,qwen3}.py and modeling_*.py).
// Anything this engine would compute differently from transformers is refused by name.

export type Arch = 'gpt2' | 'llama';
export type ModelType = 'gpt2' | 'llama' | 'qwen2' | 'qwen3';

export interface ModelConfig {
  arch: Arch;
  modelType: ModelType;
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  maxPositions: number;
  normEps: number;
  /** RoPE base; unused by GPT-2 (learned positions). */
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  /** Biases on q, k, v projections (GPT-2: on c_attn). */
  qkvBias: boolean;
  /** Bias on the attention output projection (GPT-2: attn.c_proj). */
  oBias: boolean;
  /** Biases on the MLP projections (GPT-2: c_fc and mlp.c_proj). */
  mlpBias: boolean;
  /** Qwen3: RMSNorm over head_dim on q and k, per head, before RoPE. */
  qkNorm: boolean;
  activation: 'gelu_new' | 'silu';
  bosTokenId?: number;
  eosTokenId?: number | number[];
  padTokenId?: number;
  torchDtype?: string;
  /** The original config.json, written back on export. */
  raw: Record<string, unknown>;
}

/** The model uses a feature this engine does not implement; the message names it. */
export class UnsupportedModelError extends Error {
  // code (config.<case>) and params: the page says it in its language (src/ui/i18n/errors.ts)
  constructor(
    message: string,
    readonly code?: string,
    readonly params?: Record<string, string | number>,
  ) {
    super(message);
    this.name = 'UnsupportedModelError';
  }
}

/** The config.json itself is malformed (not an object, a number where a list belongs...). */
export class ConfigError extends Error {
  // code (config.<case>) and params: the page says it in its language (src/ui/i18n/errors.ts)
  constructor(
    message: string,
    readonly code?: string,
    readonly params?: Record<string, string | number>,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const SUPPORTED_MODEL_TYPES: readonly ModelType[] = ['gpt2', 'llama', 'qwen2', 'qwen3'];

const ARCHITECTURE_TO_TYPE: Record<string, ModelType> = {
  GPT2LMHeadModel: 'gpt2',
  GPT2Model: 'gpt2',
  LlamaForCausalLM: 'llama',
  LlamaModel: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  Qwen2Model: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  Qwen3Model: 'qwen3',
};

/** Activation names whose transformers implementation is the same function as ours. */
const GELU_NEW_ALIASES = ['gelu_new', 'gelu_pytorch_tanh'];
const SILU_ALIASES = ['silu', 'swish'];

type Raw = Record<string, unknown>;

function present(raw: Raw, key: string): boolean {
  return raw[key] !== undefined && raw[key] !== null;
}

function int(raw: Raw, key: string, def: number, min = 1): number {
  const v = raw[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new ConfigError(`config.json: '${key}' should be an integer >= ${min}, but it is ${JSON.stringify(v)}.`, 'config.int', { key, min, value: JSON.stringify(v) });
  }
  return v;
}

function num(raw: Raw, key: string, def: number): number {
  const v = raw[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new ConfigError(`config.json: '${key}' should be a positive number, but it is ${JSON.stringify(v)}.`, 'config.positive', { key, value: JSON.stringify(v) });
  }
  return v;
}

function bool(raw: Raw, key: string, def: boolean): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') {
    throw new ConfigError(`config.json: '${key}' should be true or false, but it is ${JSON.stringify(v)}.`, 'config.bool', { key, value: JSON.stringify(v) });
  }
  return v;
}

function optId(raw: Raw, key: string, def: number | undefined): number | undefined {
  const v = raw[key];
  if (v === undefined) return def;
  if (v === null) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw new ConfigError(`config.json: '${key}' should be a token id, but it is ${JSON.stringify(v)}.`, 'config.token-id', { key, value: JSON.stringify(v) });
}

function optIds(raw: Raw, key: string, def: number | undefined): number | number[] | undefined {
  const v = raw[key];
  if (Array.isArray(v)) {
    if (!v.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) {
      throw new ConfigError(`config.json: '${key}' should be a token id or a list of them.`, 'config.token-ids', { key });
    }
    return [...(v as number[])];
  }
  return optId(raw, key, def);
}

function detectModelType(raw: Raw): string {
  if (typeof raw.model_type === 'string') return raw.model_type;
  if (Array.isArray(raw.architectures)) {
    for (const a of raw.architectures) if (typeof a === 'string' && ARCHITECTURE_TO_TYPE[a]) return ARCHITECTURE_TO_TYPE[a];
  }
  throw new ConfigError("config.json has no 'model_type' (and no known 'architectures'), so the model cannot be identified.", 'config.no-model-type');
}

/** RoPE: only the plain ("default") rotary embedding on the whole head is implemented. */
function ropeTheta(raw: Raw): number {
  // transformers <5 writes rope_theta + rope_scaling; transformers 5 writes rope_parameters.
  for (const key of ['rope_scaling', 'rope_parameters']) {
    const rs = raw[key];
    if (rs === undefined || rs === null) continue;
    if (typeof rs !== 'object' || Array.isArray(rs)) {
      throw new ConfigError(`config.json: '${key}' should be an object or null.`, 'config.object-or-null', { key });
    }
    const r = rs as Raw;
    const type = r.rope_type ?? r.type ?? 'default';
    if (type !== 'default') {
      throw new UnsupportedModelError(
        `${key} of type '${String(type)}' is not supported; only the default rotary embedding (${key}: null) is.`,
        'config.rope-type',
        { key, type: String(type) },
      );
    }
    const prf = r.partial_rotary_factor;
    if (prf !== undefined && prf !== null && prf !== 1) {
      throw new UnsupportedModelError(`partial_rotary_factor ${String(prf)} is not supported; only 1.0 (rotary on the whole head) is.`, 'config.partial-rotary', { value: String(prf) });
    }
  }
  if (present(raw, 'partial_rotary_factor') && raw.partial_rotary_factor !== 1) {
    throw new UnsupportedModelError(
      `partial_rotary_factor ${String(raw.partial_rotary_factor)} is not supported; only 1.0 (rotary on the whole head) is.`,
      'config.partial-rotary',
      { value: String(raw.partial_rotary_factor) },
    );
  }
  const params = raw.rope_parameters as Raw | null | undefined;
  if (params && present(params, 'rope_theta')) return num(params, 'rope_theta', 10000);
  return num(raw, 'rope_theta', 10000); // RotaryEmbeddingConfigMixin.default_theta
}

/** Parse a Hugging Face config.json (already JSON-parsed). */
export function parseConfig(json: unknown): ModelConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError('config.json is not a JSON object.', 'config.not-object');
  }
  const raw = json as Raw;
  const mt = detectModelType(raw);
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(mt)) {
    throw new UnsupportedModelError(`model_type '${mt}' is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}.`, 'config.model-type', { modelType: mt, supported: SUPPORTED_MODEL_TYPES.join(', ') });
  }
  const cfg = mt === 'gpt2' ? parseGpt2(raw) : parseLlamaFamily(raw, mt as ModelType);
  const torchDtype = raw.dtype ?? raw.torch_dtype;
  if (typeof torchDtype === 'string') cfg.torchDtype = torchDtype;
  return cfg;
}

function parseGpt2(raw: Raw): ModelConfig {
  // attribute_map: hidden_size -> n_embd etc. are accepted as aliases.
  const alias = (k: string, a: string) => (present(raw, k) ? k : present(raw, a) ? a : k);
  const hidden = int(raw, alias('n_embd', 'hidden_size'), 768);
  const layers = int(raw, alias('n_layer', 'num_hidden_layers'), 12);
  const heads = int(raw, alias('n_head', 'num_attention_heads'), 12);
  const maxPositions = int(raw, alias('n_positions', 'max_position_embeddings'), 1024);
  const act = raw.activation_function ?? 'gelu_new';
  if (typeof act !== 'string' || !GELU_NEW_ALIASES.includes(act)) {
    throw new UnsupportedModelError(
      `activation_function '${String(act)}' is not supported for GPT-2; only gelu_new (tanh-approximated GELU) is.`,
      'config.gpt2-activation',
      { value: String(act) },
    );
  }
  if (bool(raw, 'scale_attn_by_inverse_layer_idx', false)) {
    throw new UnsupportedModelError('scale_attn_by_inverse_layer_idx true is not supported (attention scaled by 1/layer index).', 'config.inverse-layer-idx');
  }
  if (bool(raw, 'reorder_and_upcast_attn', false)) {
    throw new UnsupportedModelError('reorder_and_upcast_attn true is not supported.', 'config.reorder-upcast');
  }
  if (!bool(raw, 'scale_attn_weights', true)) {
    throw new UnsupportedModelError('scale_attn_weights false is not supported (attention without the 1/sqrt(head_dim) scale).', 'config.no-attn-scale');
  }
  if (bool(raw, 'add_cross_attention', false)) {
    throw new UnsupportedModelError('add_cross_attention true is not supported (GPT-2 as an encoder-decoder).', 'config.cross-attention');
  }
  if (hidden % heads !== 0) {
    throw new UnsupportedModelError(`n_embd ${hidden} is not divisible by n_head ${heads}.`, 'config.heads-divide', { hiddenKey: 'n_embd', hidden, headsKey: 'n_head', heads });
  }
  return {
    arch: 'gpt2',
    modelType: 'gpt2',
    vocabSize: int(raw, 'vocab_size', 50257),
    hidden,
    layers,
    heads,
    kvHeads: heads,
    headDim: hidden / heads,
    intermediate: int(raw, 'n_inner', 4 * hidden),
    maxPositions,
    normEps: num(raw, 'layer_norm_epsilon', 1e-5),
    ropeTheta: 10000,
    tieWordEmbeddings: bool(raw, 'tie_word_embeddings', true),
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    qkNorm: false,
    activation: 'gelu_new',
    bosTokenId: optId(raw, 'bos_token_id', 50256),
    eosTokenId: optIds(raw, 'eos_token_id', 50256),
    padTokenId: optId(raw, 'pad_token_id', undefined),
    raw,
  };
}

function parseLlamaFamily(raw: Raw, mt: ModelType): ModelConfig {
  const act = raw.hidden_act ?? 'silu';
  if (typeof act !== 'string' || !SILU_ALIASES.includes(act)) {
    throw new UnsupportedModelError(`hidden_act '${String(act)}' is not supported for ${mt}; only silu is.`, 'config.hidden-act', { value: String(act), modelType: mt });
  }
  const hidden = int(raw, 'hidden_size', 4096);
  const heads = int(raw, 'num_attention_heads', 32);
  const layers = int(raw, 'num_hidden_layers', 32);
  // Qwen2/Qwen3 declare num_key_value_heads=32 as the class default; Llama derives it from the heads.
  const kvHeads = int(raw, 'num_key_value_heads', mt === 'llama' ? heads : 32);
  let headDim: number;
  if (mt === 'qwen3') {
    headDim = int(raw, 'head_dim', 128); // Qwen3Config.head_dim = 128, NOT hidden/heads
  } else {
    if (!present(raw, 'head_dim') && hidden % heads !== 0) {
      throw new UnsupportedModelError(`hidden_size ${hidden} is not divisible by num_attention_heads ${heads}.`, 'config.heads-divide', { hiddenKey: 'hidden_size', hidden, headsKey: 'num_attention_heads', heads });
    }
    headDim = int(raw, 'head_dim', Math.floor(hidden / heads));
  }
  if (mt === 'llama' && hidden % heads !== 0) {
    // LlamaConfig.validate_architecture refuses this too.
    throw new UnsupportedModelError(`hidden_size ${hidden} is not divisible by num_attention_heads ${heads}.`, 'config.heads-divide', { hiddenKey: 'hidden_size', hidden, headsKey: 'num_attention_heads', heads });
  }
  if (headDim % 2 !== 0) {
    // transformers' validate_rope refuses this too: RoPE rotates pairs of dimensions.
    throw new UnsupportedModelError(`head_dim ${headDim} is odd; rotary position embeddings need an even head_dim.`, 'config.odd-head-dim', { headDim });
  }
  if (heads % kvHeads !== 0) {
    throw new UnsupportedModelError(
      `num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads} (grouped-query attention needs it).`,
      'config.kv-heads',
      { heads, kvHeads },
    );
  }
  if (mt !== 'llama') checkSlidingWindow(raw, mt, layers);
  // pretraining_tp (Llama) is ignored by transformers' modeling code, so it is ignored here too.
  const theta = ropeTheta(raw);
  const defaults: Record<ModelType, { maxPos: number; bos?: number; eos?: number }> = {
    gpt2: { maxPos: 1024 },
    llama: { maxPos: 2048, bos: 1, eos: 2 },
    qwen2: { maxPos: 32768 },
    qwen3: { maxPos: 32768 },
  };
  const d = defaults[mt];
  const attentionBias = mt === 'qwen2' ? false : bool(raw, 'attention_bias', false);
  const mlpBias = mt === 'llama' ? bool(raw, 'mlp_bias', false) : false;
  return {
    arch: 'llama',
    modelType: mt,
    vocabSize: int(raw, 'vocab_size', mt === 'llama' ? 32000 : 151936),
    hidden,
    layers,
    heads,
    kvHeads,
    headDim,
    intermediate: int(raw, 'intermediate_size', mt === 'llama' ? 11008 : 22016),
    maxPositions: int(raw, 'max_position_embeddings', d.maxPos),
    normEps: num(raw, 'rms_norm_eps', 1e-6),
    ropeTheta: theta,
    tieWordEmbeddings: bool(raw, 'tie_word_embeddings', false),
    // Qwen2: q/k/v always biased, o never; Llama/Qwen3: attention_bias puts a bias on q, k, v AND o.
    qkvBias: mt === 'qwen2' ? true : attentionBias,
    oBias: attentionBias,
    mlpBias,
    qkNorm: mt === 'qwen3',
    activation: 'silu',
    bosTokenId: optId(raw, 'bos_token_id', d.bos),
    eosTokenId: optIds(raw, 'eos_token_id', d.eos),
    padTokenId: optId(raw, 'pad_token_id', undefined),
    raw,
  };
}

/** Qwen2/Qwen3: refuse only when a layer really attends through a sliding window (as transformers decides). */
function checkSlidingWindow(raw: Raw, mt: ModelType, layers: number): void {
  if (!bool(raw, 'use_sliding_window', false)) return; // sliding_window is then set to None by transformers
  if (raw.sliding_window === null) return;
  const maxWindowLayers = int(raw, 'max_window_layers', 28, 0);
  let sliding: number[] = [];
  if (Array.isArray(raw.layer_types)) {
    raw.layer_types.forEach((t, i) => {
      if (t === 'sliding_attention') sliding.push(i);
    });
  } else {
    sliding = Array.from({ length: layers }, (_, i) => i).filter((i) => i >= maxWindowLayers);
  }
  if (sliding.length > 0) {
    throw new UnsupportedModelError(
      `use_sliding_window true is not supported: ${mt} layers ${sliding.join(', ')} would attend through a sliding window of ${String(raw.sliding_window ?? 4096)} tokens.`,
      'config.sliding-window',
      { modelType: mt, layers: sliding.join(', '), window: String(raw.sliding_window ?? 4096) },
    );
  }
}

// The parameters a config implies (names, shapes, weight decay): param-specs.ts
export { countParameters, parameterSpecs, type ParamKind, type ParamSpec } from './param-specs';
