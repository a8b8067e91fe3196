// Sampling from a model (policy or reference) with temperature, top-k and top-p, seeded, stopping at
// EOS. `generate` runs the prompt once and then one row per new token against a KV cache
// (model/decode.ts); `generateNoCache` reruns the whole forward over the prefix for every token
// (O(T^2), kept as the reference the cached path is tested against). Same seed, same tokens.
import type { Gpu } from '../gpu/context';
import { KvDecoder } from '../model/decode';
import { NO_TARGET, type Transformer } from '../model/transformer';
import { Rng } from '../data/split';

export interface GenerateOptions {
  maxNewTokens: number;
  temperature: number;
  topK: number; // 0 = off
  topP: number; // 1 = off
  seed: number;
  eosTokenIds: number[];
}

export const defaultGenerateOptions: GenerateOptions = { maxNewTokens: 32, temperature: 1, topK: 0, topP: 1, seed: 0, eosTokenIds: [] };

/** Picks the next token from logits (temperature 0 = greedy). Exported for tests. */
export function sampleToken(logits: Float32Array, o: Pick<GenerateOptions, 'temperature' | 'topK' | 'topP'>, rng: Rng): number {
  const V = logits.length;
  if (o.temperature <= 0) {
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[v] > logits[best]) best = v;
    return best;
  }
  let idx = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a]);
  if (o.topK > 0) idx = idx.slice(0, o.topK);
  const m = logits[idx[0]];
  let probs = idx.map((v) => Math.exp((logits[v] - m) / o.temperature));
  let z = probs.reduce((a, b) => a + b, 0);
  probs = probs.map((p) => p / z);
  if (o.topP < 1) {
    let cum = 0;
    let keep = 0;
    while (keep < probs.length && (keep === 0 || cum < o.topP)) cum += probs[keep++];
    idx = idx.slice(0, keep);
    probs = probs.slice(0, keep);
    z = probs.reduce((a, b) => a + b, 0);
    probs = probs.map((p) => p / z);
  }
  let u = rng.next();
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i];
    if (u <= 0) return idx[i];
  }
  return idx[idx.length - 1];
}

/** Optional observers (tests, diagnostics): the logits each new token was sampled from. */
export interface GenerateHooks {
  onLogits?: (step: number, logits: Float32Array) => void;
}

/** Number of tokens a generation may add: max_new_tokens, and GPT-2's n_positions. */
function newTokenBudget(model: Transformer, promptLength: number, o: GenerateOptions): number {
  const limit = model.cfg.arch === 'gpt2' ? model.cfg.maxPositions : Infinity;
  return Math.max(0, Math.min(Math.floor(o.maxNewTokens), limit - promptLength));
}

function checkPrompt(model: Transformer, promptIds: readonly number[]): void {
  if (promptIds.length === 0) throw new RangeError('generate: the prompt is empty; give at least one token (e.g. the BOS token).');
  const V = model.cfg.vocabSize;
  const bad = promptIds.find((t) => !Number.isInteger(t) || t < 0 || t >= V);
  if (bad !== undefined) throw new RangeError(`generate: prompt token id ${bad} is outside the model's vocabulary of ${V}; was the prompt tokenized with this model's tokenizer?`);
}

/** Samples up to maxNewTokens tokens after the prompt (stops after an EOS token), with a KV cache. */
export async function generate(gpu: Gpu, model: Transformer, promptIds: readonly number[], o: GenerateOptions, hooks: GenerateHooks = {}): Promise<number[]> {
  checkPrompt(model, promptIds);
  const steps = newTokenBudget(model, promptIds.length, o);
  if (steps === 0) return [];
  const rng = new Rng(o.seed);
  const V = model.cfg.vocabSize;
  const out: number[] = [];
  // rows for the prompt and every new token but the last (whose logits are never needed)
  const dec = new KvDecoder(model, promptIds.length + steps - 1);
  try {
    let logitsT = dec.prefill(promptIds);
    for (let i = 0; ; i++) {
      const [logits] = await gpu.read(logitsT);
      gpu.release(logitsT);
      hooks.onLogits?.(i, logits.subarray(0, V));
      const next = sampleToken(logits.subarray(0, V), o, rng);
      out.push(next);
      if (o.eosTokenIds.includes(next) || out.length >= steps) break;
      logitsT = dec.step(next);
    }
  } finally {
    dec.release();
  }
  return out;
}

/** The same sampling without a cache: the whole forward over the prefix for every new token. */
export async function generateNoCache(gpu: Gpu, model: Transformer, promptIds: readonly number[], o: GenerateOptions, hooks: GenerateHooks = {}): Promise<number[]> {
  checkPrompt(model, promptIds);
  const steps = newTokenBudget(model, promptIds.length, o);
  const rng = new Rng(o.seed);
  const ids = [...promptIds];
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const T = ids.length;
    const seq = {
      S: 1,
      T,
      ids: gpu.upload(Uint32Array.from(ids)),
      pos: gpu.upload(Uint32Array.from({ length: T }, (_, t) => t)),
      targets: gpu.upload(new Uint32Array(T).fill(NO_TARGET)),
    };
    const state = model.forward(seq, false);
    const logitsT = model.rowLogits(state, T - 1);
    const [logits] = await gpu.read(logitsT);
    gpu.release(logitsT, seq.ids, seq.pos, seq.targets);
    model.releaseState(state);
    hooks.onLogits?.(i, logits.subarray(0, model.cfg.vocabSize));
    const next = sampleToken(logits.subarray(0, model.cfg.vocabSize), o, rng);
    out.push(next);
    ids.push(next);
    if (o.eosTokenIds.includes(next)) break;
  }
  return out;
}
