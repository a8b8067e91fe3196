// The DPO trainer end to end on a tiny GPT-2 (random weights, GPT-2's real tokenizer) and 64 real
// HH-RLHF pairs: overfitting proves the gradients flow; the same seed gives the same numbers; a paused
// and resumed run equals an uninterrupted one; an exported folder loads back with identical log-probs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPreferenceDataset } from '../src/data/index';
import { DpoTrainer, type LogRecord, type TrainerArgs } from '../src/dpo/trainer';
import { tokenizeDataset, type TokenizedPair } from '../src/dpo/tokenize';
import { parameterSpecs, parseConfig, type ModelConfig } from '../src/model/config';
import { exportHfFolder } from '../src/model/export';
import { loadTokenizer } from '../src/model/tokenizer';
import { loadCheckpoint, mapSource } from '../src/model/weights';
import { randn, testGpu } from './helpers/gpu';
import { sharedDir } from './helpers/paths';

let cfg: ModelConfig;
let weights: Map<string, Float32Array>;
let pairs: TokenizedPair[];
let padId: number;

const base: Partial<TrainerArgs> = {
  beta: 0.1,
  learning_rate: 3e-3,
  per_device_train_batch_size: 8,
  per_device_eval_batch_size: 16,
  max_length: 32,
  truncation_mode: 'keep_end',
  warmup_ratio: 0.1,
  lr_scheduler_type: 'cosine',
  weight_decay: 0,
  seed: 3,
  compute_kl: true,
};

beforeAll(async () => {
  const shared = sharedDir();
  const tok = loadTokenizer({ tokenizerJson: readFileSync(join(shared, 'data/gpt2-tokenizer/tokenizer.json'), 'utf8') });
  const ds = await loadPreferenceDataset(readFileSync(join(shared, 'data/hh-rlhf-harmless-base-test.jsonl.gz')));
  const t = tokenizeDataset(tok, ds.pairs.slice(0, 64), { maxLength: 32, truncationMode: 'keep_end' });
  pairs = t.examples;
  padId = tok.padId;
  cfg = parseConfig({ model_type: 'gpt2', vocab_size: 50257, n_embd: 32, n_layer: 2, n_head: 2, n_positions: 128 });
  weights = new Map();
  let seed = 11;
  for (const s of parameterSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    weights.set(s.name, s.kind === 'norm' ? new Float32Array(n).fill(1) : s.kind === 'bias' ? new Float32Array(n) : randn(n, seed++, 0.02));
  }
});

async function run(args: Partial<TrainerArgs>, evalPairs?: TokenizedPair[]) {
  const gpu = await testGpu();
  const trainer = await DpoTrainer.create(gpu, { config: cfg, policy: weights, train: pairs, eval: evalPairs, padId, args: { ...base, ...args } });
  const logs: LogRecord[] = [];
  return { trainer, logs, events: { onLog: (r: LogRecord) => logs.push(r) } };
}

// GPT-2's 50257-token LM head makes each step seconds long on SwiftShader (2 CPU cores).
describe('DPO trainer', { timeout: 1_200_000 }, () => {
  it('overfits 64 HH pairs: accuracy >= 0.9 and loss < 0.3, KL grows', async () => {
    expect(pairs.length).toBe(64);
    // KL (two extra LM-head passes over GPT-2's 50257 tokens) only at the logged steps
    const { trainer, logs, events } = await run({ max_steps: 24, logging_steps: 4 });
    const t0 = performance.now();
    await trainer.train(events);
    const secs = (performance.now() - t0) / 1000;
    const last = logs.at(-1)!;
    console.log(`trainer: ${logs.length} steps in ${secs.toFixed(1)} s (${(secs / logs.length).toFixed(2)} s/step); first loss ${logs[0].loss.toFixed(4)}, last loss ${last.loss.toFixed(4)}, acc ${last['rewards/accuracies']}, margin ${last['rewards/margins'].toFixed(3)}, kl ${last['kl/token_mean_exact'].toFixed(4)}`);
    expect(last.loss).toBeLessThan(0.3);
    expect(last['rewards/accuracies']).toBeGreaterThanOrEqual(0.9);
    expect(last['kl/token_mean_exact']).toBeGreaterThan(logs[0]['kl/token_mean_exact']);
    expect(last.loss).toBeLessThan(logs[0].loss);
    expect(last.step).toBe(24);
    expect(logs.map((r) => r.step)).toEqual([4, 8, 12, 16, 20, 24]);
    // HF logs the rate the step was taken with: step 24 of 24 used lambda(23), 3 warmup steps, cosine
    expect(last.learning_rate).toBeCloseTo(3e-3 * 0.5 * (1 + Math.cos((Math.PI * 20) / 21)), 12);
    trainer.release();
  });

  it('is deterministic, and a paused + resumed run equals an uninterrupted one', async () => {
    const a = await run({ max_steps: 4 });
    await a.trainer.train(a.events);
    a.trainer.release();
    const b = await run({ max_steps: 4 });
    await b.trainer.train({
      onLog: (r) => {
        b.logs.push(r);
        if (r.step === 2) b.trainer.requestPause();
      },
    });
    expect(b.trainer.step).toBe(2);
    const state = await b.trainer.saveState();
    b.trainer.release();
    const c = await run({ max_steps: 4 });
    await c.trainer.loadState(state);
    await c.trainer.train({ onLog: (r) => b.logs.push(r) });
    c.trainer.release();
    expect(b.logs.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(a.logs[0].loss).toBeCloseTo(Math.LN2, 5); // policy == reference at the first step
    expect(a.logs[0]['rewards/margins']).toBeCloseTo(0, 6);
    for (let i = 0; i < 4; i++) {
      for (const k of ['loss', 'rewards/margins', 'logps/chosen', 'grad_norm', 'learning_rate', 'kl/token_mean_exact']) {
        expect(b.logs[i][k]).toBe(a.logs[i][k]); // bit-identical
      }
    }
    expect(a.logs[3].loss).not.toBe(a.logs[0].loss);
  });

  it('TR-DPO (sync_ref_model) with MPO: the drifting reference and num_tokens are part of the saved state', async () => {
    const args: Partial<TrainerArgs> = {
      max_steps: 3,
      per_device_train_batch_size: 4,
      loss_type: 'sigmoid,bco_pair,sft',
      loss_weights: [0.8, 0.2, 1],
      sync_ref_model: true,
      ref_model_mixup_alpha: 0.5,
      ref_model_sync_steps: 1,
    };
    const a = await run(args);
    await a.trainer.train(a.events);
    a.trainer.release();
    const b = await run(args);
    await b.trainer.train({
      onLog: (r) => {
        b.logs.push(r);
        if (r.step === 1) b.trainer.requestPause();
      },
    });
    const state = await b.trainer.saveState();
    b.trainer.release();
    const c = await run(args);
    await c.trainer.loadState(state);
    await c.trainer.train({ onLog: (r) => b.logs.push(r) });
    c.trainer.release();
    expect(b.logs.map((r) => r.step)).toEqual([1, 2, 3]);
    for (let i = 0; i < 3; i++) {
      for (const k of ['loss', 'rewards/margins', 'rewards/chosen', 'logps/chosen', 'grad_norm', 'entropy', 'mean_token_accuracy', 'num_tokens']) {
        expect(b.logs[i][k], `step ${i + 1} ${k}`).toBe(a.logs[i][k]); // bit-identical: the reference moved the same way
      }
    }
    // the logged loss includes the sft term (the chosen NLL per token, ~ log V for a random model)
    expect(a.logs[0].loss).toBeGreaterThan(0.8 * Math.LN2 + 0.2 * 2 * Math.LN2 + 5);
    expect(a.logs[2].num_tokens).toBeGreaterThan(a.logs[0].num_tokens);
  });

  it('exports a Hugging Face folder that loads back with identical log-probs', async () => {
    const evalPairs = pairs.slice(0, 8);
    const a = await run({ max_steps: 2 }, evalPairs);
    await a.trainer.train(a.events);
    const before = await a.trainer.evaluate();
    const files = exportHfFolder(cfg, await a.trainer.policyWeights(), {});
    a.trainer.release();
    expect([...files.keys()].sort()).toEqual(['config.json', 'model.safetensors']);
    const ck = await loadCheckpoint(mapSource(files));
    const gpu = await testGpu();
    const b = await DpoTrainer.create(gpu, { config: ck.config, policy: ck.tensors, reference: weights, train: pairs, eval: evalPairs, padId, args: { ...base, max_steps: 1 } });
    const after = await b.evaluate();
    b.release();
    expect(after.pairs.map((p) => p.policyChosen)).toEqual(before.pairs.map((p) => p.policyChosen));
    expect(after.pairs.map((p) => p.policyRejected)).toEqual(before.pairs.map((p) => p.policyRejected));
    expect(before.pairs.some((p) => p.policyChosen !== p.referenceChosen)).toBe(true);
  });
});
