// The trainer choice beside DPO, without Python: KTO's data as TRL prepares it (unpair, KL rotation), the
// memory estimate (no reference for CPO / SimPO / ORPO, one for KTO), the options TRL refuses or that do not
// apply, and the eval path of a CPO / ORPO / KTO run on the GPU (its eval_ metrics equal a training step's).
import { describe, expect, it } from 'vitest';
import { SMOLLM2_135M_CONFIG } from '../e2e/hub-server.mjs';
import { ktoExamples, ktoTrainRecords, unpairPreference, UNPAIR_MAP_BATCH } from '../src/dpo/kto-data';
import { DpoTrainer, defaultTrainerArgs, TrainerConfigError, validateArgs, type TrainerArgs } from '../src/dpo/trainer';
import type { TokenizedPair } from '../src/dpo/tokenize';
import { UnpairedDataError, unpairedRecord } from '../src/data/index';
import { countParameters, parameterSpecs, parseConfig } from '../src/model/config';
import { estimateMemory, fitOptions } from '../src/worker/memory';
import { randn, testGpu } from './helpers/gpu';

const pair = (i: number): TokenizedPair => ({ promptIds: [1, i], chosenIds: [10 + i, 2], rejectedIds: [20 + i, 21 + i, 2] });

describe('trainer choice: cpo, orpo, kto beside dpo', () => {
  it("KTO's data: pairs unpaired in datasets.map batches of 1000 (chosen then rejected), KL completions rotated by one within each train batch", () => {
    const pairs = Array.from({ length: 5 }, (_, i) => pair(i));
    const u = unpairPreference(pairs);
    expect(u.map((e) => [e.completionIds[0], e.label])).toEqual([[10, true], [11, true], [12, true], [13, true], [14, true], [20, false], [21, false], [22, false], [23, false], [24, false]]);
    const k = ktoExamples(pairs, 4);
    // batches [0..3], [4..7], [8, 9]: example i scores its own completion and its predecessor's (the first, the last's)
    expect(k.map((e) => e.rejectedIds[0])).toEqual([13, 10, 11, 12, 22, 14, 20, 21, 24, 23]);
    expect(k.map((e) => e.chosenIds[0])).toEqual([10, 11, 12, 13, 14, 20, 21, 22, 23, 24]);
    // beyond 1000 pairs the unpairing restarts per 1000-row batch, as datasets.map does
    const many = unpairPreference(Array.from({ length: UNPAIR_MAP_BATCH + 2 }, (_, i) => pair(i)));
    expect(many[UNPAIR_MAP_BATCH].label).toBe(false);
    expect(many[2 * UNPAIR_MAP_BATCH].label).toBe(true);
    expect(many[2 * UNPAIR_MAP_BATCH].completionIds[0]).toBe(10 + UNPAIR_MAP_BATCH);
  });


  it("KTO with shuffle: the unpaired examples shuffled once by the seed before the KL rotation, so the first batches mix both labels; the export's records follow that order", () => {
    const pairs = Array.from({ length: 20 }, (_, i) => ({ ...pair(i), row: i + 1 }));
    const plain = ktoExamples(pairs, 4);
    const k = ktoExamples(pairs, 4, 42);
    // unshuffled, the first 20 examples (5 batches) are all desirable: the trap the shuffle avoids
    expect(plain.slice(0, 20).every((e) => e.label)).toBe(true);
    expect(new Set(k.slice(0, 8).map((e) => e.label)).size).toBe(2);
    // the same examples (each pair's chosen and rejected once), in another order, the same for the same seed
    const key = (e: { row?: number; label?: boolean }) => `${e.row}:${e.label}`;
    expect(k.map(key).sort()).toEqual(plain.map(key).sort());
    expect(k.map(key)).not.toEqual(plain.map(key));
    expect(ktoExamples(pairs, 4, 42).map(key)).toEqual(k.map(key));
    expect(ktoExamples(pairs, 4, 7).map(key)).not.toEqual(k.map(key));
    // each example's own completion is its (row, label) side, and its KL completion its shuffled batch neighbour's
    for (const [i, e] of k.entries()) {
      expect(e.chosenIds[0]).toBe((e.label ? 10 : 20) + e.row! - 1);
      const b = Math.floor(i / 4) * 4;
      const prev = i === b ? Math.min(b + 3, k.length - 1) : i - 1;
      expect(e.rejectedIds).toEqual(k[prev].chosenIds);
    }
    // the export's file: the same records, in the trained order, in TRL's unpaired format
    const text = pairs.map((p) => ({ kind: 'standard' as const, row: p.row, prompt: `p${p.row}`, chosen: `c${p.row}`, rejected: `r${p.row}` }));
    const recs = ktoTrainRecords(k.map((e) => ({ row: e.row!, label: e.label! })), text, unpairedRecord);
    expect(recs.slice(0, 3)).toEqual(k.slice(0, 3).map((e) => ({ prompt: `p${e.row}`, completion: `${e.label ? 'c' : 'r'}${e.row}`, label: e.label })));
    expect(recs).toHaveLength(40);
  });
  it("KTO's unpaired data (TRL's prompt/completion/label): no unpairing, KL completions rotated within each train batch; other trainers refuse it", async () => {
    const labels = [true, false, true, true, false];
    const un: TokenizedPair[] = labels.map((label, i) => ({ promptIds: [1, i], chosenIds: [30 + i, 2], rejectedIds: [], label }));
    const k = ktoExamples(un, 2);
    expect(k.map((e) => [e.chosenIds[0], e.rejectedIds[0], e.label])).toEqual([[30, 31, true], [31, 30, false], [32, 33, true], [33, 32, true], [34, 34, false]]);
    expect(k.every((e, i) => e.promptIds[1] === i)).toBe(true);
    for (const [trainer, mode, who] of [['dpo', 'dpo', 'DPO'], ['orpo', 'dpo', 'ORPO'], ['kto', 'sft', 'SFT before the run']] as const) {
      const e = await DpoTrainer.create(await testGpu(), { config: parseConfig(SMOLLM2_135M_CONFIG), policy: new Map(), train: un, padId: 0, args: { trainer, mode } }).then(
        () => null,
        (x: unknown) => x as UnpairedDataError,
      );
      expect(e).toBeInstanceOf(UnpairedDataError);
      expect(e!.message).toContain(`which only KTO trains on: ${who} needs pairs (prompt, chosen, rejected). Choose the KTO trainer (--trainer kto)`);
      expect(e!.code).toBe('dataset.unpaired');
    }
  });

  it('memory estimate: CPO / SimPO and ORPO hold one copy of the weights, DPO and KTO two; no precompute advice where it cannot apply', () => {
    const cfg = parseConfig(SMOLLM2_135M_CONFIG);
    const P = countParameters(cfg);
    const limits = { maxBindingBytes: 2 ** 30, maxBufferBytes: 2 ** 30 };
    const w = (a: Partial<TrainerArgs>) => estimateMemory(cfg, { ...defaultTrainerArgs, ...a }, 256, limits).weightsBytes;
    expect(w({})).toBe(8 * P);
    expect(w({ trainer: 'kto' })).toBe(8 * P);
    expect(w({ trainer: 'cpo' })).toBe(4 * P);
    expect(w({ trainer: 'cpo', loss_type: 'simpo' })).toBe(4 * P);
    expect(w({ trainer: 'orpo' })).toBe(4 * P);
    const total = (a: Partial<TrainerArgs>) => estimateMemory(cfg, { ...defaultTrainerArgs, ...a }, 256, limits).totalBytes;
    const tight = (total({}) + total({ precompute_ref_log_probs: true })) / 2; // DPO does not fit, precomputing would
    expect(total({ trainer: 'cpo' })).toBeLessThan(tight); // and CPO fits as it is
    for (const trainer of ['cpo', 'orpo', 'kto'] as const) {
      for (const f of fitOptions(cfg, { ...defaultTrainerArgs, trainer }, 256, limits, tight)) expect(f.patch.precompute_ref_log_probs, `${trainer} ${f.label}`).toBeUndefined();
    }
    expect(fitOptions(cfg, defaultTrainerArgs, 256, limits, tight)[0].patch.precompute_ref_log_probs).toBe(true);
  });

  it('refuses what TRL refuses or what does not apply, in sentences', () => {
    const bad = (a: Partial<TrainerArgs>, re: RegExp) => {
      expect(() => validateArgs({ ...defaultTrainerArgs, ...a })).toThrow(TrainerConfigError);
      expect(() => validateArgs({ ...defaultTrainerArgs, ...a })).toThrow(re);
    };
    bad({ trainer: 'cpo', loss_type: 'bco_pair' }, /Unknown loss type: bco_pair\. Should be one of \['sigmoid', 'hinge', 'ipo', 'simpo'\]/);
    bad({ trainer: 'cpo', loss_type: 'simpo', precompute_ref_log_probs: true }, /CPO holds no reference model, so precompute_ref_log_probs does not apply/);
    bad({ trainer: 'orpo', loss_type: 'hinge' }, /ORPO has no loss_type/);
    bad({ trainer: 'orpo', label_smoothing: 0.1 }, /ORPO has no label_smoothing/);
    bad({ trainer: 'kto', per_device_train_batch_size: 1 }, /Actual \(not effective\) batch size must be > 1/);
    bad({ trainer: 'kto', desirable_weight: 0 }, /desirable_weight must be a positive number/);
    bad({ trainer: 'kto', loss_type: 'apo_zero_unpaired' }, /apo_zero_unpaired is not supported here/);
    bad({ trainer: 'cpo', use_weighting: true }, /use_weighting is a DPOTrainer option; CPOTrainer has none/);
    bad({ trainer: 'sppo' as never }, /Unknown trainer: sppo/);
    bad({ trainer: 'kto', truncation_mode: 'keep_end' }, /KTO has no truncation_mode \(got keep_end\): KTOTrainer keeps the first max_length tokens/);
    expect(() => validateArgs({ ...defaultTrainerArgs, trainer: 'cpo', loss_type: 'simpo', cpo_alpha: 0 })).not.toThrow();
    expect(() => validateArgs({ ...defaultTrainerArgs, trainer: 'kto' })).not.toThrow();
  });

  it('evaluate() of a CPO, ORPO and KTO run gives the eval_ metrics of the same batch as training logs them (lr 0)', async () => {
    const gpu = await testGpu();
    const cfg = parseConfig({ model_type: 'gpt2', vocab_size: 40, n_embd: 16, n_layer: 1, n_head: 2, n_positions: 64 });
    const tensors = new Map<string, Float32Array>();
    let seed = 1;
    for (const s of parameterSpecs(cfg)) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      tensors.set(s.name, s.kind === 'norm' ? new Float32Array(n).fill(1) : s.kind === 'bias' ? new Float32Array(n) : randn(n, seed++, 0.3));
    }
    const pairs = Array.from({ length: 4 }, (_, i) => ({ promptIds: [1, 3 + i, 5], chosenIds: [7 + i, 9, 2], rejectedIds: [11 + i, 2] }));
    for (const trainer of ['cpo', 'orpo', 'kto'] as const) {
      const args = { ...defaultTrainerArgs, trainer, learning_rate: 0, per_device_train_batch_size: 4, per_device_eval_batch_size: 4, max_steps: 1, shuffle: false, compute_kl: false };
      // KTO's 8 examples: train on the first batch of 4, evaluate on the same 4 (the eval set is unpaired too)
      const t = await DpoTrainer.create(gpu, { config: cfg, policy: tensors, train: trainer === 'kto' ? pairs.slice(0, 2) : pairs, eval: trainer === 'kto' ? pairs.slice(0, 2) : pairs, padId: 0, args });
      try {
        const logs: Record<string, number>[] = [];
        await t.train({ onLog: (r) => logs.push(r) });
        const { metrics, pairs: recs } = await t.evaluate();
        expect(recs.length).toBe(4);
        const keys = Object.keys(logs[0]).filter((k) => !['grad_norm', 'learning_rate', 'tokens/s', 'epoch', 'step', 'num_tokens'].includes(k));
        expect(keys.length, trainer).toBeGreaterThan(6);
        for (const k of keys) expect(metrics[`eval_${k}`], `${trainer} eval_${k}`).toBeCloseTo(logs[0][k], 5);
        for (const r of recs) expect(Number.isFinite(r.weight)).toBe(true);
      } finally {
        t.release();
      }
    }
  }, 120_000);
});
