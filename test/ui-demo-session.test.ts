// The worker's side of the demo's reward-vs-KL frontier, in Node (Dawn + SwiftShader): a run that asks
// for the probe gets a measurement at step 0 (policy == reference: KL 0, same reward), every N steps and
// at the end; the numbers equal an independent FrontierProbe on the trained weights; a second run (as
// in a beta sweep) reuses the reference's samples; bad probe settings turn the frontier off with a
// sentence and training goes on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tinyGpt2 } from '../e2e/fixture.mjs';
import { DemoVocab, FrontierProbe } from '../src/demo/frontier';
import { loadCheckpoint, mapSource } from '../src/model/weights';
import { Session } from '../src/worker/session';
import type { FrontierMeasurement, FrontierSpec, WorkerEvent } from '../src/worker/protocol';
import { pageDefaultArgs } from '../src/ui/params';

const demo = join(__dirname, '..', 'public', 'demo');
const tokJson = readFileSync(join(demo, 'tokenizer.json'), 'utf8');
const vocab = Object.keys(JSON.parse(tokJson).model.vocab).length;
const { config, weights } = tinyGpt2(vocab, { n_embd: 16, n_layer: 1, n_head: 2, n_positions: 32, seed: 5 });
const modelFiles = () => [new File([JSON.stringify(config)], 'config.json'), new File([weights.slice()], 'model.safetensors'), new File([tokJson], 'tokenizer.json')];
const prompts: string[] = JSON.parse(readFileSync(join(demo, 'prompts-heldout.json'), 'utf8')).slice(0, 11);
const pairs = prompts.map((p, i) => ({ prompt: p, chosen: ' i loved it. it was great.', rejected: i % 2 ? ' i hated it. it was awful.' : ' it was boring and bad.' }));
const jsonl = new TextEncoder().encode(pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
const split = { evalFraction: 0.3, seed: 1, maxEval: 8 };
const args = { ...pageDefaultArgs, max_steps: 5, per_device_train_batch_size: 3, per_device_eval_batch_size: 4, learning_rate: 0.03, eval_steps: 0, max_length: 24, beta: 0.1 };
const spec: FrontierSpec = { prompts: prompts.slice(0, 3), everySteps: 2, samplesPerPrompt: 1, maxNewTokens: 7, temperature: 1, seed: 7 };

const points = (events: WorkerEvent[]): FrontierMeasurement[] => events.filter((e): e is Extract<WorkerEvent, { type: 'frontier' }> => e.type === 'frontier').map((e) => e.point);

describe('frontier probe in the training session', () => {
  it('measures at step 0, every N steps and at the end, with the probe\'s own numbers', async () => {
    const events: WorkerEvent[] = [];
    const s = new Session((e) => events.push(e));
    await s.init();
    await s.loadModel({ kind: 'files', files: modelFiles() });
    await s.loadDataset({ kind: 'bytes', name: 'pairs.jsonl', bytes: jsonl }, split, 24);
    const r = await s.start({ args, sftSteps: 0, frontier: spec });
    expect(r.end).toBe('finished');
    const ps = points(events);
    expect(ps.map((p) => p.step)).toEqual([0, 2, 4, 5]);
    const [p0] = ps;
    expect(p0.kl).toBe(0);
    expect(p0.klSampled).toBe(0);
    expect(p0.reward).toBe(p0.referenceReward);
    expect(p0.n).toBe(3);
    expect(p0.samples.map((x) => x.prompt)).toEqual(spec.prompts);
    for (const x of p0.samples) expect(x.policy).toBe(x.reference); // same model, same seed
    for (const p of ps) expect(p.referenceReward).toBe(p0.referenceReward);
    const last = ps.at(-1)!;
    expect(last.kl).toBeGreaterThan(1e-4); // it trained away from the reference
    // an independent probe on the trained weights gives the same numbers
    const orig = await loadCheckpoint(mapSource(new Map([['config.json', new TextEncoder().encode(JSON.stringify(config))], ['model.safetensors', weights]])));
    const probe = new FrontierProbe(orig.config, orig.tensors, DemoVocab.fromTokenizerJson(tokJson), { ...spec });
    const again = probe.measure(await s.trainer!.policyWeights());
    expect(again.reward).toBeCloseTo(last.reward, 12);
    expect(again.kl).toBeCloseTo(last.kl, 12);
    expect(again.referenceReward).toBeCloseTo(last.referenceReward, 12);

    // a second run with another beta (a sweep): its own curve, the same reference samples
    events.length = 0;
    const r2 = await s.start({ args: { ...args, beta: 1, max_steps: 2 }, sftSteps: 0, frontier: spec });
    expect(r2.end).toBe('finished');
    const ps2 = points(events);
    expect(ps2.map((p) => p.step)).toEqual([0, 2]);
    expect(ps2[0].referenceReward).toBe(p0.referenceReward);
    expect(ps2[0].samples.map((x) => x.reference)).toEqual(p0.samples.map((x) => x.reference));

    // a run without the probe sends no measurement; bad settings turn it off with a sentence
    events.length = 0;
    await s.start({ args: { ...args, max_steps: 1 }, sftSteps: 0 });
    expect(points(events)).toEqual([]);
    events.length = 0;
    const r3 = await s.start({ args: { ...args, max_steps: 1 }, sftSteps: 0, frontier: { ...spec, everySteps: 0 } });
    expect(r3.end).toBe('finished');
    expect(points(events)).toEqual([]);
    const status = events.filter((e): e is Extract<WorkerEvent, { type: 'status' }> => e.type === 'status').map((e) => e.message);
    expect(status).toContain('The reward-vs-KL frontier is off for this run: The frontier is measured every N steps with N a positive whole number, not 0.');
  });
});
