import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  countParameters,
  parameterSpecs,
  parseConfig,
  UnsupportedModelError,
  type ModelConfig,
} from '../src/model/config';

function refused(json: unknown, pattern: RegExp, cls: new (...a: never[]) => Error = UnsupportedModelError): void {
  let err: unknown;
  try {
    parseConfig(json);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a refusal matching ${pattern}`).toBeInstanceOf(cls);
  expect((err as Error).message).toMatch(pattern);
}

const llamaBase = {
  model_type: 'llama',
  vocab_size: 37,
  hidden_size: 16,
  intermediate_size: 20,
  num_hidden_layers: 2,
  num_attention_heads: 4,
};

// Qwen2/Qwen3 default num_key_value_heads is 32, so small test configs must set it.
const qwenBase = { ...llamaBase, num_key_value_heads: 2 };

describe('parseConfig defaults (checked against transformers 5 config classes)', () => {
  it('gpt2: empty config gives GPT-2 small and its defaults', () => {
    const c = parseConfig({ model_type: 'gpt2' });
    expect(c).toMatchObject({
      arch: 'gpt2',
      modelType: 'gpt2',
      vocabSize: 50257,
      hidden: 768,
      layers: 12,
      heads: 12,
      kvHeads: 12,
      headDim: 64,
      intermediate: 3072, // n_inner null -> 4 * n_embd
      maxPositions: 1024,
      normEps: 1e-5,
      tieWordEmbeddings: true,
      qkvBias: true,
      oBias: true,
      mlpBias: true,
      qkNorm: false,
      activation: 'gelu_new',
      bosTokenId: 50256,
      eosTokenId: 50256,
    });
    expect(c.padTokenId).toBeUndefined();
    expect(parseConfig({ model_type: 'gpt2', n_embd: 32, n_head: 4, n_inner: null }).intermediate).toBe(128);
    expect(parseConfig({ model_type: 'gpt2', n_embd: 32, n_head: 4, n_inner: 50 }).intermediate).toBe(50);
    expect(parseConfig({ model_type: 'gpt2', tie_word_embeddings: false }).tieWordEmbeddings).toBe(false);
    // attribute_map aliases
    expect(parseConfig({ model_type: 'gpt2', hidden_size: 48, num_attention_heads: 6 }).headDim).toBe(8);
  });

  it('llama: kv heads, head_dim, eps, theta, biases, tie defaults', () => {
    const c = parseConfig(llamaBase);
    expect(c).toMatchObject({
      arch: 'llama',
      modelType: 'llama',
      kvHeads: 4,
      headDim: 4,
      maxPositions: 2048,
      normEps: 1e-6,
      ropeTheta: 10000,
      tieWordEmbeddings: false,
      qkvBias: false,
      oBias: false,
      mlpBias: false,
      qkNorm: false,
      activation: 'silu',
      bosTokenId: 1,
      eosTokenId: 2,
    });
    const b = parseConfig({ ...llamaBase, attention_bias: true, mlp_bias: true, num_key_value_heads: 2, head_dim: 8 });
    expect([b.qkvBias, b.oBias, b.mlpBias, b.kvHeads, b.headDim]).toEqual([true, true, true, 2, 8]);
    expect(parseConfig({ ...llamaBase, rope_theta: 500000, rope_scaling: null }).ropeTheta).toBe(500000);
    // transformers 5 layout
    expect(parseConfig({ ...llamaBase, rope_parameters: { rope_type: 'default', rope_theta: 123 } }).ropeTheta).toBe(123);
    expect(parseConfig({ ...llamaBase, eos_token_id: [5, 6], bos_token_id: null }).eosTokenId).toEqual([5, 6]);
    expect(parseConfig({ ...llamaBase, bos_token_id: null }).bosTokenId).toBeUndefined();
    expect(parseConfig({ ...llamaBase, torch_dtype: 'bfloat16' }).torchDtype).toBe('bfloat16');
    expect(parseConfig({ ...llamaBase, dtype: 'float16', torch_dtype: 'bfloat16' }).torchDtype).toBe('float16');
  });

  it('qwen2: q/k/v biases always, no o bias even with attention_bias, kv default 32', () => {
    const c = parseConfig({ ...qwenBase, model_type: 'qwen2', attention_bias: false, mlp_bias: true });
    expect([c.qkvBias, c.oBias, c.mlpBias, c.qkNorm, c.tieWordEmbeddings]).toEqual([true, false, false, false, false]);
    expect(c.maxPositions).toBe(32768);
    expect(c.bosTokenId).toBeUndefined();
    expect(parseConfig({ model_type: 'qwen2' }).kvHeads).toBe(32); // Qwen2Config.num_key_value_heads = 32
    // use_sliding_window true but no layer past max_window_layers: nothing slides
    expect(parseConfig({ ...qwenBase, model_type: 'qwen2', use_sliding_window: true, max_window_layers: 28 }).layers).toBe(2);
  });

  it('qwen3: head_dim defaults to 128, not hidden/heads; q/k norm; attention_bias on q,k,v,o', () => {
    const c = parseConfig({ ...qwenBase, model_type: 'qwen3', num_key_value_heads: 2 });
    expect(c.headDim).toBe(128);
    expect(c.hidden / c.heads).toBe(4);
    expect([c.qkNorm, c.qkvBias, c.oBias, c.mlpBias, c.tieWordEmbeddings, c.ropeTheta, c.normEps]).toEqual([
      true,
      false,
      false,
      false,
      false,
      10000,
      1e-6,
    ]);
    const b = parseConfig({ ...qwenBase, model_type: 'qwen3', attention_bias: true, head_dim: 6 });
    expect([b.qkvBias, b.oBias, b.headDim]).toEqual([true, true, 6]);
  });

  it('infers the model type from architectures when model_type is absent', () => {
    const { model_type: _, ...rest } = llamaBase;
    expect(parseConfig({ ...rest, num_key_value_heads: 2, architectures: ['Qwen2ForCausalLM'] }).modelType).toBe('qwen2');
    refused({ ...rest }, /no 'model_type'/, ConfigError);
  });

  it('keeps the raw json for export', () => {
    const j = { ...llamaBase, something_custom: [1, 2] };
    expect(parseConfig(j).raw).toBe(j);
  });
});

describe('parseConfig refusals', () => {
  it('names the unsupported feature', () => {
    refused({ model_type: 'mistral' }, /^model_type 'mistral' is not supported; supported: gpt2, llama, qwen2, qwen3\.$/);
    refused({ ...llamaBase, rope_scaling: { rope_type: 'llama3', factor: 8 } }, /rope_scaling of type 'llama3'/);
    refused({ ...llamaBase, rope_scaling: { type: 'linear', factor: 2 } }, /rope_scaling of type 'linear'/);
    refused({ ...llamaBase, rope_parameters: { rope_type: 'yarn', rope_theta: 1 } }, /rope_parameters of type 'yarn'/);
    refused({ ...llamaBase, partial_rotary_factor: 0.5 }, /partial_rotary_factor 0.5/);
    refused(
      { ...qwenBase, model_type: 'qwen2', use_sliding_window: true, max_window_layers: 1, sliding_window: 64 },
      /use_sliding_window true.*layers 1 .*64 tokens/,
    );
    refused(
      { ...qwenBase, model_type: 'qwen3', use_sliding_window: true, layer_types: ['full_attention', 'sliding_attention'] },
      /use_sliding_window true.*layers 1/,
    );
    refused({ model_type: 'gpt2', scale_attn_by_inverse_layer_idx: true }, /scale_attn_by_inverse_layer_idx/);
    refused({ model_type: 'gpt2', reorder_and_upcast_attn: true }, /reorder_and_upcast_attn/);
    refused({ model_type: 'gpt2', activation_function: 'relu' }, /activation_function 'relu'.*gelu_new/);
    refused({ ...llamaBase, hidden_act: 'gelu' }, /hidden_act 'gelu' is not supported for llama; only silu/);
    refused({ model_type: 'gpt2', n_embd: 50, n_head: 4 }, /n_embd 50 is not divisible by n_head 4/);
    refused({ ...llamaBase, hidden_size: 18 }, /hidden_size 18 is not divisible by num_attention_heads 4/);
    refused({ ...llamaBase, num_key_value_heads: 3 }, /num_attention_heads 4 is not a multiple of num_key_value_heads 3/);
    refused({ ...qwenBase, model_type: 'qwen3', head_dim: 5 }, /head_dim 5 is odd/);
    // Qwen2's num_key_value_heads default (32) does not fit 4 heads: refused as transformers would fail
    refused({ ...llamaBase, model_type: 'qwen2' }, /num_attention_heads 4 is not a multiple of num_key_value_heads 32/);
  });

  it('malformed values are ConfigErrors', () => {
    refused('not an object', /not a JSON object/, ConfigError);
    refused([1], /not a JSON object/, ConfigError);
    refused({ ...llamaBase, hidden_size: '16' }, /'hidden_size' should be an integer/, ConfigError);
    refused({ ...llamaBase, num_hidden_layers: 0 }, /'num_hidden_layers' should be an integer >= 1/, ConfigError);
    refused({ ...llamaBase, rms_norm_eps: -1 }, /'rms_norm_eps' should be a positive number/, ConfigError);
    refused({ ...llamaBase, tie_word_embeddings: 'yes' }, /'tie_word_embeddings' should be true or false/, ConfigError);
  });
});

const names = (c: ModelConfig) => parameterSpecs(c).map((s) => s.name);

describe('parameterSpecs (names, order and decay match the transformers state_dict and Trainer)', () => {
  it('gpt2 tied: unprefixed, state_dict order, no lm_head', () => {
    const c = parseConfig({ model_type: 'gpt2', vocab_size: 13, n_embd: 12, n_layer: 1, n_head: 3, n_positions: 9 });
    const s = parameterSpecs(c);
    expect(s.map((x) => [x.name, x.shape, x.decay, x.kind])).toEqual([
      ['wte.weight', [13, 12], true, 'embedding'],
      ['wpe.weight', [9, 12], true, 'embedding'],
      ['h.0.ln_1.weight', [12], false, 'norm'],
      ['h.0.ln_1.bias', [12], false, 'bias'],
      ['h.0.attn.c_attn.weight', [12, 36], true, 'linear'],
      ['h.0.attn.c_attn.bias', [36], false, 'bias'],
      ['h.0.attn.c_proj.weight', [12, 12], true, 'linear'],
      ['h.0.attn.c_proj.bias', [12], false, 'bias'],
      ['h.0.ln_2.weight', [12], false, 'norm'],
      ['h.0.ln_2.bias', [12], false, 'bias'],
      ['h.0.mlp.c_fc.weight', [12, 48], true, 'linear'],
      ['h.0.mlp.c_fc.bias', [48], false, 'bias'],
      ['h.0.mlp.c_proj.weight', [48, 12], true, 'linear'],
      ['h.0.mlp.c_proj.bias', [12], false, 'bias'],
      ['ln_f.weight', [12], false, 'norm'],
      ['ln_f.bias', [12], false, 'bias'],
    ]);
    // GPT2LMHeadModel(n_layer=2, ...).num_parameters() in transformers
    expect(countParameters({ ...c, layers: 2 })).toBe(4056);
    const untied = parseConfig({ ...c.raw, tie_word_embeddings: false, n_inner: 20 });
    expect(parameterSpecs(untied).at(-1)).toEqual({ name: 'lm_head.weight', shape: [13, 12], decay: true, kind: 'linear' });
    expect(countParameters(untied)).toBe(1628);
  });

  it('llama with attention_bias and mlp_bias', () => {
    const c = parseConfig({ ...llamaBase, num_hidden_layers: 1, num_key_value_heads: 2, attention_bias: true, mlp_bias: true });
    expect(parameterSpecs(c).map((x) => [x.name, x.shape, x.decay])).toEqual([
      ['model.embed_tokens.weight', [37, 16], true],
      ['model.layers.0.self_attn.q_proj.weight', [16, 16], true],
      ['model.layers.0.self_attn.q_proj.bias', [16], false],
      ['model.layers.0.self_attn.k_proj.weight', [8, 16], true],
      ['model.layers.0.self_attn.k_proj.bias', [8], false],
      ['model.layers.0.self_attn.v_proj.weight', [8, 16], true],
      ['model.layers.0.self_attn.v_proj.bias', [8], false],
      ['model.layers.0.self_attn.o_proj.weight', [16, 16], true],
      ['model.layers.0.self_attn.o_proj.bias', [16], false],
      ['model.layers.0.mlp.gate_proj.weight', [20, 16], true],
      ['model.layers.0.mlp.gate_proj.bias', [20], false],
      ['model.layers.0.mlp.up_proj.weight', [20, 16], true],
      ['model.layers.0.mlp.up_proj.bias', [20], false],
      ['model.layers.0.mlp.down_proj.weight', [16, 20], true],
      ['model.layers.0.mlp.down_proj.bias', [16], false],
      ['model.layers.0.input_layernorm.weight', [16], false],
      ['model.layers.0.post_attention_layernorm.weight', [16], false],
      ['model.norm.weight', [16], false],
      ['lm_head.weight', [37, 16], true],
    ]);
  });

  it('qwen2 tied and qwen3 with q/k norms', () => {
    const q2 = parseConfig({ ...qwenBase, model_type: 'qwen2', num_key_value_heads: 2, tie_word_embeddings: true });
    const n2 = names(q2);
    expect(n2).toContain('model.layers.1.self_attn.v_proj.bias');
    expect(n2).not.toContain('model.layers.1.self_attn.o_proj.bias');
    expect(n2).not.toContain('lm_head.weight');
    expect(n2.length).toBe(1 + 2 * 12 + 1);
    const q3 = parseConfig({ ...qwenBase, model_type: 'qwen3', num_key_value_heads: 2, head_dim: 6, vocab_size: 13 });
    const s3 = parameterSpecs(q3);
    const layer0 = s3.filter((s) => s.name.startsWith('model.layers.0.')).map((s) => s.name.slice(15));
    expect(layer0).toEqual([
      'self_attn.q_proj.weight',
      'self_attn.k_proj.weight',
      'self_attn.v_proj.weight',
      'self_attn.o_proj.weight',
      'self_attn.q_norm.weight',
      'self_attn.k_norm.weight',
      'mlp.gate_proj.weight',
      'mlp.up_proj.weight',
      'mlp.down_proj.weight',
      'input_layernorm.weight',
      'post_attention_layernorm.weight',
    ]);
    const qn = s3.find((s) => s.name === 'model.layers.0.self_attn.q_norm.weight')!;
    expect([qn.shape, qn.decay, qn.kind]).toEqual([[6], false, 'norm']);
    expect(s3.find((s) => s.name === 'model.layers.0.self_attn.q_proj.weight')!.shape).toEqual([24, 16]);
    expect(s3.find((s) => s.name === 'model.layers.0.self_attn.o_proj.weight')!.shape).toEqual([16, 24]);
    // Qwen3ForCausalLM(vocab 13, hidden 16, inter 20, 2 layers, 4 heads, 2 kv, head_dim 6).num_parameters()
    expect(countParameters(q3)).toBe(4744);
  });
});
