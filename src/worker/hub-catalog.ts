// Small models known to load and train in the page, with their published config.json fields (what the
// estimate needs), so their sizes and memory estimates show before anything is fetched.
import { countParameters, parseConfig, type ModelConfig } from '../model/config';

export interface KnownModel {
  repo: string;
  /** One line on what it is. */
  note: string;
  config: Record<string, unknown>;
}

export const KNOWN_MODELS: readonly KnownModel[] = [
  {
    repo: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    note: 'Llama architecture, 49k vocabulary, ChatML template',
    config: { model_type: 'llama', vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, max_position_embeddings: 8192, rope_theta: 100000, rms_norm_eps: 1e-5, tie_word_embeddings: true, torch_dtype: 'bfloat16' },
  },
  {
    repo: 'HuggingFaceTB/SmolLM2-360M-Instruct',
    note: 'Llama architecture, 49k vocabulary, ChatML template',
    config: { model_type: 'llama', vocab_size: 49152, hidden_size: 960, intermediate_size: 2560, num_hidden_layers: 32, num_attention_heads: 15, num_key_value_heads: 5, max_position_embeddings: 8192, rope_theta: 100000, rms_norm_eps: 1e-5, tie_word_embeddings: true, torch_dtype: 'bfloat16' },
  },
  {
    repo: 'Qwen/Qwen2.5-0.5B-Instruct',
    note: 'Qwen2 architecture (q/k/v biases), 152k vocabulary',
    config: { model_type: 'qwen2', vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768, rope_theta: 1000000, rms_norm_eps: 1e-6, tie_word_embeddings: true, sliding_window: 32768, use_sliding_window: false, max_window_layers: 21, torch_dtype: 'bfloat16' },
  },
  {
    repo: 'Qwen/Qwen3-0.6B',
    note: 'Qwen3 architecture (q/k norms), 152k vocabulary, thinking template',
    config: { model_type: 'qwen3', vocab_size: 151936, hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, max_position_embeddings: 40960, rope_theta: 1000000, rms_norm_eps: 1e-6, tie_word_embeddings: true, torch_dtype: 'bfloat16' },
  },
];

export function knownConfig(m: KnownModel): ModelConfig {
  return parseConfig(m.config);
}

/** Parameters and the BF16 download size (2 bytes a parameter, as the Hub stores these). */
export function knownSize(m: KnownModel): { parameters: number; downloadBytes: number } {
  const parameters = countParameters(knownConfig(m));
  return { parameters, downloadBytes: 2 * parameters };
}
