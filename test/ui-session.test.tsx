// The training worker's session in Node (Dawn + SwiftShader): a tiny GPT-2 loaded from "files from
// disk", a dataset, a run that streams batched metrics, pauses, resumes, samples, exports a zip that
// loads back, and a saved state that a fresh session continues from. Errors come back as sentences.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { tinyGpt2 } from '../e2e/fixture.mjs';
import { Session } from '../src/worker/session';
import type { WorkerEvent, LogRecord } from '../src/worker/protocol';
import { pageDefaultArgs } from '../src/ui/params';
import { loadCheckpoint, mapSource } from '../src/model/weights';

const demo = join(__dirname, '..', 'public', 'demo');
const tokJson = readFileSync(join(demo, 'tokenizer.json'), 'utf8');
const vocab = Object.keys(JSON.parse(tokJson).model.vocab).length;
const { config, weights } = tinyGpt2(vocab, { n_embd: 16, n_layer: 1, n_head: 2, n_positions: 32, seed: 3 });
const modelFiles = () => [
  new File([JSON.stringify(config)], 'config.json'),
  new File([weights.slice()], 'model.safetensors'),
  new File([tokJson], 'tokenizer.json'),
  new File([readFileSync(join(demo, 'tokenizer_config.json'))], 'tokenizer_config.json'),
];
const words = readFileSync(join(demo, 'prompts-heldout.json'), 'utf8');
const prompts: string[] = JSON.parse(words).slice(0, 13);
const pairs = prompts.map((p, i) => ({ prompt: p, chosen: ' i loved it. it was great.', rejected: i % 2 ? ' i hated it. it was awful.' : ' it was boring.' }));
const jsonl = new TextEncoder().encode(pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
const split = { evalFraction: 0.25, seed: 1, maxEval: 8 };
const args = { ...pageDefaultArgs, max_steps: 3, per_device_train_batch_size: 3, per_device_eval_batch_size: 4, learning_rate: 0.01, eval_steps: 0, max_length: 24 };

function newSession() {
  const events: WorkerEvent[] = [];
  const s = new Session((e) => events.push(e));
  return { s, events, logs: () => events.filter((e): e is Extract<WorkerEvent, { type: 'logs' }> => e.type === 'logs').flatMap((e) => e.records) };
}

describe('training session (worker side)', () => {
  it('refuses requests out of order with sentences', async () => {
    const { s } = newSession();
    await s.init();
    await expect(s.start({ args, sftSteps: 0 })).rejects.toThrow('Load a model first.');
    await expect(s.loadModel({ kind: 'files', files: [] })).rejects.toThrow(/No files were picked/);
    await expect(s.loadModel({ kind: 'files', files: modelFiles().filter((f) => f.name !== 'tokenizer.json') })).rejects.toThrow(/has no tokenizer\.json/);
    await expect(s.loadModel({ kind: 'hub', hubUrl: 'https://huggingface.co', repo: 'not a repo id' })).rejects.toThrow(/is not a Hugging Face repo id/);
    await expect(s.loadDataset({ kind: 'bytes', name: 'x.jsonl', bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2]) }, split, 24)).rejects.toThrow(/\.$/);
  });

  it('trains with batched metrics, pauses, resumes, samples, exports, and continues from a saved state', async () => {
    const { s, events, logs } = newSession();
    const gpu = await s.init();
    expect(gpu.maxBindingBytes).toBeGreaterThan(0);
    const info = await s.loadModel({ kind: 'files', files: modelFiles() });
    expect(info).toMatchObject({ modelType: 'gpt2', layers: 1, hidden: 16, vocabSize: vocab, dtype: 'F32' });
    expect(info.parameters).toBe(vocab * 16 + 32 * 16 + (4 * 16 + 16 * 48 + 48 + 16 * 16 + 16 + 16 * 64 + 64 + 64 * 16 + 16) + 2 * 16);
    const ds = await s.loadDataset({ kind: 'bytes', name: 'pairs.jsonl', bytes: jsonl }, split, 24);
    expect(ds.format).toBe('standard');
    expect(ds.report.kept).toBe(13);
    expect(ds.trainPairs + ds.evalPairs).toBe(13);
    expect(ds.evalPairs).toBe(3); // round(0.25 * 13)
    expect(ds.evalRows.map((r) => r.prompt).every((p) => prompts.includes(p))).toBe(true);
    expect(ds.maxTokens).toBeGreaterThan(5);

    // pause as soon as the first metrics arrive
    const run = s.start({ args, sftSteps: 0 });
    await expect(s.start({ args, sftSteps: 0 })).rejects.toThrow(/already going/);
    while (!events.some((e) => e.type === 'logs')) await new Promise((r) => setTimeout(r, 20));
    s.pause();
    const paused = await run;
    expect(paused.end).toBe('paused');
    expect(paused.step).toBeGreaterThanOrEqual(1);
    expect(paused.step).toBeLessThan(3);
    expect(paused.state?.byteLength).toBeGreaterThan(0);
    const first: LogRecord = logs()[0];
    expect(first.step).toBe(1);
    expect(first.loss).toBeCloseTo(Math.LN2, 5); // policy == reference at the first step
    for (const k of ['rewards/chosen', 'rewards/rejected', 'rewards/margins', 'rewards/accuracies', 'logps/chosen', 'logps/rejected', 'kl/token_mean_exact', 'grad_norm', 'learning_rate']) {
      expect(Number.isFinite(first[k]), k).toBe(true);
    }
    expect(events.some((e) => e.type === 'progress' && e.totalSteps === 3)).toBe(true);

    const done = await s.resume();
    expect(done.end).toBe('finished');
    expect(done.step).toBe(3);
    expect(logs().map((r) => r.step)).toEqual([1, 2, 3]);
    // a final evaluation with one record per eval pair
    const ev = events.find((e): e is Extract<WorkerEvent, { type: 'eval' }> => e.type === 'eval');
    expect(ev?.pairs.length).toBe(3);
    for (const p of ev!.pairs) expect(p.weight).toBeCloseTo(1 / (1 + Math.exp(p.margin)), 5);
    await expect(s.resume()).rejects.toThrow(/finished/);

    const samples = await s.sample([prompts[0]], { maxNewTokens: 3, temperature: 1, topK: 0, topP: 1, seed: 5 });
    expect(samples[0].prompt).toBe(prompts[0]);
    expect(typeof samples[0].policy).toBe('string');
    expect(typeof samples[0].reference).toBe('string');

    const exp = await s.exportZip({ 'metrics.csv': 'step\n1\n' });
    const files = unzipSync(exp.zip);
    for (const f of ['model/config.json', 'model/model.safetensors', 'model/tokenizer.json', 'train_trl.py', 'train.jsonl', 'eval.jsonl', 'metrics.csv', 'README.txt']) expect(files, f).toHaveProperty([f]);
    expect(new TextDecoder().decode(files['train_trl.py'])).toContain('max_steps=3');
    const folder = new Map(Object.entries(files).filter(([n]) => n.startsWith('model/')).map(([n, b]) => [n.slice(6), b]));
    const back = await loadCheckpoint(mapSource(folder));
    const trained = await s.trainer!.policyWeights();
    expect(back.tensors.get('wte.weight')).toEqual(trained.get('wte.weight'));
    const orig = await loadCheckpoint(mapSource(new Map([['config.json', new TextEncoder().encode(JSON.stringify(config))], ['model.safetensors', weights]])));
    expect(back.tensors.get('wte.weight')).not.toEqual(orig.tensors.get('wte.weight')); // it did train

    // a fresh session (a reloaded page) continues the paused state to the end
    const b = newSession();
    await b.s.init();
    await b.s.loadModel({ kind: 'files', files: modelFiles() });
    await b.s.loadDataset({ kind: 'bytes', name: 'pairs.jsonl', bytes: jsonl }, split, 24);
    const cont = await b.s.start({ args, sftSteps: 0, state: paused.state! });
    expect(cont.end).toBe('finished');
    const steps = b.logs().map((r) => r.step);
    expect(steps[0]).toBe(paused.step + 1);
    expect(steps.at(-1)).toBe(3);
    // same data order and weights: the continued run logs what the uninterrupted one did
    const again = b.logs().at(-1)!;
    expect(again.loss).toBeCloseTo(logs().at(-1)!.loss, 4);
  });

  it('SFT first makes the reference; with precomputed reference log-probs only the policy is sampled', async () => {
    const { s, events, logs } = newSession();
    await s.init();
    await s.loadModel({ kind: 'files', files: modelFiles() });
    await s.loadDataset({ kind: 'bytes', name: 'pairs.jsonl', bytes: jsonl }, split, 24);
    const r = await s.start({ args: { ...args, max_steps: 1, precompute_ref_log_probs: true }, sftSteps: 2 });
    expect(r.end).toBe('finished');
    const status = events.filter((e): e is Extract<WorkerEvent, { type: 'status' }> => e.type === 'status').map((e) => e.message);
    expect(status.some((m) => /^SFT step 2\/2: loss \d/.test(m))).toBe(true);
    expect(status).toContain('SFT done; DPO starts from the SFT model, which is also the reference.');
    // DPO's first step starts from the SFT model as policy and reference: loss log 2
    expect(logs()[0].loss).toBeCloseTo(Math.LN2, 5);
    const smp = await s.sample([prompts[1]], { maxNewTokens: 2, temperature: 0, topK: 0, topP: 1, seed: 1 });
    expect(smp[0].reference).toBeNull();
    expect(smp[0].referenceNote).toMatch(/precomputed/);
    // a reload cannot continue an SFT-first run unless its reference log-probs were precomputed
    await expect(s.start({ args, sftSteps: 2, state: r.state! })).rejects.toThrow(/began with SFT/);
  });
});
