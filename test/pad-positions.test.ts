// Pad positions attend to their sequence's real tokens only (the per-sequence key lengths the batch hands to
// attention, as transformers' attention_mask does), which TRL's CPO/ORPO logits/* means need; everything the
// loss and the gradients see must stay exactly as without the mask: pad rows get no upstream gradient, so
// the policy's log-probs, losses and every parameter gradient are bit-identical with and without the
// lengths, on the golden fixtures' GPT-2, Llama and Qwen3 (padded pairs), with and without gradient checkpointing.
// The numbers at pad rows themselves are judged against TRL in test/parity-trainers.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { releasePairBatch, uploadPairBatch, type GpuPairBatch } from '../src/dpo/gpu-batch';
import { preferenceMicroStep, type PreferenceStepResult } from '../src/dpo/preference-step';
import { collate, type TokenizedPair } from '../src/dpo/tokenize';
import { createParams, downloadParams, fromHf, releaseParams } from '../src/model/params';
import { Transformer } from '../src/model/transformer';
import { loadCheckpoint, nodeFolderSource } from '../src/model/weights';
import { testGpu } from './helpers/gpu';
import { sharedDir } from './helpers/paths';

const MODELS = {
  'gpt2-tiny': join(sharedDir(), 'fixtures/gpt2-tiny'),
  'llama-tiny': join(sharedDir(), 'fixtures/llama-tiny'),
  'qwen3-headdim': join(process.cwd(), 'test/fixtures/golden/qwen3-headdim'),
};
type Model = keyof typeof MODELS;

interface FixtureBatch {
  pad_id: number;
  pairs: { prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[] }[];
}

async function step(model: Model, kind: 'cpo_sigmoid' | 'orpo', withLens: boolean, checkpointing: boolean) {
  const gpu = await testGpu();
  const dir = MODELS[model];
  const fb = JSON.parse(readFileSync(join(dir, 'batch.json'), 'utf8')) as FixtureBatch;
  const pairs: TokenizedPair[] = fb.pairs.map((p) => ({ promptIds: p.prompt_ids, chosenIds: p.chosen_ids, rejectedIds: p.rejected_ids }));
  const host = collate(pairs, fb.pad_id);
  const ck = await loadCheckpoint(nodeFolderSource(join(dir, 'policy')));
  const params = createParams(gpu, ck.config, fromHf(ck.config, ck.tensors));
  const grads = createParams(gpu, ck.config, null);
  const policy = new Transformer(gpu, ck.config, params);
  policy.gradientCheckpointing = checkpointing;
  const uploaded = uploadPairBatch(gpu, host);
  const batch: GpuPairBatch = withLens ? uploaded : { ...uploaded, seq: { ...uploaded.seq, lens: undefined } };
  let r: PreferenceStepResult;
  try {
    r = await preferenceMicroStep(gpu, policy, null, host, batch, {
      kind, beta: 0.1, labelSmoothing: 0, cpoAlpha: 1, simpoGamma: 0.5, desirableWeight: 1, undesirableWeight: 1, gradScale: 1, grads,
    });
  } finally {
    releasePairBatch(gpu, uploaded);
  }
  const g = await downloadParams(gpu, grads);
  releaseParams(gpu, params);
  releaseParams(gpu, grads);
  return { r, g, host };
}

describe('pad positions: masked attention changes only what pad rows compute', () => {
  for (const model of Object.keys(MODELS) as Model[]) for (const kind of ['cpo_sigmoid', 'orpo'] as const) {
    it(`${model}, ${kind}: log-probs, losses and every gradient are bit-identical with and without key lengths; pad rows' logits move`, async () => {
      const masked = await step(model, kind, true, false);
      const plain = await step(model, kind, false, false);
      const { host } = masked;
      // the batch pads: sequences of several lengths, so there are pad rows to change
      expect(new Set(host.seqLens).size).toBeGreaterThan(1);
      expect(Math.min(...host.seqLens)).toBeLessThan(host.T);
      expect(masked.r.policyLogps).toEqual(plain.r.policyLogps);
      expect(masked.r.losses).toEqual(plain.r.losses);
      expect(masked.r.dlogp).toEqual(plain.r.dlogp);
      expect(masked.r.stats).toEqual(plain.r.stats); // CPO's / ORPO's NLL and log-odds
      expect([...masked.g.keys()]).toEqual([...plain.g.keys()]);
      let nonzero = 0;
      for (const [name, a] of masked.g) {
        expect(a, name).toEqual(plain.g.get(name));
        nonzero += a.some((x) => x !== 0) ? 1 : 0;
      }
      expect(nonzero).toBeGreaterThan(masked.g.size / 2);
      // TRL's logits/* sum over every position, pads included: those differ once pads see only real keys
      const moved = masked.r.logitSums.map((s, i) => Math.abs(s - plain.r.logitSums[i]) / Math.abs(plain.r.logitSums[i]));
      console.log(`${model} ${kind}: logits sums (chosen, rejected) moved by ${moved.map((x) => x.toExponential(2)).join(', ')} relative`);
      expect(Math.max(...moved)).toBeGreaterThan(1e-2);
      // recomputed blocks (gradient checkpointing) get the same key lengths
      const ckpt = await step(model, kind, true, true);
      expect(ckpt.r.logitSums).toEqual(masked.r.logitSums);
      for (const [name, a] of masked.g) expect(ckpt.g.get(name), name).toEqual(a);
    });
  }
});
