// Builds the built-in classroom demo from the text world in public/demo/ (scripts/demo/build-world.ts):
//   1. a tiny GPT-2 (HF layout) initialised from a seed as transformers does (normal(0, 0.02), the
//      residual projections scaled by 1/sqrt(2 n_layer), LayerNorm ones/zeros);
//   2. pretrained with the project's own trainer in SFT mode on corpus.txt (one review = one sequence);
//   3. saved as a Hugging Face folder public/demo/model/;
//   4. preference pairs as in the DPO paper's IMDb experiment: for each review opening of
//      prompts-train.json, eight completions sampled from that model (temperature 1, seeded), chosen = the
//      higher true reward r*, rejected = the lower (ties skipped) -> pairs-train.jsonl, pairs-eval.jsonl;
//   5. public/demo/manifest.json: where everything is, the recommended DPO settings, checksums.
//
//   npm run build-demo                      (= npx tsx --import ./scripts/register-raw.mjs scripts/demo/build-demo.ts)
//   ... build-demo.ts --stage pairs         (steps 4-5 only, from the committed model)
//
// Steps 4-5 sample with the CPU sampler of src/demo/frontier.ts (float64, KV cache), so they give the
// same bytes on every machine; test/demo-train.test.ts regenerates a slice of the pairs.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CpuGpt2, completionSeed, DemoVocab, sampleCompletion } from '../../src/demo/frontier';
import { trueReward } from '../../src/demo/reward';
import { fnv1a } from '../../src/demo/rng';
import { splitTokens } from '../../src/demo/grammar';
import { parameterSpecs, parseConfig, type ModelConfig } from '../../src/model/config';
import type { TokenizedPair } from '../../src/dpo/tokenize';

export const DEMO_DIR = join(import.meta.dirname, '..', '..', 'public', 'demo');

/** The demo model's config.json (GPT-2 layout). */
export const DEMO_CONFIG = {
  model_type: 'gpt2',
  architectures: ['GPT2LMHeadModel'],
  vocab_size: 443,
  n_embd: 64,
  n_layer: 2,
  n_head: 4,
  n_inner: null,
  n_positions: 64,
  n_ctx: 64,
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
  initializer_range: 0.02,
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
  bos_token_id: 0,
  eos_token_id: 0,
  tie_word_embeddings: true,
  torch_dtype: 'float32',
};

export const PRETRAIN = {
  seed: 1234,
  steps: 500,
  batchSize: 16,
  learningRate: 5e-3,
  warmupRatio: 0.05,
  weightDecay: 0.01,
};

export const PAIRS = {
  seed: 4321,
  /** completions sampled per prompt; chosen = the best of them by r*, rejected = the worst */
  samples: 8,
  train: 2000,
  eval: 200,
  maxNewTokens: 60,
  temperature: 1,
};

/** Defaults the page starts the demo with (TRL option names). */
export const RECOMMENDED = {
  beta: 0.1,
  loss_type: 'sigmoid',
  // measured with scripts/demo/frontier-run.ts (seed 42, 32 held-out prompts): at 2e-3 and batch 16 the
  // reward accuracy goes 0.51 -> 0.83 -> 0.96 at steps 10/30/60, r* of the samples 0.013 -> 0.166 and all
  // 32 samples above the reference's; 1e-3 reaches 0.93 at step 60
  learning_rate: 2e-3,
  lr_scheduler_type: 'constant',
  warmup_ratio: 0,
  max_steps: 60,
  per_device_train_batch_size: 16,
  per_device_eval_batch_size: 16,
  gradient_accumulation_steps: 1,
  max_grad_norm: 1,
  max_length: 64,
  seed: 42,
  eval_steps: 10,
  frontier: { prompts: 32, every_steps: 10, max_new_tokens: 48, temperature: 1, seed: 7 },
};

// ------------------------------------------------------------------ 1. init

/** Gaussian N(0, 1) draws from a seeded stream (mulberry32 + Box-Muller). */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(Math.max(u(), 1e-300))) * Math.cos(2 * Math.PI * u());
}

/** transformers' GPT2PreTrainedModel._init_weights, seeded per tensor. */
export function initWeights(cfg: ModelConfig, seed: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const std = 0.02;
  for (const s of parameterSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (s.kind === 'norm') data.fill(1);
    else if (s.kind !== 'bias') {
      const g = gaussian(fnv1a(`${seed}/init/${s.name}`));
      const sd = /c_proj\.weight$/.test(s.name) ? std / Math.sqrt(2 * cfg.layers) : std;
      for (let i = 0; i < n; i++) data[i] = sd * g();
    }
    out.set(s.name, data);
  }
  return out;
}

// ------------------------------------------------------------------ 4. pairs

export interface DemoPair {
  prompt: string;
  chosen: string;
  rejected: string;
}

export interface PairCandidate {
  pair: DemoPair | null;
  /** why it was skipped */
  skip?: 'tie' | 'unfinished' | 'unk';
  /** r* of every sampled completion */
  rewards: number[];
  /** r*(chosen) - r*(rejected) */
  gap?: number;
}

/**
 * Candidate pair for prompt number `index` of prompts-train.json: `o.samples` completions with seeds
 * completionSeed(o.seed, index, j), j = 0..samples-1; chosen = the one with the highest true reward r*,
 * rejected = the lowest (best-of-n vs worst-of-n: with two samples the r* gap of a pair averages 0.06,
 * too little for the policy to tell chosen from rejected within a short run; with eight it is 0.17).
 * Completions that do not reach EOS or contain <unk> are dropped first. Completion texts start with a
 * space, so prompt + chosen is the review as the tokenizer splits it (TRL tokenizes prompt+completion as
 * one text).
 */
export function pairCandidate(model: CpuGpt2, vocab: DemoVocab, prompt: string, index: number, o = PAIRS): PairCandidate {
  const promptIds = vocab.encode(prompt);
  const all = Array.from({ length: o.samples }, (_, j) => sampleCompletion(model, promptIds, { maxNewTokens: o.maxNewTokens, temperature: o.temperature, seed: completionSeed(o.seed, index, j), eosId: vocab.eosId }));
  const rewards = all.map((c) => trueReward(vocab.words(c.ids)));
  const ok = all.map((_, j) => j).filter((j) => all[j].finished && !all[j].ids.includes(vocab.unkId));
  if (ok.length < 2) return { pair: null, skip: all.some((c) => !c.finished) ? 'unfinished' : 'unk', rewards };
  let hi = ok[0];
  let lo = ok[0];
  for (const j of ok) {
    if (rewards[j] > rewards[hi]) hi = j;
    if (rewards[j] < rewards[lo]) lo = j;
  }
  if (rewards[hi] === rewards[lo]) return { pair: null, skip: 'tie', rewards };
  return { pair: { prompt, chosen: ` ${vocab.decode(all[hi].ids)}`, rejected: ` ${vocab.decode(all[lo].ids)}` }, rewards, gap: rewards[hi] - rewards[lo] };
}

export const pairLine = (p: DemoPair): string => JSON.stringify({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected });

export function loadDemoModel(dir = join(DEMO_DIR, 'model')): { cfg: ModelConfig; weights: Map<string, Float32Array> } {
  // model.safetensors written by exportHfFolder: F32, names as parameterSpecs
  const bytes = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const weights = new Map<string, Float32Array>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (e.dtype !== 'F32') throw new Error(`demo model tensor ${name} is ${e.dtype}, expected F32`);
    const start = 8 + n + e.data_offsets[0];
    weights.set(name, new Float32Array(bytes.slice(start, 8 + n + e.data_offsets[1]).buffer));
  }
  return { cfg: parseConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))), weights };
}

const sha256 = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex');

// ------------------------------------------------------------------ main

async function pretrain(): Promise<void> {
  const { Gpu } = await import('../../src/gpu/context');
  const { DpoTrainer } = await import('../../src/dpo/trainer');
  const { exportHfFolder } = await import('../../src/model/export');
  const cfg = parseConfig(DEMO_CONFIG);
  const vocab = DemoVocab.fromTokenizerJson(readFileSync(join(DEMO_DIR, 'tokenizer.json'), 'utf8'));
  if (vocab.size !== cfg.vocabSize) throw new Error(`tokenizer has ${vocab.size} tokens, config ${cfg.vocabSize}`);
  const lines = readFileSync(join(DEMO_DIR, 'corpus.txt'), 'utf8').trimEnd().split('\n');
  const train: TokenizedPair[] = lines.map((l) => ({ promptIds: [], chosenIds: [...vocab.encode(l), vocab.eosId], rejectedIds: [] }));
  for (const [i, l] of lines.entries()) if (splitTokens(l).length + 1 !== train[i].chosenIds.length || train[i].chosenIds.includes(vocab.unkId)) throw new Error(`corpus line ${i} does not tokenize cleanly`);
  const gpu = await Gpu.create();
  console.log(`adapter: ${gpu.info.adapterName}`);
  const P = PRETRAIN;
  const trainer = await DpoTrainer.create(gpu, {
    config: cfg,
    policy: initWeights(cfg, P.seed),
    train,
    padId: vocab.eosId,
    args: {
      mode: 'sft', learning_rate: P.learningRate, lr_scheduler_type: 'cosine', warmup_ratio: P.warmupRatio, weight_decay: P.weightDecay,
      max_steps: P.steps, per_device_train_batch_size: P.batchSize, seed: P.seed, max_length: cfg.maxPositions, logging_steps: 25, compute_kl: false,
    },
  });
  const t0 = performance.now();
  let last = NaN;
  await trainer.train({
    onLog: (r) => {
      last = r.loss;
      console.log(`step ${r.step}/${P.steps} loss ${r.loss.toFixed(4)} lr ${r.learning_rate.toExponential(2)} ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    },
  });
  const secs = (performance.now() - t0) / 1000;
  const weights = await trainer.policyWeights();
  const files = exportHfFolder(cfg, weights, {
    extraFiles: new Map(['tokenizer.json', 'tokenizer_config.json'].map((f) => [f, new Uint8Array(readFileSync(join(DEMO_DIR, f)))])),
  });
  const dir = join(DEMO_DIR, 'model');
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, 'pretrain.json'), `${JSON.stringify({ ...P, finalLoss: last, seconds: Math.round(secs), adapter: gpu.info.adapterName, sequences: P.steps * P.batchSize, corpus: lines.length }, null, 1)}\n`);
  console.log(`pretrained in ${secs.toFixed(0)} s, final loss ${last.toFixed(4)}; wrote ${dir}`);
  trainer.release();
}

function buildPairs(): void {
  const { cfg, weights } = loadDemoModel();
  const vocab = DemoVocab.fromTokenizerJson(readFileSync(join(DEMO_DIR, 'tokenizer.json'), 'utf8'));
  const model = new CpuGpt2(cfg, weights);
  const prompts = JSON.parse(readFileSync(join(DEMO_DIR, 'prompts-train.json'), 'utf8')) as string[];
  const kept: { pair: DemoPair; index: number; gap: number }[] = [];
  const skips: Record<string, number> = { tie: 0, unfinished: 0, unk: 0 };
  const rewards: number[] = [];
  const t0 = performance.now();
  const need = PAIRS.train + PAIRS.eval;
  for (let i = 0; kept.length < need; i++) {
    if (i >= prompts.length) throw new Error(`only ${kept.length} pairs from ${prompts.length} prompts`);
    const c = pairCandidate(model, vocab, prompts[i], i);
    rewards.push(...c.rewards);
    if (c.pair) kept.push({ pair: c.pair, index: i, gap: c.gap! });
    else skips[c.skip!]++;
    if (i % 200 === 0) console.log(`prompt ${i}: ${kept.length} pairs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const train = kept.slice(0, PAIRS.train);
  const evalPairs = kept.slice(PAIRS.train);
  const files: Record<string, string> = {
    'pairs-train.jsonl': train.map((k) => pairLine(k.pair)).join('\n') + '\n',
    'pairs-eval.jsonl': evalPairs.map((k) => pairLine(k.pair)).join('\n') + '\n',
  };
  for (const [f, s] of Object.entries(files)) writeFileSync(join(DEMO_DIR, f), s);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const stats = {
    prompts_used: kept[kept.length - 1].index + 1,
    skipped: skips,
    completion_reward_mean: mean(rewards),
    chosen_reward_mean: mean(kept.map((k) => trueReward(k.pair.chosen))),
    rejected_reward_mean: mean(kept.map((k) => trueReward(k.pair.rejected))),
    reward_gap_mean: mean(kept.map((k) => k.gap)),
  };
  const pre = JSON.parse(readFileSync(join(DEMO_DIR, 'model', 'pretrain.json'), 'utf8')) as Record<string, unknown>;
  const manifest = {
    name: 'Classroom demo: controlled sentiment (the DPO paper\'s IMDb experiment on a generated review world)',
    model: 'demo/model',
    train: 'demo/pairs-train.jsonl',
    eval: 'demo/pairs-eval.jsonl',
    prompts: 'demo/prompts-heldout.json',
    reward: 'mean word sentiment of the completion (src/demo/reward.ts)',
    recommended: RECOMMENDED,
    build: { command: 'npm run build-demo', pretrain: pre, pairs: { ...PAIRS, ...stats } },
    sha256: Object.fromEntries(Object.entries(files).map(([f, s]) => [f, sha256(s)])),
  };
  writeFileSync(join(DEMO_DIR, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  console.log(`pairs: ${train.length} train, ${evalPairs.length} eval in ${((performance.now() - t0) / 1000).toFixed(0)} s`, stats);
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--stage');
  const stage = i >= 0 ? process.argv[i + 1] : 'all';
  if (!['all', 'pretrain', 'pairs'].includes(stage)) throw new Error(`--stage must be all, pretrain or pairs, not ${stage}`);
  if (stage !== 'pairs') await pretrain();
  if (stage !== 'pretrain') buildPairs();
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
