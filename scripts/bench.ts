// npm run bench [-- --configs tiny,10m,gpt2-124m-t128,gpt2-124m-t512,smollm2-135m-lora,qwen3-0.6b-lora --steps 3 --json out.json --no-torch --peak-gflops N]
// One full DPO step (policy forward+backward on 2N sequences, reference forward, loss, clip, AdamW) per
// iteration, on random weights of named shapes; the same workload in PyTorch fp32 eager in the same run
// (scripts/py/bench_torch.py) gives the baseline ratio. Prints ms/step, tokens/s, GFLOP/s, the top
// kernels by GPU time (timestamp-query) and peak pool bytes.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { parameterSpecs, parseConfig, countParameters, type ModelConfig } from '../src/model/config';
import { createParams, fromHf, releaseParams } from '../src/model/params';
import { Transformer } from '../src/model/transformer';
import { releasePairBatch, uploadPairBatch } from '../src/dpo/gpu-batch';
import { AdamW } from '../src/dpo/optimizer';
import { dpoMicroStep } from '../src/dpo/step';
import { collate } from '../src/dpo/tokenize';
import { Gpu } from '../src/gpu/context';
import { Rng } from '../src/data/split';
import { defaultTrainerArgs, DpoTrainer } from '../src/dpo/trainer';
import { estimateMemory, fmtBytes } from '../src/worker/memory';

/** Shapes of real checkpoints, for the memory table (no weights needed). */
const MEMORY_MODELS: [string, Record<string, unknown>][] = [
  ['GPT-2-124M', { model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 }],
  ['SmolLM2-135M', { model_type: 'llama', vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, max_position_embeddings: 8192, rope_theta: 100000, tie_word_embeddings: true }],
  ['SmolLM2-360M', { model_type: 'llama', vocab_size: 49152, hidden_size: 960, intermediate_size: 2560, num_hidden_layers: 32, num_attention_heads: 15, num_key_value_heads: 5, max_position_embeddings: 8192, rope_theta: 100000, tie_word_embeddings: true }],
  ['Qwen3-0.6B', { model_type: 'qwen3', vocab_size: 151936, hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, max_position_embeddings: 40960, rope_theta: 1000000, tie_word_embeddings: true }],
];

function memoryTable(limits: { maxBindingBytes: number; maxBufferBytes: number }): void {
  console.log('\nGPU memory for DPO at T=512, 2 pairs per micro-batch (policy + grads + AdamW moments + reference or precomputed log-probs + activations);');
  console.log('LoRA: r=16, alpha 32 on every attention/MLP projection (all-linear), base frozen, reference = adapters off; ckpt: gradient_checkpointing');
  const cols: [string, Record<string, unknown>][] = [
    ['full', {}],
    ['precomputed ref', { precompute_ref_log_probs: true }],
    ['full + ckpt', { gradient_checkpointing: true }],
    ['LoRA', { lora: { r: 16, lora_alpha: 32, target_modules: 'all-linear' } }],
    ['LoRA + ckpt', { lora: { r: 16, lora_alpha: 32, target_modules: 'all-linear' }, gradient_checkpointing: true }],
  ];
  console.log(`model           params ${cols.map(([c]) => c.padStart(16)).join('')}     (fits 4 GB / 8 GB)`);
  for (const [name, raw] of MEMORY_MODELS) {
    const cfg = parseConfig(raw);
    const args = { ...defaultTrainerArgs, per_device_train_batch_size: 2, max_length: 512 };
    const cell = (extra: Record<string, unknown>) => {
      const b = estimateMemory(cfg, { ...args, ...extra }, 512, limits, Infinity).totalBytes;
      return `${fmtBytes(b)} ${b <= 4 * 2 ** 30 ? '4' : '-'}${b <= 8 * 2 ** 30 ? '8' : '-'}`.padStart(16);
    };
    console.log(`${name.padEnd(15)}${(countParameters(cfg) / 1e6).toFixed(0).padStart(5)}M ${cols.map(([, extra]) => cell(extra)).join('')}`);
  }
}

/**
 * Dense fp32 (non-tensor-core) peak of known adapters in GFLOP/s, from the vendors' data sheets; the
 * bench reports achieved/peak where the adapter's name matches (or --peak-gflops N is given).
 */
const FP32_PEAK_GFLOPS: [RegExp, number][] = [
  [/H100.*(SXM|HBM3)/i, 66_900],
  [/H100.*(PCIe|HBM2e)/i, 51_200],
  [/H100/i, 51_200],
  [/H200/i, 66_900],
  [/A100/i, 19_500],
  [/L4\b/i, 30_300],
  [/RTX 4090/i, 82_600],
  [/RTX 4080/i, 48_700],
  [/RTX 3090/i, 35_600],
  [/RTX 3080/i, 29_800],
  [/RTX 3060/i, 12_700],
  [/T4\b/i, 8_100],
];

export function fp32Peak(adapterName: string, override?: number): number | null {
  if (override !== undefined && Number.isFinite(override) && override > 0) return override;
  return FP32_PEAK_GFLOPS.find(([re]) => re.test(adapterName))?.[1] ?? null;
}

interface BenchConfig {
  name: string;
  config: Record<string, unknown>;
  pairs: number;
  T: number;
  /** LoRA runs go through the trainer (src/dpo/trainer.ts), as in the page. */
  lora?: { r: number; lora_alpha: number; target_modules: string };
}

export const BENCH_CONFIGS: BenchConfig[] = [
  { name: 'tiny', config: { model_type: 'gpt2', vocab_size: 101, n_embd: 32, n_layer: 2, n_head: 4, n_positions: 64 }, pairs: 3, T: 13 },
  { name: 'gpt2-vocab', config: { model_type: 'gpt2', vocab_size: 50257, n_embd: 32, n_layer: 2, n_head: 2, n_positions: 128 }, pairs: 4, T: 64 },
  { name: '10m', config: { model_type: 'llama', vocab_size: 8192, hidden_size: 256, intermediate_size: 688, num_hidden_layers: 6, num_attention_heads: 8, num_key_value_heads: 4, max_position_embeddings: 512, tie_word_embeddings: true }, pairs: 2, T: 128 },
  { name: 'gpt2-124m-t128', config: { model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 }, pairs: 2, T: 128 },
  { name: 'gpt2-124m-t512', config: { model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 }, pairs: 2, T: 512 },
];

/**
 * What a user of the page trains on real checkpoints: LoRA r=16 on all-linear, reference = adapters off,
 * through the trainer itself (the page's path). `npm run bench -- --configs smollm2-135m-lora,qwen3-0.6b-lora`.
 */
export const LORA_CONFIGS: BenchConfig[] = [
  { name: 'tiny-lora', config: { model_type: 'llama', vocab_size: 512, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: true }, pairs: 1, T: 16, lora: { r: 4, lora_alpha: 8, target_modules: 'all-linear' } },
  { name: 'smollm2-135m-lora', config: MEMORY_MODELS[1][1], pairs: 1, T: 32, lora: { r: 16, lora_alpha: 32, target_modules: 'all-linear' } },
  { name: 'qwen3-0.6b-lora', config: MEMORY_MODELS[3][1], pairs: 1, T: 32, lora: { r: 16, lora_alpha: 32, target_modules: 'all-linear' } },
];

/** One LoRA DPO step of the trainer on random weights, timed after a warm-up step; tokens/s as the page logs it. */
async function benchLora(gpu: Gpu, bc: BenchConfig, steps: number): Promise<Record<string, unknown>> {
  const cfg = parseConfig(bc.config);
  const rng = new Rng(7);
  const ids = (n: number) => Array.from({ length: n }, () => Math.floor(rng.next() * cfg.vocabSize));
  const half = Math.floor(bc.T / 2);
  const train = Array.from({ length: Math.max(2, bc.pairs) }, (_, i) => ({ promptIds: ids(half), chosenIds: ids(bc.T - half), rejectedIds: ids(bc.T - half), row: i + 1 }));
  const t = await DpoTrainer.create(gpu, { config: cfg, policy: randomWeights(cfg, 1), train, eval: [], padId: 0, args: { per_device_train_batch_size: bc.pairs, max_steps: 1 + steps, logging_steps: 1, eval_steps: 0, max_length: bc.T, lora: bc.lora!, learning_rate: 1e-4 } });
  const stamps: number[] = [];
  const tps: number[] = [];
  await t.train({ onLog: (r) => (stamps.push(performance.now()), tps.push(r['tokens/s'] ?? 0)) });
  const ms = (stamps.at(-1)! - stamps[0]) / steps;
  const tokens = 2 * bc.pairs * bc.T;
  t.release();
  gpu.trim();
  const row = { config: bc.name, params: countParameters(cfg), tokens, ms_per_step: ms, tokens_per_s: (tokens / ms) * 1000, logged_tokens_per_s: tps.at(-1), peak_pool_bytes: gpu.peakBytes };
  console.log(`\n${bc.name}: ${(row.params / 1e6).toFixed(0)}M params, LoRA r=${bc.lora!.r} ${bc.lora!.target_modules}, ${tokens} tokens/step: ${ms.toFixed(0)} ms/step, ${row.tokens_per_s.toFixed(1)} tokens/s (the page logs ${(row.logged_tokens_per_s ?? 0).toFixed(1)}), peak pool ${(gpu.peakBytes / 2 ** 20).toFixed(0)} MiB`);
  gpu.peakBytes = gpu.liveBytes;
  return row;
}

function randomWeights(cfg: ModelConfig, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const s of parameterSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    if (s.kind === 'norm') a.fill(1);
    else if (s.kind !== 'bias') for (let i = 0; i < n; i++) a[i] = (rng.next() - 0.5) * 0.04;
    out.set(s.name, a);
  }
  return out;
}

async function main() {
  const argv = process.argv.slice(2);
  const arg = (k: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const names = (arg('configs') ?? 'tiny,10m,gpt2-124m-t128').split(',');
  const steps = Number(arg('steps') ?? 2);
  const gpu = await Gpu.create();
  const profiling = gpu.enableProfiling();
  gpu.profileShapes = argv.includes('--shapes');
  const peak = fp32Peak(gpu.info.adapterName, arg('peak-gflops') ? Number(arg('peak-gflops')) : undefined);
  console.log(`adapter: ${gpu.info.adapterName} (timestamp-query: ${profiling ? 'yes' : 'no'}; fp32 peak: ${peak ? `${(peak / 1000).toFixed(1)} TFLOP/s` : 'unknown, give --peak-gflops N'})`);
  const results: Record<string, unknown>[] = [];
  for (const bc of BENCH_CONFIGS.filter((c) => names.includes(c.name))) {
    const cfg = parseConfig(bc.config);
    const params = createParams(gpu, cfg, fromHf(cfg, randomWeights(cfg, 1)));
    const refParams = createParams(gpu, cfg, fromHf(cfg, randomWeights(cfg, 1)));
    const policy = new Transformer(gpu, cfg, params);
    const reference = new Transformer(gpu, cfg, refParams);
    const grads = createParams(gpu, cfg, null);
    const opt = new AdamW(gpu, cfg, params, grads);
    const rng = new Rng(7);
    const ids = (n: number) => Array.from({ length: n }, () => Math.floor(rng.next() * cfg.vocabSize));
    const half = Math.floor(bc.T / 2);
    const pairs = Array.from({ length: bc.pairs }, () => ({ promptIds: ids(half), chosenIds: ids(bc.T - half), rejectedIds: ids(bc.T - half) }));
    const batch = uploadPairBatch(gpu, collate(pairs, 0));
    const step = async () => {
      opt.zeroGrads();
      await dpoMicroStep(gpu, policy, { model: reference }, batch, { beta: 0.1, kind: 'sigmoid', labelSmoothing: 0, grads });
      await opt.apply({ lr: 1e-5, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
    };
    await step(); // warm-up: pipelines compile, pool fills
    await gpu.collectProfile();
    (await gpu.collectProfile()).clear();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      await step();
      await gpu.collectProfile();
    }
    const ms = (performance.now() - t0) / steps;
    const tokens = 2 * bc.pairs * bc.T;
    const P = countParameters(cfg);
    const flops = 6 * P * tokens + 2 * P * tokens;
    const prof = [...(await gpu.collectProfile()).entries()].sort((a, b) => b[1].ns - a[1].ns);
    const gpuMs = prof.reduce((a, [, v]) => a + v.ns, 0) / 1e6 / steps;
    const row = {
      config: bc.name,
      params: P,
      tokens,
      ms_per_step: ms,
      tokens_per_s: (tokens / ms) * 1000,
      gflops: flops / (ms / 1000) / 1e9,
      fraction_of_peak: peak ? flops / (ms / 1000) / 1e9 / peak : null,
      matmul_gflops: 0,
      matmul_fraction_of_peak: null as number | null,
      gpu_ms_per_step: gpuMs,
      peak_pool_bytes: gpu.peakBytes,
      top_kernels: prof.slice(0, 5).map(([k, v]) => ({ kernel: k, ms_per_step: v.ns / 1e6 / steps, dispatches_per_step: v.count / steps })),
    };
    // matmul FLOPs of the step: 2*M*N*K per matmul dispatch is not recorded, so use the model's dense
    // FLOPs (6+2 per parameter per token) over the GPU time of the matmul kernels
    const matmulNs = prof.filter(([k]) => k.startsWith('matmul')).reduce((a, [, v]) => a + v.ns, 0) / steps;
    if (matmulNs > 0) {
      row.matmul_gflops = flops / matmulNs;
      row.matmul_fraction_of_peak = peak ? row.matmul_gflops / peak : null;
    }
    results.push(row);
    console.log(`\n${bc.name}: ${(P / 1e6).toFixed(2)}M params, ${tokens} tokens/step: ${ms.toFixed(1)} ms/step, ${row.tokens_per_s.toFixed(0)} tokens/s, ${row.gflops.toFixed(2)} GFLOP/s, GPU time ${gpuMs.toFixed(1)} ms, peak pool ${(gpu.peakBytes / 2 ** 20).toFixed(0)} MiB`);
    if (row.matmul_gflops) console.log(`   matmul kernels: ${row.matmul_gflops.toFixed(1)} GFLOP/s${row.matmul_fraction_of_peak !== null ? ` (${(100 * row.matmul_fraction_of_peak).toFixed(1)}% of fp32 peak)` : ''}${row.fraction_of_peak !== null ? `; whole step ${(100 * row.fraction_of_peak).toFixed(1)}% of peak` : ''}`);
    for (const k of row.top_kernels) console.log(`   ${k.kernel.padEnd(36)} ${k.ms_per_step.toFixed(1).padStart(9)} ms  ${k.dispatches_per_step} dispatches`);
    releasePairBatch(gpu, batch);
    opt.release();
    releaseParams(gpu, grads);
    releaseParams(gpu, params);
    releaseParams(gpu, refParams);
    gpu.trim();
    gpu.peakBytes = gpu.liveBytes;
  }
  for (const bc of LORA_CONFIGS.filter((c) => names.includes(c.name))) results.push(await benchLora(gpu, bc, steps));
  if (!argv.includes('--no-torch') && existsSync('.venv/bin/python') && existsSync('scripts/py/bench_torch.py')) {
    const torch = JSON.parse(execFileSync('.venv/bin/python', ['scripts/py/bench_torch.py', '--configs', JSON.stringify([...BENCH_CONFIGS, ...LORA_CONFIGS].filter((c) => names.includes(c.name))), '--steps', String(steps)], { encoding: 'utf8' }));
    console.log('\nconfig               ours ms/step   torch ms/step   ours/torch throughput   ours tokens/s   torch tokens/s');
    for (const r of results) {
      const t = torch[r.config as string];
      if (!t) continue;
      r.torch_ms_per_step = t.ms_per_step;
      r.ratio = t.ms_per_step / (r.ms_per_step as number);
      const tok = r.tokens as number;
      console.log(`${String(r.config).padEnd(21)}${(r.ms_per_step as number).toFixed(1).padStart(12)}${t.ms_per_step.toFixed(1).padStart(16)}${(r.ratio as number).toFixed(3).padStart(16)}x${((tok / (r.ms_per_step as number)) * 1000).toFixed(1).padStart(16)}${((tok / t.ms_per_step) * 1000).toFixed(1).padStart(17)}  (torch ${t.device})`);
    }
  }
  memoryTable({ maxBindingBytes: gpu.maxBindingBytes, maxBufferBytes: gpu.info.limits.maxBufferSize });
  const json = arg('json');
  if (json) writeFileSync(json, JSON.stringify({ adapter: gpu.info.adapterName, results }, null, 1));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
