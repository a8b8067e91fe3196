// One full DPO step (reference forward, policy forward+backward, loss, clip, AdamW) on a model with
// GPT-2-124M's real shapes (12 x 768, vocab 50257, 1024 positions) and random weights, under WebGPU's
// default 128 MiB storage-binding limit: the 154 MB embedding only works because it is chunked.
import { describe, expect, it } from 'vitest';
import { parameterSpecs, parseConfig } from '../src/model/config';
import { createParams, downloadParams, fromHf, releaseParams } from '../src/model/params';
import { Transformer } from '../src/model/transformer';
import { releasePairBatch, uploadPairBatch } from '../src/dpo/gpu-batch';
import { AdamW } from '../src/dpo/optimizer';
import { dpoMicroStep } from '../src/dpo/step';
import { collate } from '../src/dpo/tokenize';
import { randn, rng, testGpu } from './helpers/gpu';

describe('GPT-2-124M-shaped DPO step', () => {
  it('finishes under the 128 MiB binding limit with finite numbers', async () => {
    const gpu = await testGpu();
    expect(gpu.maxBindingBytes).toBeLessThanOrEqual(128 * 2 ** 20);
    const cfg = parseConfig({ model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 });
    const hf = new Map<string, Float32Array>();
    let seed = 1;
    for (const s of parameterSpecs(cfg)) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      hf.set(s.name, s.kind === 'norm' ? new Float32Array(n).fill(1) : s.kind === 'bias' ? new Float32Array(n) : randn(n, seed++, 0.02));
    }
    const params = createParams(gpu, cfg, fromHf(cfg, hf));
    const model = new Transformer(gpu, cfg, params);
    expect(model.embedding.chunks.length).toBeGreaterThan(1);
    const grads = createParams(gpu, cfg, null);
    const r = rng(7);
    const ids = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 50257));
    const pairs = [
      { promptIds: ids(40), chosenIds: ids(24), rejectedIds: ids(20) },
      { promptIds: ids(30), chosenIds: ids(34), rejectedIds: ids(28) },
    ];
    const batch = uploadPairBatch(gpu, collate(pairs, 50256));
    const opt = new AdamW(gpu, cfg, params, grads);
    const before = (await downloadParams(gpu, new Map([['h.11.mlp.c_proj.weight', params.get('h.11.mlp.c_proj.weight')!]]))).get('h.11.mlp.c_proj.weight')!;
    const t0 = performance.now();
    // the reference is the policy before the step (precomputed log-probs), as after precompute_ref_log_probs
    const ref = await dpoMicroStep(gpu, model, { logps: new Float32Array(4) }, batch, { beta: 0.1, kind: 'sigmoid', labelSmoothing: 0, grads: null });
    const res = await dpoMicroStep(gpu, model, { logps: ref.policyLogps }, batch, { beta: 0.1, kind: 'sigmoid', labelSmoothing: 0, grads });
    const norm = await opt.apply({ lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
    const secs = (performance.now() - t0) / 1000;
    console.log(`GPT-2-124M-shaped DPO step (2 pairs, T=${batch.T}) on ${gpu.info.adapterName}: ${secs.toFixed(1)} s, grad norm ${norm.toFixed(4)}, peak pool ${(gpu.peakBytes / 2 ** 30).toFixed(2)} GiB`);
    // same weights for policy and reference: the loss is log 2 and the margins 0
    for (const l of res.losses) expect(l).toBeCloseTo(Math.LN2, 4);
    for (const lp of res.policyLogps) {
      expect(Number.isFinite(lp)).toBe(true);
      expect(lp).toBeLessThan(-10); // ~ -log(50257) per token for random weights
    }
    expect(Number.isFinite(norm) && norm > 0).toBe(true);
    const after = (await downloadParams(gpu, new Map([['h.11.mlp.c_proj.weight', params.get('h.11.mlp.c_proj.weight')!]]))).get('h.11.mlp.c_proj.weight')!;
    let changed = 0;
    for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) changed++;
    expect(changed).toBeGreaterThan(after.length / 2);
    releasePairBatch(gpu, batch);
    opt.release();
    releaseParams(gpu, grads);
    releaseParams(gpu, params);
  }, 1_200_000);
});
