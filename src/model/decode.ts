// Cached decoding for generation: the prompt runs once through Transformer.forward (prefill) and its
// per-layer keys and values (after RoPE / q-k norm for the Llama family, as Hugging Face caches them)
// are copied into KV caches sized for the whole generation; every new token then runs the blocks for
// ONE row at its position, appends its k/v to the caches and attends over cache rows 0..pos
// (ops/decode.ts). The same ops as the forward graph (matmul with M = 1, norms, activations), so the
// logits agree with an uncached forward up to float rounding.
import type { Gpu, Tensor } from '../gpu/context';
import { geluNewForward, swigluForward } from '../gpu/ops/activation';
import { decodeAttention, decodeScratch } from '../gpu/ops/decode';
import { embeddingForward } from '../gpu/ops/embedding';
import { matmul } from '../gpu/ops/matmul';
import { layerNormForward, rmsNormForward } from '../gpu/ops/norm';
import { ropeForward, type RopeTable } from '../gpu/ops/rope';
import { ropeTableCpu } from '../gpu/reference/rope';
import { linearForward } from './linear';
import { NO_TARGET, type Transformer } from './transformer';

export class KvDecoder {
  private readonly kCache: Tensor[] = [];
  private readonly vCache: Tensor[] = [];
  private readonly scores: Tensor;
  private readonly idT: Tensor;
  private readonly posT: Tensor;
  /** Full cos/sin table [L, D/2] and the 1-row slice at the current position (Llama family). */
  private readonly rope: RopeTable | null = null;
  private readonly rope1: RopeTable | null = null;
  /** Rows filled so far (the next token goes to this position). */
  length = 0;
  private released = false;

  /**
   * Caches for `capacity` positions (prompt + new tokens); GPT-2 is limited to its n_positions.
   * Call prefill() first, then step() per token; release() frees every buffer.
   */
  constructor(
    readonly model: Transformer,
    readonly capacity: number,
  ) {
    const { gpu, cfg } = model;
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`KvDecoder: the cache capacity must be a positive integer, got ${capacity}.`);
    if (cfg.arch === 'gpt2' && capacity > cfg.maxPositions) {
      throw new RangeError(`KvDecoder: ${capacity} positions exceed this model's ${cfg.maxPositions}; generate fewer tokens or use a shorter prompt.`);
    }
    const width = cfg.kvHeads * cfg.headDim;
    for (let l = 0; l < cfg.layers; l++) {
      this.kCache.push(gpu.tensor([capacity, width]));
      this.vCache.push(gpu.tensor([capacity, width]));
    }
    this.scores = decodeScratch(gpu, { H: cfg.heads, L: capacity });
    this.idT = gpu.tensor([1], 'u32');
    this.posT = gpu.tensor([1], 'u32');
    if (cfg.arch !== 'gpt2') {
      const D = cfg.headDim;
      const t = ropeTableCpu(capacity, D, cfg.ropeTheta);
      this.rope = { cos: gpu.upload(Float32Array.from(t.cos), [capacity, D / 2]), sin: gpu.upload(Float32Array.from(t.sin), [capacity, D / 2]) };
      this.rope1 = { cos: gpu.tensor([1, D / 2]), sin: gpu.tensor([1, D / 2]) };
    }
  }

  private get gpu(): Gpu {
    return this.model.gpu;
  }

  private p(name: string): Tensor {
    const t = this.model.params.get(name)?.chunks[0];
    if (!t) throw new Error(`internal error: missing parameter ${name}`);
    return t;
  }

  private opt(name: string): Tensor | undefined {
    return this.model.params.get(name)?.chunks[0];
  }

  private checkOpen(): void {
    if (this.released) throw new Error('KvDecoder: this decoder was released; start a new generation.');
  }

  /** Runs the prompt once, fills cache rows 0..T-1 and returns the next-token logits [V] (caller releases). */
  prefill(promptIds: readonly number[]): Tensor {
    this.checkOpen();
    const { gpu, cfg } = this.model;
    const T = promptIds.length;
    if (T === 0) throw new RangeError('generate: the prompt is empty; give at least one token (e.g. the BOS token).');
    if (T > this.capacity) throw new RangeError(`KvDecoder: a prompt of ${T} tokens does not fit a cache of ${this.capacity} positions.`);
    if (this.length !== 0) throw new Error('KvDecoder: prefill must come first, once.');
    const batch = {
      S: 1,
      T,
      ids: gpu.upload(Uint32Array.from(promptIds)),
      pos: gpu.upload(Uint32Array.from({ length: T }, (_, t) => t)),
      targets: gpu.upload(new Uint32Array(T).fill(NO_TARGET)),
    };
    // train = true keeps each block's k/v (krot for RoPE models) so they can be copied into the caches
    // (without gradient checkpointing, which would keep only each block's input)
    const ckpt = this.model.gradientCheckpointing;
    this.model.gradientCheckpointing = false;
    let state;
    try {
      state = this.model.forward(batch, true);
    } finally {
      this.model.gradientCheckpointing = ckpt;
    }
    const width = cfg.kvHeads * cfg.headDim;
    state.layers.forEach((s, l) => {
      gpu.copy(cfg.arch === 'gpt2' ? s.k : s.krot, this.kCache[l], 0, 0, T * width);
      gpu.copy(s.v, this.vCache[l], 0, 0, T * width);
    });
    const logits = this.model.rowLogits(state, T - 1);
    this.model.releaseState(state);
    gpu.release(batch.ids, batch.pos, batch.targets);
    this.length = T;
    return logits;
  }

  /** Appends `token` at the next position and returns the logits [V] for the token after it (caller releases). */
  step(token: number): Tensor {
    this.checkOpen();
    const { gpu, cfg } = this.model;
    const pos = this.length;
    if (pos >= this.capacity) throw new RangeError(`KvDecoder: the cache of ${this.capacity} positions is full.`);
    if (!Number.isInteger(token) || token < 0 || token >= cfg.vocabSize) {
      throw new RangeError(`KvDecoder: token id ${token} is outside the vocabulary of ${cfg.vocabSize}.`);
    }
    const C = cfg.hidden;
    gpu.write(this.idT, Uint32Array.of(token));
    let x = gpu.tensor([1, C]);
    const emb = this.model.embedding;
    embeddingForward(gpu, this.idT, emb.chunks, emb.chunkRows, x, { n: 1, dim: C });
    if (cfg.arch === 'gpt2') {
      gpu.write(this.posT, Uint32Array.of(pos));
      const wpe = this.model.params.get('wpe.weight')!;
      embeddingForward(gpu, this.posT, wpe.chunks, wpe.chunkRows, x, { n: 1, dim: C, accumulate: true });
    } else {
      const half = cfg.headDim / 2;
      gpu.copy(this.rope!.cos, this.rope1!.cos, pos * half, 0, half);
      gpu.copy(this.rope!.sin, this.rope1!.sin, pos * half, 0, half);
    }
    for (let l = 0; l < cfg.layers; l++) {
      const next = cfg.arch === 'gpt2' ? this.gpt2Block(l, x, pos) : this.llamaBlock(l, x, pos);
      gpu.release(x);
      x = next;
    }
    const h = gpu.tensor([1, C]);
    const stats = [gpu.tensor([1]), gpu.tensor([1])];
    if (cfg.arch === 'gpt2') layerNormForward(gpu, x, this.p('ln_f.weight'), this.p('ln_f.bias'), h, stats[0], stats[1], { rows: 1, cols: C, eps: cfg.normEps });
    else rmsNormForward(gpu, x, this.p('model.norm.weight'), h, stats[1], { rows: 1, cols: C, eps: cfg.normEps });
    gpu.release(x, ...stats);
    const out = this.logits(h);
    gpu.release(h);
    this.length = pos + 1;
    return out;
  }

  /** Full next-token logits [V] of one hidden row, chunk by chunk over the vocabulary (as Transformer.rowLogits). */
  private logits(h: Tensor): Tensor {
    const { gpu, cfg } = this.model;
    const out = gpu.tensor([cfg.vocabSize]);
    const head = this.model.lmHead;
    head.chunks.forEach((w, i) => {
      const Vc = w.shape[0];
      const chunk = gpu.tensor([1, Vc]);
      matmul(gpu, h, w, chunk, { M: 1, N: Vc, K: cfg.hidden, transB: true });
      gpu.copy(chunk, out, 0, i * head.chunkRows, Vc);
      gpu.release(chunk);
    });
    return out;
  }

  private attend(l: number, q: Tensor, k: Tensor, v: Tensor, pos: number): Tensor {
    const { gpu, cfg } = this.model;
    const width = cfg.kvHeads * cfg.headDim;
    gpu.copy(k, this.kCache[l], 0, pos * width, width);
    gpu.copy(v, this.vCache[l], 0, pos * width, width);
    const a = gpu.tensor([1, cfg.heads * cfg.headDim]);
    decodeAttention(gpu, q, this.kCache[l], this.vCache[l], this.scores, a, {
      pos,
      L: this.capacity,
      H: cfg.heads,
      KVH: cfg.kvHeads,
      D: cfg.headDim,
      scale: 1 / Math.sqrt(cfg.headDim),
    });
    return a;
  }

  private gpt2Block(l: number, x: Tensor, pos: number): Tensor {
    const { gpu, cfg } = this.model;
    const C = cfg.hidden;
    const I = cfg.intermediate;
    const n = (s: string) => `h.${l}.${s}`;
    const tmp: Tensor[] = [];
    const t = (shape: number[]) => {
      const r = gpu.tensor(shape);
      tmp.push(r);
      return r;
    };
    const ln1 = t([1, C]);
    layerNormForward(gpu, x, this.p(n('ln_1.weight')), this.p(n('ln_1.bias')), ln1, t([1]), t([1]), { rows: 1, cols: C, eps: cfg.normEps });
    const sq = { rows: 1, inF: C, outF: C, layout: 'conv1d' as const };
    const qkv = (['q', 'k', 'v'] as const).map((part) => {
      const r = t([1, C]);
      linearForward(gpu, ln1, this.p(n(`attn.${part}.weight`)), this.p(n(`attn.${part}.bias`)), r, sq);
      return r;
    });
    const a = this.attend(l, qkv[0], qkv[1], qkv[2], pos);
    tmp.push(a);
    const x2 = t([1, C]);
    gpu.copy(x, x2);
    linearForward(gpu, a, this.p(n('attn.c_proj.weight')), this.p(n('attn.c_proj.bias')), x2, sq, true);
    const ln2 = t([1, C]);
    layerNormForward(gpu, x2, this.p(n('ln_2.weight')), this.p(n('ln_2.bias')), ln2, t([1]), t([1]), { rows: 1, cols: C, eps: cfg.normEps });
    const h = t([1, I]);
    linearForward(gpu, ln2, this.p(n('mlp.c_fc.weight')), this.p(n('mlp.c_fc.bias')), h, { rows: 1, inF: C, outF: I, layout: 'conv1d' });
    const act = t([1, I]);
    geluNewForward(gpu, h, act, I);
    const out = gpu.tensor([1, C]);
    gpu.copy(x2, out);
    linearForward(gpu, act, this.p(n('mlp.c_proj.weight')), this.p(n('mlp.c_proj.bias')), out, { rows: 1, inF: I, outF: C, layout: 'conv1d' }, true);
    gpu.release(...tmp);
    return out;
  }

  private llamaBlock(l: number, x: Tensor, pos: number): Tensor {
    const { gpu, cfg } = this.model;
    const C = cfg.hidden;
    const I = cfg.intermediate;
    const H = cfg.heads;
    const KVH = cfg.kvHeads;
    const D = cfg.headDim;
    const n = (s: string) => `model.layers.${l}.${s}`;
    const tmp: Tensor[] = [];
    const t = (shape: number[]) => {
      const r = gpu.tensor(shape);
      tmp.push(r);
      return r;
    };
    const n1 = t([1, C]);
    rmsNormForward(gpu, x, this.p(n('input_layernorm.weight')), n1, t([1]), { rows: 1, cols: C, eps: cfg.normEps });
    const widths = { q: H * D, k: KVH * D, v: KVH * D };
    const proj: Record<string, Tensor> = {};
    for (const part of ['q', 'k', 'v'] as const) {
      proj[part] = t([1, widths[part]]);
      linearForward(gpu, n1, this.p(n(`self_attn.${part}_proj.weight`)), this.opt(n(`self_attn.${part}_proj.bias`)), proj[part], {
        rows: 1,
        inF: C,
        outF: widths[part],
        layout: 'linear',
      });
    }
    for (const part of ['q', 'k'] as const) {
      const heads = part === 'q' ? H : KVH;
      let src = proj[part];
      if (cfg.qkNorm) {
        const normed = t([1, heads * D]);
        rmsNormForward(gpu, src, this.p(n(`self_attn.${part}_norm.weight`)), normed, t([heads]), { rows: heads, cols: D, eps: cfg.normEps });
        src = normed;
      }
      proj[`${part}rot`] = t([1, heads * D]);
      // the 1-row table holds position `pos`, so row 0 of this single-row batch is rotated to pos
      ropeForward(gpu, src, proj[`${part}rot`], this.rope1!, { rows: 1, T: 1, heads, D });
    }
    const a = this.attend(l, proj.qrot, proj.krot, proj.v, pos);
    tmp.push(a);
    const x2 = t([1, C]);
    gpu.copy(x, x2);
    linearForward(gpu, a, this.p(n('self_attn.o_proj.weight')), this.opt(n('self_attn.o_proj.bias')), x2, { rows: 1, inF: H * D, outF: C, layout: 'linear' }, true);
    const n2 = t([1, C]);
    rmsNormForward(gpu, x2, this.p(n('post_attention_layernorm.weight')), n2, t([1]), { rows: 1, cols: C, eps: cfg.normEps });
    const up = { rows: 1, inF: C, outF: I, layout: 'linear' as const };
    const gate = t([1, I]);
    linearForward(gpu, n2, this.p(n('mlp.gate_proj.weight')), this.opt(n('mlp.gate_proj.bias')), gate, up);
    const upT = t([1, I]);
    linearForward(gpu, n2, this.p(n('mlp.up_proj.weight')), this.opt(n('mlp.up_proj.bias')), upT, up);
    const act = t([1, I]);
    swigluForward(gpu, gate, upT, act, I);
    const out = gpu.tensor([1, C]);
    gpu.copy(x2, out);
    linearForward(gpu, act, this.p(n('mlp.down_proj.weight')), this.opt(n('mlp.down_proj.bias')), out, { rows: 1, inF: I, outF: C, layout: 'linear' }, true);
    gpu.release(...tmp);
    return out;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.gpu.release(...this.kCache, ...this.vCache, this.scores, this.idT, this.posT);
    if (this.rope) this.gpu.release(this.rope.cos, this.rope.sin);
    if (this.rope1) this.gpu.release(this.rope1.cos, this.rope1.sin);
  }
}
