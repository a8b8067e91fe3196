// Every trainable parameter a ModelConfig implies, with Hugging Face's names and shapes, in the order of the
// model's state_dict, and which of them weight decay applies to.
import type { ModelConfig } from './config';

export type ParamKind = 'embedding' | 'linear' | 'norm' | 'bias';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Weight decay applies (HF Trainer.get_decay_parameter_names: not biases, not norm weights). */
  decay: boolean;
  kind: ParamKind;
}

/**
 * Every trainable parameter, with Hugging Face names, in the order of the model's state_dict.
 * GPT-2 names carry no `transformer.` prefix (as the Hub's GPT-2 checkpoints store them).
 * Linear weights keep their checkpoint layout: GPT-2 Conv1D is [in, out], nn.Linear is [out, in].
 */
export function parameterSpecs(cfg: ModelConfig): ParamSpec[] {
  const out: ParamSpec[] = [];
  const p = (name: string, shape: number[], kind: ParamKind) =>
    out.push({ name, shape, kind, decay: kind === 'embedding' || kind === 'linear' });
  const C = cfg.hidden;
  const V = cfg.vocabSize;
  if (cfg.arch === 'gpt2') {
    p('wte.weight', [V, C], 'embedding');
    p('wpe.weight', [cfg.maxPositions, C], 'embedding');
    for (let i = 0; i < cfg.layers; i++) {
      const h = `h.${i}`;
      p(`${h}.ln_1.weight`, [C], 'norm');
      p(`${h}.ln_1.bias`, [C], 'bias');
      p(`${h}.attn.c_attn.weight`, [C, 3 * C], 'linear');
      p(`${h}.attn.c_attn.bias`, [3 * C], 'bias');
      p(`${h}.attn.c_proj.weight`, [C, C], 'linear');
      p(`${h}.attn.c_proj.bias`, [C], 'bias');
      p(`${h}.ln_2.weight`, [C], 'norm');
      p(`${h}.ln_2.bias`, [C], 'bias');
      p(`${h}.mlp.c_fc.weight`, [C, cfg.intermediate], 'linear');
      p(`${h}.mlp.c_fc.bias`, [cfg.intermediate], 'bias');
      p(`${h}.mlp.c_proj.weight`, [cfg.intermediate, C], 'linear');
      p(`${h}.mlp.c_proj.bias`, [C], 'bias');
    }
    p('ln_f.weight', [C], 'norm');
    p('ln_f.bias', [C], 'bias');
  } else {
    const q = cfg.heads * cfg.headDim;
    const kv = cfg.kvHeads * cfg.headDim;
    const I = cfg.intermediate;
    p('model.embed_tokens.weight', [V, C], 'embedding');
    for (let i = 0; i < cfg.layers; i++) {
      const l = `model.layers.${i}`;
      const lin = (name: string, o: number, inp: number, bias: boolean) => {
        p(`${name}.weight`, [o, inp], 'linear');
        if (bias) p(`${name}.bias`, [o], 'bias');
      };
      lin(`${l}.self_attn.q_proj`, q, C, cfg.qkvBias);
      lin(`${l}.self_attn.k_proj`, kv, C, cfg.qkvBias);
      lin(`${l}.self_attn.v_proj`, kv, C, cfg.qkvBias);
      lin(`${l}.self_attn.o_proj`, C, q, cfg.oBias);
      if (cfg.qkNorm) {
        p(`${l}.self_attn.q_norm.weight`, [cfg.headDim], 'norm');
        p(`${l}.self_attn.k_norm.weight`, [cfg.headDim], 'norm');
      }
      lin(`${l}.mlp.gate_proj`, I, C, cfg.mlpBias);
      lin(`${l}.mlp.up_proj`, I, C, cfg.mlpBias);
      lin(`${l}.mlp.down_proj`, C, I, cfg.mlpBias);
      p(`${l}.input_layernorm.weight`, [C], 'norm');
      p(`${l}.post_attention_layernorm.weight`, [C], 'norm');
    }
    p('model.norm.weight', [C], 'norm');
  }
  if (!cfg.tieWordEmbeddings) p('lm_head.weight', [V, C], 'linear');
  return out;
}

/** Number of trainable parameters (a tied lm_head counts once, as in model.num_parameters()). */
export function countParameters(cfg: ModelConfig): number {
  let n = 0;
  for (const s of parameterSpecs(cfg)) n += s.shape.reduce((a, b) => a * b, 1);
  return n;
}
