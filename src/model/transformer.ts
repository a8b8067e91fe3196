// The forward and backward graph of GPT-2 and the Llama family (Llama, Qwen2, Qwen3), written out
// op by op so the training step reads top to bottom (llm.c style). Activations a block needs for its
// backward are kept in a `Saved` record; a no-grad forward releases them as it goes.
import type { Gpu, Tensor } from '../gpu/context';
import { flashAttentionBackward, flashAttentionForward } from '../gpu/ops/flash-attention';
import { swigluBackward, swigluForward } from '../gpu/ops/activation';
import { embeddingBackward, embeddingForward } from '../gpu/ops/embedding';
import { matmul } from '../gpu/ops/matmul';
import { layerNormBackward, layerNormForward, rmsNormBackward, rmsNormForward } from '../gpu/ops/norm';
import { ropeBackward, ropeForward, ropeTable } from '../gpu/ops/rope';
import {
  createLogprobState,
  klChunkUpdate,
  logprobChunkBackward,
  logprobChunkUpdate,
  logprobFinalize,
  logprobInit,
  releaseLogprobState,
} from '../gpu/ops/logprob';
import { createTokenStatsState, releaseTokenStatsState, tokenStatsChunk, tokenStatsFinalize } from '../gpu/ops/logprob-stats';
import type { ModelConfig } from './config';
import { linearBackward, linearBackwardThroughGelu, linearForward, linearGeluForward, type LinearShape } from './linear';
import type { Param, ParamSet } from './params';

/** Token ids of S right-padded sequences of length T, with next-token targets for the LM head. */
export interface SeqBatch {
  S: number;
  T: number;
  /** u32 [S*T] token ids. */
  ids: Tensor;
  /** u32 [S*T] position of each row (t), for learned position embeddings. */
  pos: Tensor;
  /** u32 [S*T]: targets[s*T+t] = ids[s*T+t+1] where that token is scored, else NO_TARGET. */
  targets: Tensor;
  /**
   * u32 [S]: real (unpadded) length of each sequence, transformers' attention_mask for right padding: pad
   * positions attend only to their sequence's real tokens (what HF computes there; TRL's CPO/ORPO average
   * logits over pad positions). Without it every position is real. Real positions are the same either way.
   */
  lens?: Tensor;
}

export const NO_TARGET = 0xffffffff;

type Saved = Record<string, Tensor>;

export interface ForwardState {
  batch: SeqBatch;
  /** Residual stream entering each block (and the final one), [S*T, C]. */
  layers: Saved[];
  /** Final norm output [S*T, C] that the LM head reads. */
  hidden: Tensor;
  final: Saved;
  train: boolean;
  /** Only each block's input was kept (gradient checkpointing): backward recomputes the block. */
  checkpointed?: boolean;
}

export interface TokenLogprobs {
  logp: Tensor; // [R] log p(target | prefix), 0 where no target
  lse: Tensor; // [R] logsumexp of the logits
  logitSum: Tensor; // [R] sum of raw logits over the vocabulary
  /** [3R] entropy | argmax == target | log p - log sum p^2 (src/gpu/ops/logprob-stats.ts), when asked for. */
  stats?: Tensor;
}

export class Transformer {
  readonly rows: (b: SeqBatch) => number = (b) => b.S * b.T;
  /** HF's gradient_checkpointing: a training forward keeps only each block's input; backward recomputes the rest. */
  gradientCheckpointing = false;

  constructor(
    readonly gpu: Gpu,
    readonly cfg: ModelConfig,
    readonly params: ParamSet,
  ) {}

  private p(name: string): Tensor {
    const p = this.params.get(name);
    if (!p) throw new Error(`internal error: missing parameter ${name}`);
    return p.chunks[0];
  }

  private opt(name: string): Tensor | undefined {
    return this.params.get(name)?.chunks[0];
  }

  private g(grads: ParamSet, name: string): Tensor | null {
    return grads.get(name)?.chunks[0] ?? null;
  }

  get embedding(): Param {
    return this.params.get(this.cfg.arch === 'gpt2' ? 'wte.weight' : 'model.embed_tokens.weight')!;
  }

  get lmHead(): Param {
    return this.cfg.tieWordEmbeddings ? this.embedding : this.params.get('lm_head.weight')!;
  }

  private lmHeadName(): string {
    return this.cfg.tieWordEmbeddings ? this.embedding.name : 'lm_head.weight';
  }

  // ------------------------------------------------------------------ forward

  forward(batch: SeqBatch, train: boolean): ForwardState {
    const { gpu, cfg } = this;
    gpu.checkAlive();
    const R = batch.S * batch.T;
    const C = cfg.hidden;
    if (batch.T > cfg.maxPositions && cfg.arch === 'gpt2') {
      throw new RangeError(`Sequences of ${batch.T} tokens exceed this model's ${cfg.maxPositions} positions; lower max_length.`);
    }
    let x = gpu.tensor([R, C]);
    const emb = this.embedding;
    embeddingForward(gpu, batch.ids, emb.chunks, emb.chunkRows, x, { n: R, dim: C });
    if (cfg.arch === 'gpt2') {
      const wpe = this.params.get('wpe.weight')!;
      embeddingForward(gpu, batch.pos, wpe.chunks, wpe.chunkRows, x, { n: R, dim: C, accumulate: true });
    }
    const layers: Saved[] = [];
    for (let l = 0; l < cfg.layers; l++) {
      const saved = cfg.arch === 'gpt2' ? this.gpt2Block(l, x, batch) : this.llamaBlock(l, x, batch);
      const next = saved.out;
      delete saved.out;
      if (train && this.gradientCheckpointing) {
        const { x: input, ...rest } = saved;
        gpu.release(...Object.values(rest));
        layers.push({ x: input });
      } else if (train) layers.push(saved);
      else gpu.release(...Object.values(saved));
      x = next;
    }
    const hidden = gpu.tensor([R, C]);
    const final: Saved = { x };
    if (cfg.arch === 'gpt2') {
      final.mean = gpu.tensor([R]);
      final.rstd = gpu.tensor([R]);
      layerNormForward(gpu, x, this.p('ln_f.weight'), this.p('ln_f.bias'), hidden, final.mean, final.rstd, { rows: R, cols: C, eps: cfg.normEps });
    } else {
      final.rstd = gpu.tensor([R]);
      rmsNormForward(gpu, x, this.p('model.norm.weight'), hidden, final.rstd, { rows: R, cols: C, eps: cfg.normEps });
    }
    if (!train) {
      gpu.release(...Object.values(final));
      return { batch, layers, hidden, final: {}, train };
    }
    return { batch, layers, hidden, final, train, checkpointed: this.gradientCheckpointing };
  }

  private gpt2Block(l: number, x: Tensor, b: SeqBatch): Saved {
    const { gpu, cfg } = this;
    const R = b.S * b.T;
    const C = cfg.hidden;
    const I = cfg.intermediate;
    const n = (s: string) => `h.${l}.${s}`;
    const s: Saved = { x };
    s.ln1 = gpu.tensor([R, C]);
    s.m1 = gpu.tensor([R]);
    s.r1 = gpu.tensor([R]);
    layerNormForward(gpu, x, this.p(n('ln_1.weight')), this.p(n('ln_1.bias')), s.ln1, s.m1, s.r1, { rows: R, cols: C, eps: cfg.normEps });
    const sq: LinearShape = { rows: R, inF: C, outF: C, layout: 'conv1d' };
    for (const part of ['q', 'k', 'v']) {
      s[part] = gpu.tensor([R, C]);
      linearForward(gpu, s.ln1, this.p(n(`attn.${part}.weight`)), this.p(n(`attn.${part}.bias`)), s[part], sq);
    }
    s.a = gpu.tensor([R, C]);
    s.lse = gpu.tensor([b.S * cfg.heads * b.T]); // per-row logsumexp: the fused kernel keeps no [T, T] probabilities
    flashAttentionForward(gpu, s.q, s.k, s.v, s.a, s.lse, this.attnShape(b), b.lens);
    s.x2 = gpu.tensor([R, C]);
    gpu.copy(x, s.x2);
    linearForward(gpu, s.a, this.p(n('attn.c_proj.weight')), this.p(n('attn.c_proj.bias')), s.x2, sq, true);
    s.ln2 = gpu.tensor([R, C]);
    s.m2 = gpu.tensor([R]);
    s.r2 = gpu.tensor([R]);
    layerNormForward(gpu, s.x2, this.p(n('ln_2.weight')), this.p(n('ln_2.bias')), s.ln2, s.m2, s.r2, { rows: R, cols: C, eps: cfg.normEps });
    s.h = gpu.tensor([R, I]);
    s.act = gpu.tensor([R, I]);
    linearGeluForward(gpu, s.ln2, this.p(n('mlp.c_fc.weight')), this.p(n('mlp.c_fc.bias')), s.h, s.act, { rows: R, inF: C, outF: I, layout: 'conv1d' });
    s.out = gpu.tensor([R, C]);
    gpu.copy(s.x2, s.out);
    linearForward(gpu, s.act, this.p(n('mlp.c_proj.weight')), this.p(n('mlp.c_proj.bias')), s.out, { rows: R, inF: I, outF: C, layout: 'conv1d' }, true);
    return s;
  }

  private attnShape(b: SeqBatch) {
    const { cfg } = this;
    return { B: b.S, T: b.T, H: cfg.heads, KVH: cfg.kvHeads, D: cfg.headDim, scale: 1 / Math.sqrt(cfg.headDim) };
  }

  private llamaBlock(l: number, x: Tensor, b: SeqBatch): Saved {
    const { gpu, cfg } = this;
    const R = b.S * b.T;
    const C = cfg.hidden;
    const I = cfg.intermediate;
    const H = cfg.heads;
    const KVH = cfg.kvHeads;
    const D = cfg.headDim;
    const n = (s: string) => `model.layers.${l}.${s}`;
    const s: Saved = { x };
    s.n1 = gpu.tensor([R, C]);
    s.r1 = gpu.tensor([R]);
    rmsNormForward(gpu, x, this.p(n('input_layernorm.weight')), s.n1, s.r1, { rows: R, cols: C, eps: cfg.normEps });
    const widths = { q: H * D, k: KVH * D, v: KVH * D };
    for (const part of ['q', 'k', 'v'] as const) {
      s[part] = gpu.tensor([R, widths[part]]);
      linearForward(gpu, s.n1, this.p(n(`self_attn.${part}_proj.weight`)), this.opt(n(`self_attn.${part}_proj.bias`)), s[part], {
        rows: R,
        inF: C,
        outF: widths[part],
        layout: 'linear',
      });
    }
    const table = ropeTable(gpu, b.T, D, cfg.ropeTheta);
    for (const part of ['q', 'k'] as const) {
      const heads = part === 'q' ? H : KVH;
      let src = s[part];
      if (cfg.qkNorm) {
        s[`${part}n`] = gpu.tensor([R, heads * D]);
        s[`${part}r`] = gpu.tensor([R * heads]);
        rmsNormForward(gpu, src, this.p(n(`self_attn.${part}_norm.weight`)), s[`${part}n`], s[`${part}r`], { rows: R * heads, cols: D, eps: cfg.normEps });
        src = s[`${part}n`];
      }
      s[`${part}rot`] = gpu.tensor([R, heads * D]);
      ropeForward(gpu, src, s[`${part}rot`], table, { rows: R, T: b.T, heads, D });
    }
    s.a = gpu.tensor([R, H * D]);
    s.lse = gpu.tensor([b.S * H * b.T]); // per-row logsumexp: the fused kernel keeps no [T, T] probabilities
    flashAttentionForward(gpu, s.qrot, s.krot, s.v, s.a, s.lse, this.attnShape(b), b.lens);
    s.x2 = gpu.tensor([R, C]);
    gpu.copy(x, s.x2);
    linearForward(gpu, s.a, this.p(n('self_attn.o_proj.weight')), this.opt(n('self_attn.o_proj.bias')), s.x2, { rows: R, inF: H * D, outF: C, layout: 'linear' }, true);
    s.n2 = gpu.tensor([R, C]);
    s.r2 = gpu.tensor([R]);
    rmsNormForward(gpu, s.x2, this.p(n('post_attention_layernorm.weight')), s.n2, s.r2, { rows: R, cols: C, eps: cfg.normEps });
    const up: LinearShape = { rows: R, inF: C, outF: I, layout: 'linear' };
    s.gate = gpu.tensor([R, I]);
    linearForward(gpu, s.n2, this.p(n('mlp.gate_proj.weight')), this.opt(n('mlp.gate_proj.bias')), s.gate, up);
    s.up = gpu.tensor([R, I]);
    linearForward(gpu, s.n2, this.p(n('mlp.up_proj.weight')), this.opt(n('mlp.up_proj.bias')), s.up, up);
    s.act = gpu.tensor([R, I]);
    swigluForward(gpu, s.gate, s.up, s.act, R * I);
    s.out = gpu.tensor([R, C]);
    gpu.copy(s.x2, s.out);
    linearForward(gpu, s.act, this.p(n('mlp.down_proj.weight')), this.opt(n('mlp.down_proj.bias')), s.out, { rows: R, inF: I, outF: C, layout: 'linear' }, true);
    return s;
  }

  // ------------------------------------------------------------------ LM head (vocabulary chunks)

  private forEachVocabChunk(fn: (w: Tensor, vOffset: number, Vc: number, index: number) => void): void {
    const head = this.lmHead;
    head.chunks.forEach((w, i) => fn(w, i * head.chunkRows, w.shape[0], i));
  }

  private logitsChunk(hidden: Tensor, w: Tensor, R: number, Vc: number): Tensor {
    const logits = this.gpu.tensor([R, Vc]);
    matmul(this.gpu, hidden, w, logits, { M: R, N: Vc, K: this.cfg.hidden, transB: true });
    return logits;
  }

  /** log p(target | prefix) per row, computed chunk by chunk over the vocabulary. */
  tokenLogprobs(state: ForwardState, withStats = false): TokenLogprobs {
    const { gpu } = this;
    const R = state.batch.S * state.batch.T;
    const st = createLogprobState(gpu, R);
    // entropy / argmax / WPO's log sum p^2 ride on the same logits chunks (TRL's entropy, mean_token_accuracy)
    const ss = withStats ? createTokenStatsState(gpu, R) : null;
    logprobInit(gpu, st, R);
    this.forEachVocabChunk((w, vOffset, Vc, index) => {
      const logits = this.logitsChunk(state.hidden, w, R, Vc);
      logprobChunkUpdate(gpu, logits, state.batch.targets, st, { N: R, Vc, vOffset });
      if (ss) tokenStatsChunk(gpu, logits, ss, { N: R, Vc, vOffset, first: index === 0 });
      gpu.release(logits);
    });
    const out: TokenLogprobs = { logp: gpu.tensor([R]), lse: gpu.tensor([R]), logitSum: gpu.tensor([R]) };
    logprobFinalize(gpu, st, state.batch.targets, out.lse, out.logp, { N: R });
    gpu.copy(st.logitSum, out.logitSum);
    releaseLogprobState(gpu, st);
    if (ss) {
      out.stats = gpu.tensor([3 * R]);
      tokenStatsFinalize(gpu, ss, state.batch.targets, out.logp, out.stats, { N: R });
      releaseTokenStatsState(gpu, ss);
    }
    return out;
  }

  /** Exact KL(policy || reference) of next-token distributions per row (policy = this model). */
  tokenKl(state: ForwardState, lp: TokenLogprobs, ref: Transformer, refState: ForwardState, refLp: TokenLogprobs): Tensor {
    const { gpu } = this;
    const R = state.batch.S * state.batch.T;
    const kl = gpu.tensor([R], 'f32', true);
    const refChunks = ref.lmHead.chunks;
    this.forEachVocabChunk((w, _v, Vc, i) => {
      const pl = this.logitsChunk(state.hidden, w, R, Vc);
      const rl = ref.logitsChunk(refState.hidden, refChunks[i], R, Vc);
      klChunkUpdate(gpu, pl, rl, lp.lse, refLp.lse, kl, { N: R, Vc });
      gpu.release(pl, rl);
    });
    return kl;
  }

  /** Full next-token logits [V] of one row of a forward state (generation). */
  rowLogits(state: ForwardState, row: number): Tensor {
    const { gpu, cfg } = this;
    const h = gpu.tensor([1, cfg.hidden]);
    gpu.copy(state.hidden, h, row * cfg.hidden, 0, cfg.hidden);
    const out = gpu.tensor([cfg.vocabSize]);
    this.forEachVocabChunk((w, vOffset, Vc) => {
      const logits = this.logitsChunk(h, w, 1, Vc);
      gpu.copy(logits, out, 0, vOffset, Vc);
      gpu.release(logits);
    });
    gpu.release(h);
    return out;
  }

  releaseLogprobs(lp: TokenLogprobs): void {
    this.gpu.release(lp.logp, lp.lse, lp.logitSum, lp.stats);
  }

  releaseState(state: ForwardState): void {
    for (const s of state.layers) this.gpu.release(...Object.values(s));
    this.gpu.release(state.hidden, ...Object.values(state.final));
    state.layers = [];
    state.final = {};
  }

  // ------------------------------------------------------------------ backward

  /**
   * Accumulates into `grads` the gradient of sum_rows g[row] * logp[row]. Releases the forward state.
   * `grads` has the same names and chunking as the parameters.
   */
  backward(state: ForwardState, lp: TokenLogprobs, g: Tensor, grads: ParamSet): void {
    const { gpu, cfg } = this;
    if (!state.train) throw new Error('internal error: backward needs a forward with train=true');
    const b = state.batch;
    const R = b.S * b.T;
    const C = cfg.hidden;
    // LM head, chunk by chunk: dlogits = g * (onehot - softmax); dhidden += dlogits W; dW += dlogits^T hidden
    const dhidden = gpu.tensor([R, C], 'f32', true);
    const headGrads = grads.get(this.lmHeadName()); // absent when frozen (LoRA)
    this.forEachVocabChunk((w, vOffset, Vc, i) => {
      const logits = this.logitsChunk(state.hidden, w, R, Vc);
      const dlogits = gpu.tensor([R, Vc]);
      logprobChunkBackward(gpu, logits, b.targets, lp.lse, g, dlogits, { N: R, Vc, vOffset });
      gpu.release(logits);
      matmul(gpu, dlogits, w, dhidden, { M: R, N: C, K: Vc, accumulate: true });
      if (headGrads) matmul(gpu, dlogits, state.hidden, headGrads.chunks[i], { M: Vc, N: C, K: R, transA: true, accumulate: true });
      gpu.release(dlogits);
    });
    // final norm
    const dx = gpu.tensor([R, C]);
    const f = state.final;
    if (cfg.arch === 'gpt2') {
      layerNormBackward(gpu, dhidden, f.x, this.p('ln_f.weight'), f.mean, f.rstd, dx, this.g(grads, 'ln_f.weight'), this.g(grads, 'ln_f.bias'), { rows: R, cols: C });
    } else {
      rmsNormBackward(gpu, dhidden, f.x, this.p('model.norm.weight'), f.rstd, dx, this.g(grads, 'model.norm.weight'), { rows: R, cols: C });
    }
    gpu.release(dhidden);
    for (let l = cfg.layers - 1; l >= 0; l--) {
      const s = state.checkpointed ? this.recomputeBlock(l, state.layers[l].x, b) : state.layers[l];
      if (cfg.arch === 'gpt2') this.gpt2BlockBackward(l, s, dx, b, grads);
      else this.llamaBlockBackward(l, s, dx, b, grads);
      if (state.checkpointed) {
        const { x: _input, ...recomputed } = s;
        gpu.release(...Object.values(recomputed));
      }
    }
    // embeddings
    const emb = this.embedding;
    const dEmb = grads.get(emb.name); // absent when frozen (LoRA)
    if (dEmb) embeddingBackward(gpu, b.ids, dx, dEmb.chunks, emb.chunkRows, { n: R, dim: C });
    if (cfg.arch === 'gpt2' && grads.has('wpe.weight')) {
      const wpe = grads.get('wpe.weight')!;
      embeddingBackward(gpu, b.pos, dx, wpe.chunks, wpe.chunkRows, { n: R, dim: C });
    }
    gpu.release(dx);
    this.releaseState(state);
  }

  /** Gradient checkpointing: the block's forward again from its kept input (deterministic, so the same activations). */
  private recomputeBlock(l: number, x: Tensor, b: SeqBatch): Saved {
    const s = this.cfg.arch === 'gpt2' ? this.gpt2Block(l, x, b) : this.llamaBlock(l, x, b);
    this.gpu.release(s.out);
    delete s.out;
    return s;
  }

  /** dx holds dL/d(block output) on entry and dL/d(block input) on exit. */
  private gpt2BlockBackward(l: number, s: Saved, dx: Tensor, b: SeqBatch, grads: ParamSet): void {
    const { gpu, cfg } = this;
    const R = b.S * b.T;
    const C = cfg.hidden;
    const I = cfg.intermediate;
    const n = (x: string) => `h.${l}.${x}`;
    const gr = (x: string) => this.g(grads, n(x));
    // MLP
    const dh = gpu.tensor([R, I]);
    linearBackwardThroughGelu(gpu, s.act, s.h, this.p(n('mlp.c_proj.weight')), dx, dh, gr('mlp.c_proj.weight'), gr('mlp.c_proj.bias'), { rows: R, inF: I, outF: C, layout: 'conv1d' });
    const dln2 = gpu.tensor([R, C]);
    linearBackward(gpu, s.ln2, this.p(n('mlp.c_fc.weight')), dh, dln2, gr('mlp.c_fc.weight'), gr('mlp.c_fc.bias'), { rows: R, inF: C, outF: I, layout: 'conv1d' });
    gpu.release(dh);
    layerNormBackward(gpu, dln2, s.x2, this.p(n('ln_2.weight')), s.m2, s.r2, dx, gr('ln_2.weight'), gr('ln_2.bias'), { rows: R, cols: C, accumulateDx: true });
    gpu.release(dln2);
    // attention
    const sq: LinearShape = { rows: R, inF: C, outF: C, layout: 'conv1d' };
    const da = gpu.tensor([R, C]);
    linearBackward(gpu, s.a, this.p(n('attn.c_proj.weight')), dx, da, gr('attn.c_proj.weight'), gr('attn.c_proj.bias'), sq);
    const dq = gpu.tensor([R, C]);
    const dk = gpu.tensor([R, C]);
    const dv = gpu.tensor([R, C]);
    flashAttentionBackward(gpu, s.q, s.k, s.v, s.a, s.lse, da, dq, dk, dv, this.attnShape(b), b.lens);
    gpu.release(da);
    const dln1 = gpu.tensor([R, C]);
    const parts: [string, Tensor][] = [['q', dq], ['k', dk], ['v', dv]];
    parts.forEach(([part, d], i) => {
      linearBackward(gpu, s.ln1, this.p(n(`attn.${part}.weight`)), d, dln1, gr(`attn.${part}.weight`), gr(`attn.${part}.bias`), sq, i > 0);
    });
    gpu.release(dq, dk, dv);
    layerNormBackward(gpu, dln1, s.x, this.p(n('ln_1.weight')), s.m1, s.r1, dx, gr('ln_1.weight'), gr('ln_1.bias'), { rows: R, cols: C, accumulateDx: true });
    gpu.release(dln1);
  }

  private llamaBlockBackward(l: number, s: Saved, dx: Tensor, b: SeqBatch, grads: ParamSet): void {
    const { gpu, cfg } = this;
    const R = b.S * b.T;
    const C = cfg.hidden;
    const I = cfg.intermediate;
    const H = cfg.heads;
    const KVH = cfg.kvHeads;
    const D = cfg.headDim;
    const n = (x: string) => `model.layers.${l}.${x}`;
    const gr = (x: string) => this.g(grads, n(x));
    // MLP
    const dact = gpu.tensor([R, I]);
    linearBackward(gpu, s.act, this.p(n('mlp.down_proj.weight')), dx, dact, gr('mlp.down_proj.weight'), gr('mlp.down_proj.bias'), { rows: R, inF: I, outF: C, layout: 'linear' });
    const dgate = gpu.tensor([R, I]);
    const dup = gpu.tensor([R, I]);
    swigluBackward(gpu, s.gate, s.up, dact, dgate, dup, R * I);
    gpu.release(dact);
    const dn2 = gpu.tensor([R, C]);
    const up: LinearShape = { rows: R, inF: C, outF: I, layout: 'linear' };
    linearBackward(gpu, s.n2, this.p(n('mlp.gate_proj.weight')), dgate, dn2, gr('mlp.gate_proj.weight'), gr('mlp.gate_proj.bias'), up);
    linearBackward(gpu, s.n2, this.p(n('mlp.up_proj.weight')), dup, dn2, gr('mlp.up_proj.weight'), gr('mlp.up_proj.bias'), up, true);
    gpu.release(dgate, dup);
    rmsNormBackward(gpu, dn2, s.x2, this.p(n('post_attention_layernorm.weight')), s.r2, dx, gr('post_attention_layernorm.weight'), { rows: R, cols: C, accumulateDx: true });
    gpu.release(dn2);
    // attention
    const da = gpu.tensor([R, H * D]);
    linearBackward(gpu, s.a, this.p(n('self_attn.o_proj.weight')), dx, da, gr('self_attn.o_proj.weight'), gr('self_attn.o_proj.bias'), { rows: R, inF: H * D, outF: C, layout: 'linear' });
    const d: Record<'q' | 'k' | 'v', Tensor> = { q: gpu.tensor([R, H * D]), k: gpu.tensor([R, KVH * D]), v: gpu.tensor([R, KVH * D]) };
    flashAttentionBackward(gpu, s.qrot, s.krot, s.v, s.a, s.lse, da, d.q, d.k, d.v, this.attnShape(b), b.lens);
    gpu.release(da);
    const table = ropeTable(gpu, b.T, D, cfg.ropeTheta);
    for (const part of ['q', 'k'] as const) {
      const heads = part === 'q' ? H : KVH;
      const dpre = gpu.tensor([R, heads * D]);
      ropeBackward(gpu, d[part], dpre, table, { rows: R, T: b.T, heads, D });
      if (cfg.qkNorm) {
        rmsNormBackward(gpu, dpre, s[part], this.p(n(`self_attn.${part}_norm.weight`)), s[`${part}r`], d[part], gr(`self_attn.${part}_norm.weight`), { rows: R * heads, cols: D });
        gpu.release(dpre);
      } else {
        gpu.release(d[part]);
        d[part] = dpre;
      }
    }
    const dn1 = gpu.tensor([R, C]);
    const widths = { q: H * D, k: KVH * D, v: KVH * D };
    (['q', 'k', 'v'] as const).forEach((part, i) => {
      linearBackward(gpu, s.n1, this.p(n(`self_attn.${part}_proj.weight`)), d[part], dn1, gr(`self_attn.${part}_proj.weight`), gr(`self_attn.${part}_proj.bias`), { rows: R, inF: C, outF: widths[part], layout: 'linear' }, i > 0);
    });
    gpu.release(d.q, d.k, d.v);
    rmsNormBackward(gpu, dn1, s.x, this.p(n('input_layernorm.weight')), s.r1, dx, gr('input_layernorm.weight'), { rows: R, cols: C, accumulateDx: true });
    gpu.release(dn1);
  }
}
