// The shipped classroom demo (public/demo/): the CPU sampler is the engine's model, the committed
// preference pairs are what scripts/demo/build-demo.ts produces from the committed model, and a short
// DPO run on them moves the true reward r* of the policy's samples clearly above the reference's, with
// a larger beta staying closer to the reference (smaller KL).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairCandidate, loadDemoModel, pairLine, PAIRS, RECOMMENDED } from '../scripts/demo/build-demo';
import { loadPreferenceDataset } from '../src/data/index';
import { CpuGpt2, DemoVocab, FrontierProbe, meanAndStderr, sampleCompletion, sequenceKl, tokenKl } from '../src/demo/frontier';
import { trueReward } from '../src/demo/reward';
import { DpoTrainer } from '../src/dpo/trainer';
import { tokenizeDataset } from '../src/dpo/tokenize';
import { createParams, fromHf, releaseParams } from '../src/model/params';
import { loadTokenizer } from '../src/model/tokenizer';
import { NO_TARGET, Transformer } from '../src/model/transformer';
import { maxRelErr, testGpu } from './helpers/gpu';

const DEMO = join(__dirname, '..', 'public', 'demo');
const read = (f: string): string => readFileSync(join(DEMO, f), 'utf8');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const vocab = DemoVocab.fromTokenizerJson(read('tokenizer.json'));
const tok = loadTokenizer({ tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json') });
const demo = loadDemoModel();
const manifest = JSON.parse(read('manifest.json')) as { sha256: Record<string, string>; recommended: typeof RECOMMENDED; model: string; train: string; eval: string; prompts: string };
const heldOut = JSON.parse(read('prompts-heldout.json')) as string[];
const trainPrompts = JSON.parse(read('prompts-train.json')) as string[];

describe('demo model', () => {
  it('is a small GPT-2 over the demo tokenizer, and the CPU sampler computes the engine\'s logits', async () => {
    const { cfg, weights } = demo;
    expect(cfg.arch).toBe('gpt2');
    expect(cfg.vocabSize).toBe(vocab.size);
    expect(cfg.vocabSize).toBe(tok.vocabSize);
    expect(read('model/tokenizer.json')).toBe(read('tokenizer.json'));
    let n = 0;
    for (const w of weights.values()) n += w.length;
    expect(n).toBeLessThan(1_000_000);
    const gpu = await testGpu();
    const params = createParams(gpu, cfg, fromHf(cfg, weights));
    const model = new Transformer(gpu, cfg, params);
    const ids = vocab.encode('i watched this movie with my mom and it was');
    const T = ids.length;
    const seq = { S: 1, T, ids: gpu.upload(Uint32Array.from(ids)), pos: gpu.upload(Uint32Array.from({ length: T }, (_, t) => t)), targets: gpu.upload(new Uint32Array(T).fill(NO_TARGET)) };
    const state = model.forward(seq, false);
    const logitsT = model.rowLogits(state, T - 1);
    const [gpuLogits] = await gpu.read(logitsT);
    gpu.release(logitsT, seq.ids, seq.pos, seq.targets);
    model.releaseState(state);
    releaseParams(gpu, params);
    const cpu = new CpuGpt2(cfg, weights);
    const cpuLogits = cpu.prefill(ids, cpu.newCache());
    expect(maxRelErr(gpuLogits, cpuLogits)).toBeLessThan(1e-4);
  });

  it('writes fluent reviews of mixed sentiment from held-out openings', () => {
    const cpu = new CpuGpt2(demo.cfg, demo.weights);
    const rewards: number[] = [];
    let finished = 0;
    for (let i = 0; i < 24; i++) {
      const c = sampleCompletion(cpu, vocab.encode(heldOut[i]), { maxNewTokens: 60, temperature: 1, seed: 100 + i, eosId: vocab.eosId });
      if (c.finished) finished++;
      rewards.push(trueReward(vocab.words(c.ids)));
      expect(c.ids).not.toContain(vocab.unkId);
    }
    expect(finished).toBeGreaterThanOrEqual(22);
    expect(rewards.filter((r) => r > 0.05).length).toBeGreaterThanOrEqual(3);
    expect(rewards.filter((r) => r < -0.05).length).toBeGreaterThanOrEqual(3);
  });
});

describe('demo preference pairs', () => {
  const trainText = read('pairs-train.jsonl');
  const evalText = read('pairs-eval.jsonl');

  it('match the manifest checksums, counts and TRL standard format', async () => {
    expect(sha256(trainText)).toBe(manifest.sha256['pairs-train.jsonl']);
    expect(sha256(evalText)).toBe(manifest.sha256['pairs-eval.jsonl']);
    expect(manifest.model).toBe('demo/model');
    expect(manifest.prompts).toBe('demo/prompts-heldout.json');
    const ds = await loadPreferenceDataset(new TextEncoder().encode(trainText));
    expect(ds.format).toMatch(/standard/);
    expect(ds.pairs.length).toBe(PAIRS.train);
    expect(evalText.trimEnd().split('\n').length).toBe(PAIRS.eval);
  });

  it('every pair prefers the higher true reward and tokenizes as prompt + completion (TRL)', async () => {
    const lines = [...trainText.trimEnd().split('\n'), ...evalText.trimEnd().split('\n')].map((l) => JSON.parse(l) as { prompt: string; chosen: string; rejected: string });
    for (const p of lines) expect(trueReward(p.chosen)).toBeGreaterThan(trueReward(p.rejected));
    const ds = await loadPreferenceDataset(new TextEncoder().encode(trainText));
    const { examples, prefixMismatches } = tokenizeDataset(tok, ds.pairs.slice(0, 300), { maxLength: 64 });
    expect(prefixMismatches).toBe(0);
    for (const e of examples) {
      expect(e.chosenIds.at(-1)).toBe(vocab.eosId);
      expect(e.promptIds.length + e.chosenIds.length).toBeLessThanOrEqual(64);
      expect(e.chosenIds).not.toContain(vocab.unkId);
    }
    const chosenMean = meanAndStderr(lines.map((p) => trueReward(p.chosen))).mean;
    const rejectedMean = meanAndStderr(lines.map((p) => trueReward(p.rejected))).mean;
    // best-of-8 vs worst-of-8 (two samples gave a gap of 0.066)
    expect(chosenMean - rejectedMean).toBeGreaterThan(0.14);
  });

  it('the first pairs are regenerated exactly by the build script from the committed model', () => {
    const cpu = new CpuGpt2(demo.cfg, demo.weights);
    const committed = trainText.split('\n', 12);
    const regenerated: string[] = [];
    for (let i = 0; regenerated.length < committed.length; i++) {
      const c = pairCandidate(cpu, vocab, trainPrompts[i], i);
      if (c.pair) regenerated.push(pairLine(c.pair));
    }
    expect(regenerated).toEqual(committed);
    // another seed gives other completions
    const other = pairCandidate(cpu, vocab, trainPrompts[0], 0, { ...PAIRS, seed: PAIRS.seed + 1 });
    expect(other.rewards).not.toEqual(pairCandidate(cpu, vocab, trainPrompts[0], 0).rewards);
  });
});

describe('frontier helpers', () => {
  it('token KL is zero for equal distributions and matches a hand computation', () => {
    const lp = [Math.log(0.5), Math.log(0.5)];
    const lq = [Math.log(0.25), Math.log(0.75)];
    expect(tokenKl(lp, lp)).toBe(0);
    expect(tokenKl(lp, lq)).toBeCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(0.5 / 0.75), 12);
    const cpu = new CpuGpt2(demo.cfg, demo.weights);
    const kl = sequenceKl(cpu, cpu, vocab.encode('the movie was'), vocab.encode('great.'));
    expect(kl.exact).toBe(0);
    expect(kl.sampled).toBe(0);
  });

  it('the vocabulary matches the tokenizer and decode re-encodes to the same ids', () => {
    for (const p of heldOut.slice(0, 50)) expect(vocab.encode(p)).toEqual(tok.encode(p));
    const ids = vocab.encode('it was great. , ! i liked it');
    expect(vocab.encode(vocab.decode(ids))).toEqual(ids);
    expect(tok.encode(vocab.decode(ids))).toEqual(ids);
  });
});

describe('a short DPO run on the shipped demo', () => {
  // Seeds: trainer seed 42, pairs in file order from the start of pairs-train.jsonl (one epoch), frontier
  // seed 7 on the first 32 held-out prompts. Measured on SwiftShader (best-of-8 pairs): reference r* 0.013;
  // beta 0.1, lr 2e-3, 16 steps of 8 pairs: r* 0.053 +- 0.005, KL 41.5 nats; lr 1e-3, 24 steps: beta 0.1
  // r* 0.056 KL 19.7 nats, beta 1.0 r* 0.049 KL 11.4 nats. Recommended settings (beta 0.1, lr 2e-3,
  // batch 16), 40 steps: reward accuracy 0.438 over steps 1-5 -> 0.875 over steps 31-40, margin 0 -> 2.15.
  const run = async (beta: number, learningRate: number, steps: number, batch = 8) => {
    const gpu = await testGpu();
    const ds = await loadPreferenceDataset(new TextEncoder().encode(read('pairs-train.jsonl')));
    const train = tokenizeDataset(tok, ds.pairs.slice(0, batch * steps), { maxLength: 64 }).examples;
    const trainer = await DpoTrainer.create(gpu, {
      config: demo.cfg,
      policy: demo.weights,
      train,
      padId: tok.padId,
      args: { ...RECOMMENDED, beta, learning_rate: learningRate, lr_scheduler_type: 'constant', max_steps: steps, per_device_train_batch_size: batch, logging_steps: 1, compute_kl: false, seed: 42 } as never,
    });
    const logs: Record<string, number>[] = [];
    await trainer.train({ onLog: (r) => logs.push(r) });
    const weights = await trainer.policyWeights();
    trainer.release();
    return { weights, logs };
  };
  const probe = new FrontierProbe(demo.cfg, demo.weights, vocab, { prompts: heldOut.slice(0, 32), samplesPerPrompt: 1, maxNewTokens: 48, seed: 7 });

  it('raises the true reward of the policy\'s samples clearly above the reference\'s', async () => {
    const r = await run(0.1, 2e-3, 16);
    const p = probe.measure(r.weights);
    console.log(`reference r* ${p.referenceReward.toFixed(3)}; beta 0.1 lr 2e-3 16 steps: r* ${p.reward.toFixed(3)} +- ${p.rewardStderr.toFixed(3)}, KL ${p.kl.toFixed(2)}`);
    expect(p.referenceReward).toBeLessThan(0.04);
    expect(p.reward).toBeGreaterThan(p.referenceReward + 0.03);
    expect(p.kl).toBeGreaterThan(0);
    expect(p.samples.filter((s) => s.policyReward > s.referenceReward).length).toBeGreaterThan(p.samples.filter((s) => s.policyReward < s.referenceReward).length);
  }, 600_000);

  it('with the recommended settings the reward accuracy climbs towards 1 within 40 steps', async () => {
    const { logs } = await run(RECOMMENDED.beta, RECOMMENDED.learning_rate, 40, RECOMMENDED.per_device_train_batch_size);
    const acc = (from: number, to: number) => meanAndStderr(logs.slice(from, to).map((r) => r['rewards/accuracies'])).mean;
    const first = acc(0, 5);
    const last = acc(30, 40);
    const margins = logs.map((r) => r['rewards/margins']);
    console.log(`recommended settings: reward accuracy ${first.toFixed(3)} (steps 1-5) -> ${last.toFixed(3)} (steps 31-40), margin ${margins[0].toFixed(3)} -> ${margins[39].toFixed(3)}`);
    expect(logs.length).toBe(40);
    expect(first).toBeLessThan(0.7);
    expect(last).toBeGreaterThan(0.8); // measured 0.875 (two-sample pairs stalled at ~0.6)
    expect(margins[39]).toBeGreaterThan(1);
  }, 600_000);

  it('a larger beta stays closer to the reference (smaller KL) after the same steps', async () => {
    const small = probe.measure((await run(0.1, 1e-3, 24)).weights);
    const large = probe.measure((await run(1.0, 1e-3, 24)).weights);
    console.log(`lr 1e-3, 24 steps: beta 0.1 r* ${small.reward.toFixed(3)} KL ${small.kl.toFixed(2)}; beta 1.0 r* ${large.reward.toFixed(3)} KL ${large.kl.toFixed(2)}`);
    expect(large.kl).toBeGreaterThan(0);
    expect(large.kl).toBeLessThan(0.75 * small.kl);
  }, 600_000);
});
