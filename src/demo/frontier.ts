// The demo's reward-vs-KL frontier (the DPO paper's Figure 2, on our text world): sample completions
// of held-out prompts from the policy and from the reference with the same seeds, score them with the
// exact reward r*, and estimate KL(policy || reference) of whole completions.
//
// The demo model is tiny (a 2-layer GPT-2), so sampling runs on the CPU with a KV cache: a completion
// costs a few milliseconds, which beats re-running the GPU forward for every new token, it does not
// compete with training for the GPU, and the numbers are the same on every machine (plain float64 JS),
// so the committed preference pairs can be regenerated exactly by a test (scripts/demo/build-demo.ts).
// Nothing here touches the DOM: the page, the worker, the build script and the tests share it.
import type { ModelConfig } from '../model/config';
import type { DpoTrainer } from '../dpo/trainer';
import { sampleToken } from '../dpo/generate';
import { Rng } from '../data/split';
import { trueReward } from './reward';
import { fnv1a } from './rng';

export class DemoModelError extends Error {
  override name = 'DemoModelError';
}

// ------------------------------------------------------------------ vocabulary (word level)

const PUNCT = /^[^\w\s]+$/;

/**
 * The demo tokenizer's vocabulary (word level: lower-cased \w+ runs and punctuation runs, one id each),
 * for encoding prompts and turning sampled ids back into text without the tokenizers library.
 */
export class DemoVocab {
  readonly tokens: readonly string[];
  private readonly ids: Map<string, number>;
  readonly eosId: number;
  readonly unkId: number;

  constructor(vocab: Record<string, number>, eosToken = '<|endoftext|>', unkToken = '<unk>') {
    const tokens: string[] = [];
    for (const [t, id] of Object.entries(vocab)) tokens[id] = t;
    this.tokens = tokens;
    this.ids = new Map(Object.entries(vocab));
    const eos = this.ids.get(eosToken);
    const unk = this.ids.get(unkToken);
    if (eos === undefined || unk === undefined) throw new DemoModelError(`The demo vocabulary must contain ${eosToken} and ${unkToken}.`);
    this.eosId = eos;
    this.unkId = unk;
  }

  /** From the text of a word-level tokenizer.json (the demo's public/demo/tokenizer.json). */
  static fromTokenizerJson(json: string): DemoVocab {
    const t = JSON.parse(json) as { model?: { type?: string; vocab?: Record<string, number> } };
    if (t.model?.type !== 'WordLevel' || !t.model.vocab) {
      throw new DemoModelError('This tokenizer.json is not the demo\'s word-level tokenizer; the frontier needs the demo model.');
    }
    return new DemoVocab(t.model.vocab);
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Lower-cases and splits like the tokenizer's Whitespace pre-tokenizer; unknown words map to <unk>. */
  encode(text: string): number[] {
    return (text.toLowerCase().match(/\w+|[^\w\s]+/g) ?? []).map((w) => this.ids.get(w) ?? this.unkId);
  }

  /** Token strings of ids, without EOS. */
  words(ids: readonly number[]): string[] {
    return ids.filter((i) => i !== this.eosId).map((i) => this.tokens[i] ?? '<unk>');
  }

  /**
   * Text of ids: words separated by one space, punctuation attached to the word before (a second
   * punctuation mark gets a space, so the text re-tokenizes to the same ids). EOS is dropped.
   */
  decode(ids: readonly number[]): string {
    let out = '';
    let prevPunct = true;
    for (const t of this.words(ids)) {
      const p = PUNCT.test(t);
      if (out.length > 0 && (!p || prevPunct)) out += ' ';
      out += t;
      prevPunct = p;
    }
    return out;
  }
}

// ------------------------------------------------------------------ a CPU GPT-2 with a KV cache

/** Per-sequence key/value cache of CpuGpt2. */
export interface KvCache {
  /** [layer][pos*C + c] */
  k: Float64Array[];
  v: Float64Array[];
  length: number;
}

const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * A float64 GPT-2 forward for one token at a time (the demo model's layout: learned positions,
 * LayerNorm, gelu_new, tied or untied LM head). Weights are Hugging Face tensors (GPT-2 names).
 */
export class CpuGpt2 {
  private readonly w = new Map<string, Float64Array>();

  constructor(
    readonly cfg: ModelConfig,
    weights: Map<string, Float32Array>,
  ) {
    if (cfg.arch !== 'gpt2') throw new DemoModelError(`The frontier's CPU sampler runs the GPT-2 layout only (the demo model), not ${cfg.modelType}.`);
    if (cfg.activation !== 'gelu_new') throw new DemoModelError(`The frontier's CPU sampler computes gelu_new, not ${cfg.activation}.`);
    for (const [name, data] of weights) this.w.set(name.replace(/^transformer\./, ''), Float64Array.from(data));
    const need = ['wte.weight', 'wpe.weight', 'ln_f.weight', 'ln_f.bias'];
    for (let l = 0; l < cfg.layers; l++) {
      for (const s of ['ln_1.weight', 'ln_1.bias', 'attn.c_attn.weight', 'attn.c_attn.bias', 'attn.c_proj.weight', 'attn.c_proj.bias', 'ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias']) need.push(`h.${l}.${s}`);
    }
    if (!cfg.tieWordEmbeddings) need.push('lm_head.weight');
    for (const n of need) if (!this.w.has(n)) throw new DemoModelError(`The demo model's weights have no tensor '${n}'.`);
  }

  private p(name: string): Float64Array {
    return this.w.get(name)!;
  }

  newCache(): KvCache {
    return { k: Array.from({ length: this.cfg.layers }, () => new Float64Array(this.cfg.maxPositions * this.cfg.hidden)), v: Array.from({ length: this.cfg.layers }, () => new Float64Array(this.cfg.maxPositions * this.cfg.hidden)), length: 0 };
  }

  private layerNorm(x: Float64Array, w: Float64Array, b: Float64Array): Float64Array {
    const C = x.length;
    let mean = 0;
    for (let i = 0; i < C; i++) mean += x[i];
    mean /= C;
    let v = 0;
    for (let i = 0; i < C; i++) v += (x[i] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / C + this.cfg.normEps);
    const out = new Float64Array(C);
    for (let i = 0; i < C; i++) out[i] = (x[i] - mean) * rstd * w[i] + b[i];
    return out;
  }

  /** out[j] = b[j] + sum_i x[i] W[i, j], W stored [inF, outF] (GPT-2's Conv1D). */
  private conv1d(x: Float64Array, W: Float64Array, b: Float64Array, outF: number): Float64Array {
    const out = Float64Array.from(b);
    const inF = x.length;
    for (let i = 0; i < inF; i++) {
      const xi = x[i];
      const row = i * outF;
      for (let j = 0; j < outF; j++) out[j] += xi * W[row + j];
    }
    return out;
  }

  /** Appends `token` at the next position of `cache` and returns the next-token logits [V]. */
  step(token: number, cache: KvCache): Float64Array {
    const { cfg } = this;
    const C = cfg.hidden;
    const H = cfg.heads;
    const D = cfg.headDim;
    const pos = cache.length;
    if (pos >= cfg.maxPositions) throw new DemoModelError(`The sequence is longer than the model's ${cfg.maxPositions} positions.`);
    if (!(token >= 0 && token < cfg.vocabSize)) throw new DemoModelError(`Token id ${token} is outside the vocabulary of ${cfg.vocabSize}.`);
    const wte = this.p('wte.weight');
    const wpe = this.p('wpe.weight');
    let x = new Float64Array(C);
    for (let c = 0; c < C; c++) x[c] = wte[token * C + c] + wpe[pos * C + c];
    const scale = 1 / Math.sqrt(D);
    for (let l = 0; l < cfg.layers; l++) {
      const n = (s: string) => this.p(`h.${l}.${s}`);
      const h = this.layerNorm(x, n('ln_1.weight'), n('ln_1.bias'));
      const qkv = this.conv1d(h, n('attn.c_attn.weight'), n('attn.c_attn.bias'), 3 * C);
      const K = cache.k[l];
      const V = cache.v[l];
      for (let c = 0; c < C; c++) {
        K[pos * C + c] = qkv[C + c];
        V[pos * C + c] = qkv[2 * C + c];
      }
      const a = new Float64Array(C);
      const s = new Float64Array(pos + 1);
      for (let hd = 0; hd < H; hd++) {
        const o = hd * D;
        let m = -Infinity;
        for (let t = 0; t <= pos; t++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += qkv[o + d] * K[t * C + o + d];
          s[t] = dot * scale;
          if (s[t] > m) m = s[t];
        }
        let z = 0;
        for (let t = 0; t <= pos; t++) z += (s[t] = Math.exp(s[t] - m));
        for (let t = 0; t <= pos; t++) {
          const pt = s[t] / z;
          for (let d = 0; d < D; d++) a[o + d] += pt * V[t * C + o + d];
        }
      }
      const proj = this.conv1d(a, n('attn.c_proj.weight'), n('attn.c_proj.bias'), C);
      for (let c = 0; c < C; c++) x[c] += proj[c];
      const h2 = this.layerNorm(x, n('ln_2.weight'), n('ln_2.bias'));
      const f = this.conv1d(h2, n('mlp.c_fc.weight'), n('mlp.c_fc.bias'), cfg.intermediate);
      for (let i = 0; i < f.length; i++) {
        const u = f[i];
        f[i] = 0.5 * u * (1 + Math.tanh(GELU_C * (u + 0.044715 * u * u * u)));
      }
      const mo = this.conv1d(f, n('mlp.c_proj.weight'), n('mlp.c_proj.bias'), C);
      const nx = new Float64Array(C);
      for (let c = 0; c < C; c++) nx[c] = x[c] + mo[c];
      x = nx;
    }
    cache.length = pos + 1;
    const hf = this.layerNorm(x, this.p('ln_f.weight'), this.p('ln_f.bias'));
    const head = cfg.tieWordEmbeddings ? wte : this.p('lm_head.weight');
    const logits = new Float64Array(cfg.vocabSize);
    for (let v = 0; v < cfg.vocabSize; v++) {
      let dot = 0;
      const row = v * C;
      for (let c = 0; c < C; c++) dot += hf[c] * head[row + c];
      logits[v] = dot;
    }
    return logits;
  }

  /** Feeds a prompt (at least one token) and returns the logits after its last token. */
  prefill(promptIds: readonly number[], cache: KvCache): Float64Array {
    if (promptIds.length === 0) throw new DemoModelError('A prompt needs at least one token.');
    let logits: Float64Array | null = null;
    for (const id of promptIds) logits = this.step(id, cache);
    return logits!;
  }
}

// ------------------------------------------------------------------ sampling and KL (engine-free)

export interface SampleOptions {
  /** Most new tokens (also bounded by the model's positions). */
  maxNewTokens: number;
  temperature: number;
  /** u32 seed of this completion's sampler (src/data/split.ts Rng, mulberry32). */
  seed: number;
  eosId: number;
}

/** Seed of completion `j` of prompt `index` in a run seeded `seed` (independent of batching). */
export function completionSeed(seed: number, index: number, j: number): number {
  return fnv1a(`${seed >>> 0}/completion/${index}/${j}`);
}

export interface Completion {
  /** Sampled ids (ending with EOS when `finished`). */
  ids: number[];
  finished: boolean;
}

function logSoftmax(logits: Float64Array): Float64Array {
  let m = -Infinity;
  for (const x of logits) if (x > m) m = x;
  let z = 0;
  for (const x of logits) z += Math.exp(x - m);
  const lse = m + Math.log(z);
  return logits.map((x) => x - lse);
}

/** One completion of `promptIds`, sampled from `model` (the sampler is src/dpo/generate.ts's). */
export function sampleCompletion(model: CpuGpt2, promptIds: readonly number[], o: SampleOptions): Completion {
  const rng = new Rng(o.seed);
  const cache = model.newCache();
  let logits = model.prefill(promptIds, cache);
  const ids: number[] = [];
  const limit = Math.min(o.maxNewTokens, model.cfg.maxPositions - promptIds.length);
  for (let i = 0; i < limit; i++) {
    const next = sampleToken(Float32Array.from(logits), { temperature: o.temperature, topK: 0, topP: 1 }, rng);
    ids.push(next);
    if (next === o.eosId) return { ids, finished: true };
    if (i + 1 < limit) logits = model.step(next, cache);
  }
  return { ids, finished: false };
}

export interface SequenceKl {
  /** sum over completion positions of the exact KL(pi(.|prefix) || pi_ref(.|prefix)) */
  exact: number;
  /** sum over completion tokens of log pi(y_t) - log pi_ref(y_t) (the single-sample estimate) */
  sampled: number;
}

/**
 * KL of a completion sampled from `policy`: both models read the same prefix; the sum over positions
 * of the exact next-token KL is an unbiased, low-variance estimate of the sequence KL(pi || pi_ref).
 */
export function sequenceKl(policy: CpuGpt2, reference: CpuGpt2, promptIds: readonly number[], completion: readonly number[]): SequenceKl {
  const pc = policy.newCache();
  const rc = reference.newCache();
  let pl = policy.prefill(promptIds, pc);
  let rl = reference.prefill(promptIds, rc);
  let exact = 0;
  let sampled = 0;
  for (let i = 0; i < completion.length; i++) {
    const lp = logSoftmax(pl);
    const lq = logSoftmax(rl);
    exact += tokenKl(lp, lq);
    const y = completion[i];
    sampled += lp[y] - lq[y];
    if (i + 1 < completion.length) {
      pl = policy.step(y, pc);
      rl = reference.step(y, rc);
    }
  }
  return { exact, sampled };
}

/** sum_v p_v (log p_v - log q_v) from log-probabilities. */
export function tokenKl(logP: ArrayLike<number>, logQ: ArrayLike<number>): number {
  let kl = 0;
  for (let v = 0; v < logP.length; v++) {
    const p = Math.exp(logP[v]);
    if (p > 0) kl += p * (logP[v] - logQ[v]);
  }
  return Math.max(0, kl);
}

/** Mean and standard error of a list of numbers. */
export function meanAndStderr(xs: readonly number[]): { mean: number; stderr: number } {
  const n = xs.length;
  if (n === 0) return { mean: NaN, stderr: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, stderr: Math.sqrt(v / n) };
}

// ------------------------------------------------------------------ the frontier probe

export interface FrontierOptions {
  /** Held-out prompts (text); each gets `samplesPerPrompt` completions. */
  prompts: readonly string[];
  samplesPerPrompt: number;
  maxNewTokens: number;
  temperature: number;
  /** Sampling seed; policy and reference use the same seeds. */
  seed: number;
}

export const defaultFrontierOptions: Omit<FrontierOptions, 'prompts'> = { samplesPerPrompt: 1, maxNewTokens: 48, temperature: 1, seed: 7 };

export interface FrontierSample {
  prompt: string;
  policy: string;
  reference: string;
  policyReward: number;
  referenceReward: number;
}

/** One point of the reward-vs-KL frontier. */
export interface FrontierPoint {
  /** mean r* of policy completions */
  reward: number;
  rewardStderr: number;
  /** mean r* of reference completions (same prompts, same seeds) */
  referenceReward: number;
  /** mean over policy completions of the exact sequence KL(pi || pi_ref) (nats) */
  kl: number;
  /** the same from sampled log-ratios (noisier, can be negative) */
  klSampled: number;
  /** completions measured */
  n: number;
  samples: FrontierSample[];
}

/**
 * Measures policies against a fixed reference on held-out prompts. The reference's completions are
 * sampled once and cached; `measure` samples the policy with the same seeds.
 */
export class FrontierProbe {
  readonly reference: CpuGpt2;
  readonly options: FrontierOptions;
  private readonly promptIds: number[][];
  private refCache: { ids: number[]; reward: number }[] | null = null;

  constructor(
    readonly cfg: ModelConfig,
    referenceWeights: Map<string, Float32Array>,
    readonly vocab: DemoVocab,
    options: Partial<FrontierOptions> & Pick<FrontierOptions, 'prompts'>,
  ) {
    this.options = { ...defaultFrontierOptions, ...options };
    const o = this.options;
    if (o.prompts.length === 0) throw new DemoModelError('The frontier needs at least one held-out prompt.');
    if (!(Number.isInteger(o.samplesPerPrompt) && o.samplesPerPrompt >= 1)) throw new DemoModelError(`samplesPerPrompt must be a positive whole number, not ${o.samplesPerPrompt}.`);
    if (!(o.temperature > 0)) throw new DemoModelError(`The frontier samples at a positive temperature, not ${o.temperature}.`);
    this.reference = new CpuGpt2(cfg, referenceWeights);
    this.promptIds = o.prompts.map((p) => {
      const ids = vocab.encode(p);
      if (ids.length === 0) throw new DemoModelError(`The held-out prompt "${p}" has no tokens.`);
      if (ids.length >= cfg.maxPositions) throw new DemoModelError(`The held-out prompt "${p}" fills the model's ${cfg.maxPositions} positions.`);
      return ids;
    });
  }

  /** (prompt index, sample index, seed) of every completion measured. */
  private *jobs(): Generator<[number, number, number]> {
    const { prompts, samplesPerPrompt, seed } = this.options;
    for (let i = 0; i < prompts.length; i++) for (let j = 0; j < samplesPerPrompt; j++) yield [i, j, completionSeed(seed, i, j)];
  }

  private sample(model: CpuGpt2, i: number, seed: number): Completion {
    const { maxNewTokens, temperature } = this.options;
    return sampleCompletion(model, this.promptIds[i], { maxNewTokens, temperature, seed, eosId: this.vocab.eosId });
  }

  private referenceSamples(): { ids: number[]; reward: number }[] {
    if (!this.refCache) {
      this.refCache = [];
      for (const [i, , seed] of this.jobs()) {
        const c = this.sample(this.reference, i, seed);
        this.refCache.push({ ids: c.ids, reward: trueReward(this.vocab.words(c.ids)) });
      }
    }
    return this.refCache;
  }

  /** Mean r* of the reference's completions (cached). */
  referenceReward(): number {
    return meanAndStderr(this.referenceSamples().map((r) => r.reward)).mean;
  }

  /** Reward and KL of a policy given as Hugging Face tensors of the same architecture. */
  measure(policyWeights: Map<string, Float32Array>): FrontierPoint {
    const policy = new CpuGpt2(this.cfg, policyWeights);
    const ref = this.referenceSamples();
    const rewards: number[] = [];
    const kls: number[] = [];
    const sampledKls: number[] = [];
    const samples: FrontierSample[] = [];
    let k = 0;
    for (const [i, , seed] of this.jobs()) {
      const c = this.sample(policy, i, seed);
      const r = trueReward(this.vocab.words(c.ids));
      const kl = sequenceKl(policy, this.reference, this.promptIds[i], c.ids);
      rewards.push(r);
      kls.push(kl.exact);
      sampledKls.push(kl.sampled);
      samples.push({ prompt: this.options.prompts[i], policy: this.vocab.decode(c.ids), reference: this.vocab.decode(ref[k].ids), policyReward: r, referenceReward: ref[k].reward });
      k++;
    }
    const rw = meanAndStderr(rewards);
    return {
      reward: rw.mean,
      rewardStderr: rw.stderr,
      referenceReward: this.referenceReward(),
      kl: meanAndStderr(kls).mean,
      klSampled: meanAndStderr(sampledKls).mean,
      n: rewards.length,
      samples,
    };
  }

  /** The trainer's current policy (its weights are read back from the GPU: ~0.5 MB for the demo). */
  async measureTrainer(trainer: DpoTrainer): Promise<FrontierPoint> {
    return this.measure(await trainer.policyWeights());
  }
}
