// Sampling from a model (policy or reference) with temperature, top-k and top-p, seeded, stopping at
// EOS. Each new token reruns the forward pass over the prefix (no KV cache yet: fine for the short
// samples the playground shows, O(T^2) for long ones).
import type { Gpu } from '../gpu/context';
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

export async function generate(gpu: Gpu, model: Transformer, promptIds: readonly number[], o: GenerateOptions): Promise<number[]> {
  const rng = new Rng(o.seed);
  const ids = [...promptIds];
  const out: number[] = [];
  const limit = model.cfg.arch === 'gpt2' ? model.cfg.maxPositions : Infinity;
  for (let i = 0; i < o.maxNewTokens && ids.length < limit; i++) {
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
    const next = sampleToken(logits.subarray(0, model.cfg.vocabSize), o, rng);
    out.push(next);
    ids.push(next);
    if (o.eosTokenIds.includes(next)) break;
  }
  return out;
}
