// LoRA (PEFT semantics) on tiny GPT-2 and Qwen3 models:
// - with B = 0 the adapted model's log-probs equal the base model's bit for bit, and the DPO loss against
//   the reference "policy with adapters off" is log 2;
// - the adapters' gradients equal the chain rule through the full-model gradient at the merged weights
//   (dB = s G A^T, dA = s B^T G, float64 on the CPU), and central differences of the GPU loss;
// - a short LoRA DPO run lowers the loss, leaves every base weight bit-identical and keeps the reference
//   at the base model; the merged export gives the LoRA model's log-probs; the PEFT adapter files;
// - gradient checkpointing gives bit-identical gradients;
// - the memory estimate for Qwen3-0.6B with LoRA r=16 on every projection (under 4 GiB with checkpointing).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DpoTrainer, defaultTrainerArgs, type LogRecord } from '../src/dpo/trainer';
import { releasePairBatch, uploadPairBatch, type GpuPairBatch } from '../src/dpo/gpu-batch';
import { dpoMicroStep, type MicroStepOptions, type ReferenceSource } from '../src/dpo/step';
import { collate, type TokenizedPair } from '../src/dpo/tokenize';
import { Rng } from '../src/data/split';
import type { Gpu } from '../src/gpu/context';
import { countParameters, parameterSpecs, parseConfig, type ModelConfig } from '../src/model/config';
import { exportHfFolder } from '../src/model/export';
import { countLoraParameters, exportPeftAdapter, initLoraWeights, LoraAdapters, loraTargets, loraToPeft, mergeLora, type LoraConfig } from '../src/model/lora';
import { createParams, downloadParams, fromHf, releaseParams, toHf, type ParamSet } from '../src/model/params';
import { parseSafetensorsHeader } from '../src/model/safetensors';
import { Transformer } from '../src/model/transformer';
import { loadCheckpoint, mapSource } from '../src/model/weights';
import { estimateMemory, fmtBytes } from '../src/worker/memory';
import { maxRelErr, randn, testGpu } from './helpers/gpu';
import { run, runPython, tempDir, venvPython } from './helpers/python';
import { trlScript } from '../src/dpo/trl-script';
import { generate } from '../src/dpo/generate';

const MODELS: { name: string; cfg: ModelConfig; lora: LoraConfig }[] = [
  {
    name: 'gpt2',
    cfg: parseConfig({ model_type: 'gpt2', vocab_size: 53, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 32 }),
    lora: { r: 4, lora_alpha: 8, target_modules: ['c_attn', 'c_proj', 'c_fc'] },
  },
  {
    name: 'qwen3',
    cfg: parseConfig({ model_type: 'qwen3', vocab_size: 61, hidden_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 6, intermediate_size: 20, max_position_embeddings: 64, tie_word_embeddings: true }),
    lora: { r: 3, lora_alpha: 6, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
  },
];

function baseWeights(cfg: ModelConfig, seed: number): Map<string, Float32Array> {
  const w = new Map<string, Float32Array>();
  let k = seed;
  for (const s of parameterSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const r = randn(n, k++, s.kind === 'norm' ? 0.1 : s.kind === 'bias' ? 0.05 : 0.3);
    if (s.kind === 'norm') for (let i = 0; i < n; i++) r[i] += 1;
    w.set(s.name, r);
  }
  return w;
}

function randomPairs(n: number, V: number, seed: number): TokenizedPair[] {
  const rng = new Rng(seed);
  const ids = (len: number) => Array.from({ length: len }, () => Math.floor(rng.next() * V));
  return Array.from({ length: n }, (_, i) => ({ promptIds: ids(3 + (i % 3)), chosenIds: ids(2 + (i % 2)), rejectedIds: ids(3 - (i % 2)) }));
}

const lossOpts = (grads: ParamSet | null, extra: Partial<MicroStepOptions> = {}): MicroStepOptions => ({
  beta: 1,
  kind: 'sigmoid',
  labelSmoothing: 0,
  referenceFree: false,
  gradScale: 1,
  grads,
  ...extra,
});

interface Setup {
  gpu: Gpu;
  params: ParamSet;
  lora: LoraAdapters;
  policy: Transformer;
  batch: GpuPairBatch;
  ref: ReferenceSource;
  release(): void;
}

async function setup(cfg: ModelConfig, lora: LoraConfig, hf: Map<string, Float32Array>, adapter: Map<string, Float32Array>, pairs: TokenizedPair[]): Promise<Setup> {
  const gpu = await testGpu();
  const params = createParams(gpu, cfg, fromHf(cfg, hf));
  const adapters = new LoraAdapters(gpu, cfg, lora, params, adapter);
  const policy = new Transformer(gpu, cfg, params);
  const batch = uploadPairBatch(gpu, collate(pairs, 0));
  return {
    gpu,
    params,
    lora: adapters,
    policy,
    batch,
    ref: { model: policy, adapters: adapters.toggle },
    release() {
      adapters.release();
      releaseParams(gpu, params);
      releasePairBatch(gpu, batch);
    },
  };
}

const meanLoss = (l: Float32Array) => l.reduce((a, b) => a + b, 0) / l.length;

describe('LoRA', { timeout: 600_000 }, () => {
  for (const m of MODELS) {
    it(`${m.name}: with B = 0 the log-probs equal the base model's exactly and the loss is log 2`, async () => {
      const hf = baseWeights(m.cfg, 5);
      const init = initLoraWeights(m.cfg, m.lora, 9);
      // PEFT's init: A uniform in +-1/sqrt(in), B zero
      for (const t of loraTargets(m.cfg, m.lora)) {
        const a = init.get(t.aName)!;
        const bound = 1 / Math.sqrt(t.inF);
        expect(a.every((x) => Math.abs(x) <= bound)).toBe(true);
        expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.5 * bound);
        for (const p of t.parts) expect(init.get(p.bName)!.every((x) => x === 0)).toBe(true);
      }
      const pairs = randomPairs(3, m.cfg.vocabSize, 1);
      const s = await setup(m.cfg, m.lora, hf, init, pairs);
      const r = await dpoMicroStep(s.gpu, s.policy, s.ref, s.batch, lossOpts(null, { tokenLogps: true, kl: true }));
      // the base model alone, on its own copy of the weights
      const baseParams = createParams(s.gpu, m.cfg, fromHf(m.cfg, hf));
      const base = new Transformer(s.gpu, m.cfg, baseParams);
      const rb = await dpoMicroStep(s.gpu, base, { logps: new Float32Array(6) }, s.batch, lossOpts(null, { tokenLogps: true }));
      releaseParams(s.gpu, baseParams);
      expect(Array.from(r.policyTokenLogps!)).toEqual(Array.from(rb.policyTokenLogps!));
      expect(Array.from(r.referenceTokenLogps!)).toEqual(Array.from(rb.policyTokenLogps!));
      expect(Array.from(r.policyLogps)).toEqual(Array.from(r.referenceLogps));
      for (const l of r.losses) expect(Math.abs(l - Math.LN2)).toBeLessThan(1e-6);
      expect(Math.abs(r.klSum)).toBeLessThan(1e-6);
      expect(s.lora.toggle.enabled).toBe(true);
      s.release();
    });

    it(`${m.name}: dA and dB equal the chain rule through the merged model's gradient and central differences`, async () => {
      const hf = baseWeights(m.cfg, 21);
      const adapter = initLoraWeights(m.cfg, m.lora, 4);
      let seed = 100;
      for (const t of loraTargets(m.cfg, m.lora)) for (const p of t.parts) adapter.set(p.bName, randn(p.rows * m.lora.r, seed++, 0.2));
      const pairs = randomPairs(2, m.cfg.vocabSize, 2);
      const s = await setup(m.cfg, m.lora, hf, adapter, pairs);
      const r0 = await dpoMicroStep(s.gpu, s.policy, s.ref, s.batch, lossOpts(new Map()));
      const got = loraToPeft(m.cfg, m.lora, await downloadParams(s.gpu, s.lora.grads));

      // the full model at W' = W + s B A (reference: the base W), its gradient G = dL/dW'
      const peft = loraToPeft(m.cfg, m.lora, adapter);
      const merged = mergeLora(m.cfg, m.lora, hf, peft);
      const fullParams = createParams(s.gpu, m.cfg, fromHf(m.cfg, merged));
      const refParams = createParams(s.gpu, m.cfg, fromHf(m.cfg, hf));
      const fullGrads = createParams(s.gpu, m.cfg, null);
      const rf = await dpoMicroStep(s.gpu, new Transformer(s.gpu, m.cfg, fullParams), { model: new Transformer(s.gpu, m.cfg, refParams) }, s.batch, lossOpts(fullGrads));
      const G = toHf(m.cfg, await downloadParams(s.gpu, fullGrads));
      for (const set of [fullParams, refParams, fullGrads]) releaseParams(s.gpu, set);
      expect(Math.abs(meanLoss(rf.losses) - meanLoss(r0.losses))).toBeLessThan(1e-5);

      const sc = m.lora.lora_alpha / m.lora.r;
      const R = m.lora.r;
      let worstA = 0;
      let worstB = 0;
      for (const t of loraTargets(m.cfg, m.lora)) {
        const key = `base_model.model.${t.hfModule}`;
        const A = peft.get(`${key}.lora_A.weight`)!;
        const B = peft.get(`${key}.lora_B.weight`)!;
        const g = G.get(`${t.module}.weight`)!;
        const gw = (o: number, i: number) => (m.cfg.arch === 'gpt2' ? g[i * t.outF + o] : g[o * t.inF + i]);
        const wantA = new Float64Array(R * t.inF);
        const wantB = new Float64Array(t.outF * R);
        for (let o = 0; o < t.outF; o++) {
          for (let i = 0; i < t.inF; i++) {
            const x = sc * gw(o, i);
            for (let k = 0; k < R; k++) {
              wantA[k * t.inF + i] += B[o * R + k] * x;
              wantB[o * R + k] += x * A[k * t.inF + i];
            }
          }
        }
        worstA = Math.max(worstA, maxRelErr(got.get(`${key}.lora_A.weight`)!, wantA));
        worstB = Math.max(worstB, maxRelErr(got.get(`${key}.lora_B.weight`)!, wantB));
      }
      console.log(`${m.name}: dA vs chain rule ${worstA.toExponential(2)}, dB ${worstB.toExponential(2)} (relative to each tensor's largest)`);
      expect(worstA).toBeLessThan(1e-4);
      expect(worstB).toBeLessThan(1e-4);

      // central differences of the GPU loss on the largest entries of dA and dB
      const internalGrads = await downloadParams(s.gpu, s.lora.grads);
      const checks: { name: string; idx: number; g: number }[] = [];
      for (const kind of ['lora_A', 'lora_B']) {
        const cands = [...internalGrads].filter(([n]) => n.includes(kind)).flatMap(([name, g]) => Array.from(g, (v, idx) => ({ name, idx, g: v })));
        cands.sort((a, b) => Math.abs(b.g) - Math.abs(a.g));
        checks.push(...cands.slice(0, 3));
      }
      const h = 1e-2;
      for (const c of checks) {
        const host = adapter.get(c.name)!;
        const orig = host[c.idx];
        const lossAt = async (v: number) => {
          host[c.idx] = v;
          s.gpu.write(s.lora.params.get(c.name)!.chunks[0], host);
          return meanLoss((await dpoMicroStep(s.gpu, s.policy, s.ref, s.batch, lossOpts(null))).losses);
        };
        const fd = ((await lossAt(orig + h)) - (await lossAt(orig - h))) / (2 * h);
        await lossAt(orig);
        console.log(`${m.name}: ${c.name}[${c.idx}] analytic ${c.g.toExponential(4)} central difference ${fd.toExponential(4)}`);
        expect(Math.abs(fd - c.g)).toBeLessThan(2e-2 * Math.abs(c.g) + 2e-5);
      }
      s.release();
    });
  }

  it('KV-cache generation uses the adapters (= the merged model) and, switched off, is the base model', async () => {
    for (const m of MODELS) {
      const hf = baseWeights(m.cfg, 61);
      const adapter = initLoraWeights(m.cfg, m.lora, 3);
      let seed = 500;
      for (const t of loraTargets(m.cfg, m.lora)) for (const p of t.parts) adapter.set(p.bName, randn(p.rows * m.lora.r, seed++, 0.3));
      const s = await setup(m.cfg, m.lora, hf, adapter, randomPairs(1, m.cfg.vocabSize, 1));
      const o = { maxNewTokens: 6, temperature: 0, topK: 0, topP: 1, seed: 1, eosTokenIds: [] };
      const run = async (model: Transformer) => {
        const logits: Float32Array[] = [];
        const ids = await generate(s.gpu, model, [3, 1, 4, 1, 5], o, { onLogits: (_, l) => logits.push(l.slice()) });
        return { ids, logits };
      };
      const mergedParams = createParams(s.gpu, m.cfg, fromHf(m.cfg, mergeLora(m.cfg, m.lora, hf, loraToPeft(m.cfg, m.lora, adapter))));
      const baseParams = createParams(s.gpu, m.cfg, fromHf(m.cfg, hf));
      const withLora = await run(s.policy);
      const merged = await run(new Transformer(s.gpu, m.cfg, mergedParams));
      const off = await s.lora.withAdaptersOff(() => run(s.policy));
      const base = await run(new Transformer(s.gpu, m.cfg, baseParams));
      releaseParams(s.gpu, mergedParams);
      releaseParams(s.gpu, baseParams);
      expect(withLora.ids).toEqual(merged.ids);
      const worst = Math.max(...withLora.logits.map((l, i) => maxRelErr(l, merged.logits[i])));
      console.log(`${m.name}: KV-cache logits with adapters vs merged weights, worst ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-5);
      expect(off.ids).toEqual(base.ids);
      off.logits.forEach((l, i) => expect(Array.from(l)).toEqual(Array.from(base.logits[i])));
      expect(withLora.logits.some((l, i) => maxRelErr(l, base.logits[i]) > 1e-3)).toBe(true);
      s.release();
    }
  });

  it('gradient checkpointing (recompute each block in backward) gives bit-identical gradients, full and LoRA', async () => {
    const gpu = await testGpu();
    for (const m of MODELS) {
      const hf = baseWeights(m.cfg, 41);
      const adapter = initLoraWeights(m.cfg, m.lora, 2);
      let seed = 300;
      for (const t of loraTargets(m.cfg, m.lora)) for (const p of t.parts) adapter.set(p.bName, randn(p.rows * m.lora.r, seed++, 0.2));
      const s = await setup(m.cfg, m.lora, hf, adapter, randomPairs(2, m.cfg.vocabSize, 5));
      const fullGrads = createParams(gpu, m.cfg, null);
      const grads: Map<string, Float32Array>[] = [];
      for (const ckpt of [false, true]) {
        s.policy.gradientCheckpointing = ckpt;
        for (const set of [s.lora.grads, fullGrads]) for (const p of set.values()) gpu.zero(p.chunks[0]);
        await dpoMicroStep(gpu, s.policy, s.ref, s.batch, lossOpts(new Map())); // LoRA: adapters only
        await dpoMicroStep(gpu, s.policy, { logps: new Float32Array(4) }, s.batch, lossOpts(fullGrads)); // every weight (+ adapters again)
        grads.push(new Map([...(await downloadParams(gpu, s.lora.grads)), ...(await downloadParams(gpu, fullGrads))]));
      }
      expect(grads[1].size).toBe(grads[0].size);
      for (const [name, g] of grads[0]) expect(grads[1].get(name)!.every((x, i) => Object.is(x, g[i])), name).toBe(true);
      expect([...grads[0].values()].some((g) => g.some((x) => x !== 0))).toBe(true);
      releaseParams(gpu, fullGrads);
      s.release();
    }
  });

  it('a short LoRA DPO run lowers the loss, keeps the base bit-identical and the reference at the base; merged export and PEFT files', async () => {
    const gpu = await testGpu();
    for (const m of MODELS) {
      const hf = baseWeights(m.cfg, 33);
      const train = randomPairs(4, m.cfg.vocabSize, 3);
      const trainer = await DpoTrainer.create(gpu, {
        config: m.cfg,
        policy: hf,
        train,
        eval: train,
        padId: 0,
        args: { ...defaultTrainerArgs, lora: m.lora, learning_rate: 2e-2, per_device_train_batch_size: 4, per_device_eval_batch_size: 4, max_steps: 8, beta: 0.5, shuffle: false, seed: 1 },
      });
      const before = await trainer.evaluate();
      const logs: LogRecord[] = [];
      await trainer.train({ onLog: (r) => logs.push(r) });
      const after = await trainer.evaluate();
      console.log(`${m.name} LoRA DPO: loss ${logs[0].loss.toFixed(4)} -> ${logs.at(-1)!.loss.toFixed(4)}, kl ${logs.at(-1)!['kl/token_mean_exact'].toExponential(2)}, ${countLoraParameters(m.cfg, m.lora)} adapter parameters of ${countParameters(m.cfg)}`);
      expect(logs[0].loss).toBeCloseTo(Math.LN2, 6);
      expect(logs.at(-1)!.loss).toBeLessThan(logs[0].loss - 0.05);
      expect(logs.at(-1)!['kl/token_mean_exact']).toBeGreaterThan(0);
      // base weights bit-identical
      const base = await trainer.baseWeights();
      for (const [name, w] of hf) expect(base.get(name)!.every((x, i) => Object.is(x, w[i])), name).toBe(true);
      // the reference is still the base model (adapters off), the policy moved
      expect(after.pairs.map((p) => p.referenceChosen)).toEqual(before.pairs.map((p) => p.referenceChosen));
      expect(after.pairs.map((p) => p.referenceRejected)).toEqual(before.pairs.map((p) => p.policyRejected));
      expect(after.pairs.some((p, i) => p.policyChosen !== before.pairs[i].policyChosen)).toBe(true);

      // merged export: loads back as a plain model with the LoRA model's log-probs
      const files = exportHfFolder(m.cfg, await trainer.policyWeights());
      const ck = await loadCheckpoint(mapSource(files));
      const mergedParams = createParams(gpu, ck.config, fromHf(ck.config, ck.tensors));
      const packed = collate(train, 0);
      const batch = uploadPairBatch(gpu, packed);
      const zeros = { logps: new Float32Array(2 * train.length) };
      const rl = await dpoMicroStep(gpu, trainer.policy, zeros, batch, lossOpts(null, { tokenLogps: true }));
      const rm = await dpoMicroStep(gpu, new Transformer(gpu, ck.config, mergedParams), zeros, batch, lossOpts(null, { tokenLogps: true }));
      releaseParams(gpu, mergedParams);
      releasePairBatch(gpu, batch);
      let worst = 0;
      rl.policyTokenLogps!.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - rm.policyTokenLogps![i]) / Math.max(1, Math.abs(v)))));
      console.log(`${m.name}: merged export vs LoRA token log-probs, worst ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-5);
      // ... and in transformers (AutoModelForCausalLM.from_pretrained on the merged folder), as a full fine-tune would
      const dir = tempDir(`lora-merged-${m.name}`);
      mkdirSync(join(dir, 'model'), { recursive: true });
      for (const [name, bytes] of files) writeFileSync(join(dir, 'model', name), bytes);
      const S = 2 * packed.N;
      const rows = (a: ArrayLike<number>) => Array.from({ length: S }, (_, i) => Array.from(a).slice(i * packed.T, (i + 1) * packed.T));
      writeFileSync(join(dir, 'batch.json'), JSON.stringify({ input_ids: rows(packed.inputIds), completion_mask: rows(packed.completionMask) }));
      await runPython('logps.py', ['--model', join(dir, 'model'), '--batch', join(dir, 'batch.json'), '--out', join(dir, 'out.json')]);
      const hfOut = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { token_logps: number[][]; missing_keys: string[]; unexpected_keys: string[] };
      expect(hfOut.missing_keys).toEqual([]);
      expect(hfOut.unexpected_keys).toEqual([]);
      let hfWorst = 0;
      for (let i = 0; i < S; i++) {
        for (let t = 0; t + 1 < packed.T; t++) {
          if (packed.completionMask[i * packed.T + t + 1] !== 1) continue;
          const want = hfOut.token_logps[i][t];
          hfWorst = Math.max(hfWorst, Math.abs(rl.policyTokenLogps![i * packed.T + t] - want) / Math.max(1, Math.abs(want)));
        }
      }
      console.log(`${m.name}: merged export in transformers vs our LoRA model, worst token log-prob error ${hfWorst.toExponential(2)}`);
      expect(hfWorst).toBeLessThan(1e-4);

      // PEFT's adapter folder: key names, shapes, config
      const adapterFiles = exportPeftAdapter(m.cfg, m.lora, await trainer.adapterWeights(), 'tiny');
      const header = parseSafetensorsHeader(adapterFiles.get('adapter_model.safetensors')!);
      const prefix = m.cfg.arch === 'gpt2' ? 'base_model.model.transformer.h.0.attn.c_attn' : 'base_model.model.model.layers.0.self_attn.q_proj';
      const outF = m.cfg.arch === 'gpt2' ? 3 * m.cfg.hidden : m.cfg.heads * m.cfg.headDim;
      expect(header.tensors.get(`${prefix}.lora_A.weight`)!.shape).toEqual([m.lora.r, m.cfg.hidden]);
      expect(header.tensors.get(`${prefix}.lora_B.weight`)!.shape).toEqual([outF, m.lora.r]);
      expect(header.tensors.size).toBe(2 * loraTargets(m.cfg, m.lora).length);
      const conf = JSON.parse(new TextDecoder().decode(adapterFiles.get('adapter_config.json')!));
      expect(conf).toMatchObject({ peft_type: 'LORA', r: m.lora.r, lora_alpha: m.lora.lora_alpha, fan_in_fan_out: m.cfg.arch === 'gpt2' });
      trainer.release();
    }
  });

  it('a paused LoRA run (saveState: adapters and their moments) resumes to the same adapters as an uninterrupted one', async () => {
    const gpu = await testGpu();
    const m = MODELS[1];
    const hf = baseWeights(m.cfg, 50);
    const train = randomPairs(6, m.cfg.vocabSize, 8);
    const args = { ...defaultTrainerArgs, lora: m.lora, learning_rate: 1e-2, per_device_train_batch_size: 2, max_steps: 4, seed: 5, gradient_checkpointing: true };
    const make = () => DpoTrainer.create(gpu, { config: m.cfg, policy: hf, train, padId: 0, args });
    const straight = await make();
    await straight.train();
    const want = await straight.adapterWeights();
    straight.release();
    const a = await make();
    let n = 0;
    await a.train({ onLog: () => ++n === 2 && a.requestPause() });
    expect(a.step).toBe(2);
    const state = await a.saveState();
    a.release();
    const b = await make();
    await b.loadState(state);
    await b.train();
    const got = await b.adapterWeights();
    expect(b.step).toBe(4);
    for (const [name, w] of want) expect(got.get(name)!.every((x, i) => Object.is(x, w[i])), name).toBe(true);
    b.release();
  });

  it('the TRL script of a LoRA run passes PEFT\'s LoraConfig as peft_config (and parses as Python)', async () => {
    const lora: LoraConfig = { r: 16, lora_alpha: 32, target_modules: ['q_proj', 'v_proj'] };
    const src = trlScript({ ...defaultTrainerArgs, lora, gradient_checkpointing: true }, { model: 'Qwen/Qwen3-0.6B', dataFile: 'pairs.jsonl', ref: '/elsewhere' });
    expect(src).toContain('from peft import LoraConfig');
    expect(src).toContain('peft_config = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")');
    expect(src).toContain('processing_class=tokenizer, peft_config=peft_config)');
    expect(src).toContain('ref_model = None');
    expect(src).toContain('gradient_checkpointing=True,');
    expect(trlScript(defaultTrainerArgs, { model: 'm', dataFile: 'd' })).not.toContain('peft');
    const file = join(tempDir('lora-trl'), 'run.py');
    writeFileSync(file, src);
    await run(venvPython(), ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', file]);
  });

  it('memory: the pool\'s measured peak in one DPO step is within 25% of the estimate; LoRA and checkpointing lower it', async () => {
    const gpu = await testGpu();
    const cfg = parseConfig({ model_type: 'qwen3', vocab_size: 4000, hidden_size: 128, intermediate_size: 384, num_hidden_layers: 6, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32, max_position_embeddings: 512, tie_word_embeddings: true });
    const hf = baseWeights(cfg, 7);
    const T = 128;
    const rng = new Rng(1);
    const ids = (n: number) => Array.from({ length: n }, () => Math.floor(rng.next() * cfg.vocabSize));
    const train = Array.from({ length: 2 }, () => ({ promptIds: ids(T / 2), chosenIds: ids(T / 2), rejectedIds: ids(T / 2) }));
    const lora: LoraConfig = { r: 16, lora_alpha: 32, target_modules: 'all-linear' };
    const peaks: number[] = [];
    for (const extra of [{}, { lora }, { lora, gradient_checkpointing: true }]) {
      gpu.trim();
      const before = gpu.liveBytes;
      gpu.peakBytes = before;
      const args = { ...defaultTrainerArgs, per_device_train_batch_size: 2, max_length: T, max_steps: 1, ...extra };
      const t = await DpoTrainer.create(gpu, { config: cfg, policy: hf, train, padId: 0, args });
      await t.train();
      const peak = gpu.peakBytes - before;
      const est = estimateMemory(cfg, args, T, { maxBindingBytes: 2 ** 30, maxBufferBytes: 2 ** 30 }, Infinity).totalBytes;
      console.log(`${'lora' in extra ? 'LoRA r=16' : 'full'}${'gradient_checkpointing' in extra ? ' + checkpointing' : ''}: measured peak ${fmtBytes(peak)}, estimate ${fmtBytes(est)}`);
      expect(peak / est).toBeGreaterThan(0.75);
      expect(peak / est).toBeLessThan(1.25);
      peaks.push(peak);
      await gpu.sync(); // the last AdamW step is recorded but not yet submitted: submit before trim() destroys buffers
      t.release();
    }
    expect(peaks[1]).toBeLessThan(peaks[0]);
    expect(peaks[2]).toBeLessThan(0.6 * peaks[1]);
  });

  it('memory: Qwen3-0.6B at T=512, 2 pairs, LoRA r=16 on every projection', () => {
    const cfg = parseConfig({ model_type: 'qwen3', vocab_size: 151936, hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, max_position_embeddings: 40960, rope_theta: 1000000, tie_word_embeddings: true });
    const limits = { maxBindingBytes: 2 ** 30, maxBufferBytes: 2 ** 30 };
    const args = { ...defaultTrainerArgs, per_device_train_batch_size: 2, max_length: 512 };
    const lora: LoraConfig = { r: 16, lora_alpha: 32, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] };
    const full = estimateMemory(cfg, args, 512, limits, Infinity);
    const withLora = estimateMemory(cfg, { ...args, lora }, 512, limits, Infinity);
    const loraCkpt = estimateMemory(cfg, { ...args, lora, gradient_checkpointing: true }, 512, limits, Infinity);
    const fullCkpt = estimateMemory(cfg, { ...args, gradient_checkpointing: true }, 512, limits, Infinity);
    const P = countParameters(cfg);
    const La = countLoraParameters(cfg, lora);
    console.log(`Qwen3-0.6B T=512 2 pairs: full fine-tune ${fmtBytes(full.totalBytes)} (weights ${fmtBytes(full.weightsBytes)}, grads+moments ${fmtBytes(full.optimizerBytes)}, activations ${fmtBytes(full.activationBytes)}); LoRA r=16 ${fmtBytes(withLora.totalBytes)} (weights ${fmtBytes(withLora.weightsBytes)}, grads+moments ${fmtBytes(withLora.optimizerBytes)}, activations ${fmtBytes(withLora.activationBytes)}), ${(La / 1e6).toFixed(2)}M adapter parameters`);
    // 28 layers x 16 x (q 1024+2048, k 1024+1024, v 1024+1024, o 2048+1024, gate/up 1024+3072, down 3072+1024)
    expect(La).toBe(28 * 16 * (3072 + 2048 + 2048 + 3072 + 3 * 4096));
    expect(full.weightsBytes).toBe(8 * P); // policy + reference
    expect(full.optimizerBytes).toBe(12 * P);
    expect(withLora.weightsBytes).toBe(4 * P + 4 * La); // no reference copy
    expect(withLora.optimizerBytes).toBe(12 * La);
    expect(withLora.activationBytes).toBe(full.activationBytes);
    console.log(`  with gradient_checkpointing: LoRA r=16 ${fmtBytes(loraCkpt.totalBytes)} (activations ${fmtBytes(loraCkpt.activationBytes)}); full fine-tune ${fmtBytes(fullCkpt.totalBytes)}`);
    expect(loraCkpt.totalBytes).toBeLessThan(4 * 2 ** 30);
    expect(loraCkpt.refusal).toBeNull();
    expect(estimateMemory(cfg, { ...args, lora, gradient_checkpointing: true }, 512, limits).refusal).toBeNull(); // within the page's 6 GiB
    expect(estimateMemory(cfg, args, 512, limits).refusal).toMatch(/LoRA/);
  });
});
