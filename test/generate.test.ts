// Generation with a KV cache (model/decode.ts, ops/decode.ts) against the uncached path that reruns
// the whole forward per token: same tokens for greedy and seeded top-k/top-p sampling, same logits at
// every step, for GPT-2, Qwen3 (q/k norm, GQA, head_dim != hidden/heads) and Llama (MQA, untied head).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../src/gpu/context';
import { decodeAttention } from '../src/gpu/ops/decode';
import { decodeAttentionCpu } from '../src/gpu/reference/decode';
import { parameterSpecs, parseConfig, type ModelConfig } from '../src/model/config';
import { createParams, fromHf, releaseParams } from '../src/model/params';
import { Transformer } from '../src/model/transformer';
import { generate, generateNoCache, type GenerateOptions } from '../src/dpo/generate';
import { maxRelErr, randn, testGpu } from './helpers/gpu';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await testGpu();
});

function randomModel(raw: Record<string, unknown>, seed: number): Transformer {
  const cfg: ModelConfig = parseConfig(raw);
  const hf = new Map<string, Float32Array>();
  let s = seed;
  for (const p of parameterSpecs(cfg)) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    // norms around 1 and biases nonzero, so every term of the block matters; weights large enough that
    // the logits are well separated (greedy ties would make the comparison meaningless)
    const data = p.kind === 'norm' ? randn(n, s++, 0.2).map((v) => 1 + v) : randn(n, s++, p.kind === 'bias' ? 0.1 : 0.3);
    hf.set(p.name, data);
  }
  return new Transformer(gpu, cfg, createParams(gpu, cfg, fromHf(cfg, hf)));
}

const models: [string, Record<string, unknown>][] = [
  ['gpt2', { model_type: 'gpt2', vocab_size: 53, n_embd: 36, n_layer: 2, n_head: 3, n_positions: 40 }],
  [
    'qwen3',
    { model_type: 'qwen3', vocab_size: 61, hidden_size: 40, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 6, intermediate_size: 37, max_position_embeddings: 64, tie_word_embeddings: true },
  ],
  [
    'llama',
    { model_type: 'llama', vocab_size: 57, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 1, intermediate_size: 45, max_position_embeddings: 64, tie_word_embeddings: false, attention_bias: true },
  ],
];

const prompt = [5, 17, 3, 29, 11, 2, 40];
const greedy: GenerateOptions = { maxNewTokens: 12, temperature: 0, topK: 0, topP: 1, seed: 0, eosTokenIds: [] };
const sampled: GenerateOptions = { maxNewTokens: 12, temperature: 1, topK: 5, topP: 0.9, seed: 1234, eosTokenIds: [] };

async function both(model: Transformer, ids: number[], o: GenerateOptions) {
  const cachedLogits: Float32Array[] = [];
  const plainLogits: Float32Array[] = [];
  const cached = await generate(gpu, model, ids, o, { onLogits: (_i, l) => cachedLogits.push(l.slice()) });
  const plain = await generateNoCache(gpu, model, ids, o, { onLogits: (_i, l) => plainLogits.push(l.slice()) });
  return { cached, plain, cachedLogits, plainLogits };
}

describe('decodeAttention kernel', () => {
  it('equals the float64 reference (GQA, head dim 5, query not at the end of the cache)', async () => {
    const o = { pos: 9, L: 13, H: 6, KVH: 2, D: 5, scale: 1 / Math.sqrt(5) };
    const q = randn(o.H * o.D, 1);
    const k = randn(o.L * o.KVH * o.D, 2);
    const v = randn(o.L * o.KVH * o.D, 3);
    // rows after pos hold huge values: reading them would ruin the result
    for (let i = (o.pos + 1) * o.KVH * o.D; i < k.length; i++) k[i] = v[i] = 1e4;
    const [qt, kt, vt] = [gpu.upload(q), gpu.upload(k), gpu.upload(v)];
    const scores = gpu.tensor([o.H, o.L]);
    const out = gpu.tensor([o.H * o.D]);
    decodeAttention(gpu, qt, kt, vt, scores, out, o);
    const [got] = await gpu.read(out);
    expect(maxRelErr(got, decodeAttentionCpu(q, k, v, o))).toBeLessThan(1e-5);
    // position 0: the output is v_0 of the head's kv head
    decodeAttention(gpu, qt, kt, vt, scores, out, { ...o, pos: 0 });
    const [first] = await gpu.read(out);
    for (let h = 0; h < o.H; h++) {
      const kh = Math.floor(h / 3);
      for (let d = 0; d < o.D; d++) expect(first[h * o.D + d]).toBeCloseTo(v[kh * o.D + d], 5);
    }
    expect(() => decodeAttention(gpu, qt, kt, vt, scores, out, { ...o, pos: 13 })).toThrow(/outside the cache/);
    gpu.release(qt, kt, vt, scores, out);
  });
});

describe.each(models)('generation with a KV cache: %s', (_name, raw) => {
  let model: Transformer;
  beforeAll(() => {
    model = randomModel(raw, 100);
  });

  it('greedy: same tokens and logits as without the cache', async () => {
    const r = await both(model, prompt, greedy);
    expect(r.cached).toHaveLength(12);
    expect(r.cached).toEqual(r.plain);
    expect(r.cachedLogits).toHaveLength(12);
    // logits vary across the vocabulary (ties would make greedy equality luck)
    const l0 = r.plainLogits[0];
    expect(Math.max(...l0) - Math.min(...l0)).toBeGreaterThan(0.5);
    r.cachedLogits.forEach((l, i) => expect(maxRelErr(l, r.plainLogits[i])).toBeLessThan(1e-4));
    // not a constant sequence: the cache really changes what each position sees
    expect(new Set(r.cached).size).toBeGreaterThan(1);
  }, 60_000);

  it('sampled (temperature 1, top-k 5, top-p 0.9, same seed): same tokens and logits', async () => {
    const r = await both(model, prompt, sampled);
    expect(r.cached).toHaveLength(12);
    expect(r.cached).toEqual(r.plain);
    r.cachedLogits.forEach((l, i) => expect(maxRelErr(l, r.plainLogits[i])).toBeLessThan(1e-4));
    const other = await generate(gpu, model, prompt, { ...sampled, seed: 99 });
    expect(other).not.toEqual(r.cached);
  }, 60_000);

  it('stops at EOS, right after the first EOS token', async () => {
    const free = await generate(gpu, model, prompt, greedy);
    const eos = free[3];
    const first = free.indexOf(eos);
    const stopped = await generate(gpu, model, prompt, { ...greedy, eosTokenIds: [eos] });
    expect(stopped).toEqual(free.slice(0, first + 1));
    expect(await generateNoCache(gpu, model, prompt, { ...greedy, eosTokenIds: [eos] })).toEqual(stopped);
  }, 60_000);
});

describe('generation limits and bad input', () => {
  it("GPT-2 stops at n_positions; one-token prompts; bad prompts are refused with a sentence", async () => {
    const model = randomModel(models[0][1], 7);
    const long = Array.from({ length: 36 }, (_, i) => (i * 7) % 53);
    const r = await both(model, long, greedy);
    expect(r.cached).toHaveLength(4); // 40 positions - 36 prompt tokens
    expect(r.cached).toEqual(r.plain);
    r.cachedLogits.forEach((l, i) => expect(maxRelErr(l, r.plainLogits[i])).toBeLessThan(1e-4));
    expect(await generate(gpu, model, Array.from({ length: 40 }, () => 1), greedy)).toEqual([]);
    const one = await both(model, [4], sampled);
    expect(one.cached).toEqual(one.plain);
    expect(await generate(gpu, model, prompt, { ...greedy, maxNewTokens: 1 })).toHaveLength(1);
    expect(await generate(gpu, model, prompt, { ...greedy, maxNewTokens: 0 })).toEqual([]);
    await expect(generate(gpu, model, [], greedy)).rejects.toThrow(/prompt is empty/);
    await expect(generate(gpu, model, [3, 53], greedy)).rejects.toThrow(/outside the model's vocabulary of 53/);
    releaseParams(gpu, model.params);
  }, 60_000);

  it('returns every cache buffer to the pool', async () => {
    const model = randomModel(models[1][1], 9);
    await generate(gpu, model, prompt, greedy);
    const live = gpu.liveBytes;
    await generate(gpu, model, prompt, sampled);
    expect(gpu.liveBytes).toBe(live);
    releaseParams(gpu, model.params);
  }, 60_000);
});
