// A NaN/Inf gradient stops the step before AdamW touches the weights: the last good weights are kept.
import { describe, expect, it } from 'vitest';
import { AdamW, NonFiniteGradientError } from '../src/dpo/optimizer';
import { parameterSpecs, parseConfig } from '../src/model/config';
import { createParams, downloadParams, fromHf, releaseParams } from '../src/model/params';
import { randn, testGpu } from './helpers/gpu';

describe('AdamW on a non-finite gradient', () => {
  it('refuses the step with a sentence and leaves every parameter unchanged', async () => {
    const gpu = await testGpu();
    const cfg = parseConfig({ model_type: 'gpt2', vocab_size: 37, n_embd: 8, n_layer: 1, n_head: 2, n_positions: 16 });
    const hf = new Map(parameterSpecs(cfg).map((s, i) => [s.name, randn(s.shape.reduce((a, b) => a * b, 1), i + 1, 0.1)]));
    const params = createParams(gpu, cfg, fromHf(cfg, hf));
    const grads = createParams(gpu, cfg, null);
    const opt = new AdamW(gpu, cfg, params, grads);
    const before = await downloadParams(gpu, params);
    const g = grads.get('h.0.mlp.c_fc.weight')!.chunks[0];
    const bad = new Float32Array(g.size).fill(0.01);
    bad[5] = Number.NaN;
    gpu.write(g, bad);
    const o = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };
    await expect(opt.apply(o)).rejects.toThrow(NonFiniteGradientError);
    await expect(opt.apply(o)).rejects.toThrow(/last good weights were kept/);
    expect(opt.step).toBe(0);
    const after = await downloadParams(gpu, params);
    for (const [name, p] of before) expect(Array.from(after.get(name)!)).toEqual(Array.from(p));
    // a finite gradient then updates as usual
    bad[5] = 0.01;
    gpu.write(g, bad);
    expect(Number.isFinite(await opt.apply(o))).toBe(true);
    const moved = await downloadParams(gpu, params);
    expect(Array.from(moved.get('h.0.mlp.c_fc.weight')!)).not.toEqual(Array.from(before.get('h.0.mlp.c_fc.weight')!));
    opt.release();
    releaseParams(gpu, grads);
    releaseParams(gpu, params);
  });
});
