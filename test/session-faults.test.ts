// GPU faults and pause/stop in every phase, in the training worker's session (Node, Dawn + SwiftShader):
// - a really lost device mid-run (device.destroy() on the session's GPUDevice, from the test): the
//   `fault` event with a sentence and the saved step, the run's request rejects with GpuFaultError, no
//   metrics for the failed step, and `continue` trains on on a new device to the same final weights as
//   an uninterrupted run (bit for bit: the same kernels on the same driver, from the same state);
// - a real validation error (an invalid dispatch through the session's Gpu) and a real out-of-memory
//   (buffers SwiftShader refuses) stop the step before its metrics; the sentence says what to change;
// - pause and stop pressed while starting (the weight copy, the reference precompute, SFT) take effect
//   within one step or one precompute chunk.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyGpt2 } from '../e2e/fixture.mjs';
import { GpuFaultError, type Kernel } from '../src/gpu/context';
import { Session } from '../src/worker/session';
import type { LogRecord, StartOptions, WorkerEvent } from '../src/worker/protocol';
import { pageDefaultArgs } from '../src/ui/params';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { defaultTrainerArgs } from '../src/dpo/trainer';
import { parseConfig } from '../src/model/config';
import { TrainBar } from '../src/ui/components/TrainBar';
import { loadDataset, loadModel } from '../src/ui/store/loading';
import { continueAfterFault, onEvent, train } from '../src/ui/store/run-control';
import { initialState, storeApi } from '../src/ui/store/state';
import { adviceSentence, memoryAdvice } from '../src/worker/faults';
import { estimateMemory } from '../src/worker/memory';
import { i18n } from '../src/ui/i18n';
import { faultSentence } from '../src/ui/i18n/errors';
import { inProcessClient } from './helpers/in-process-worker';

const demo = join(__dirname, '..', 'public', 'demo');
const tokJson = readFileSync(join(demo, 'tokenizer.json'), 'utf8');
const vocab = Object.keys(JSON.parse(tokJson).model.vocab).length;
const { config, weights } = tinyGpt2(vocab, { n_embd: 16, n_layer: 1, n_head: 2, n_positions: 32, seed: 9 });
const modelFiles = () => [new File([JSON.stringify(config)], 'config.json'), new File([weights.slice()], 'model.safetensors'), new File([tokJson], 'tokenizer.json')];
const prompts: string[] = JSON.parse(readFileSync(join(demo, 'prompts-heldout.json'), 'utf8')).slice(0, 16);
const pairs = prompts.map((p, i) => ({ prompt: p, chosen: ' i loved it. it was great.', rejected: i % 2 ? ' i hated it. it was awful.' : ' it was boring.' }));
const jsonl = new TextEncoder().encode(pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
const split = { evalFraction: 0.25, seed: 1, maxEval: 4 };
const args = { ...pageDefaultArgs, max_steps: 6, per_device_train_batch_size: 2, per_device_eval_batch_size: 4, learning_rate: 0.02, eval_steps: 0, max_length: 24, warmup_ratio: 0.2 };

const double: Kernel = {
  name: 'test-double',
  code: /* wgsl */ `
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < arrayLength(&y)) { y[g.x] = 2.0 * x[g.x]; } }`,
};

type Fault = Extract<WorkerEvent, { type: 'fault' }>;

async function newSession(onEvent?: (e: WorkerEvent, s: Session) => void, opts?: ConstructorParameters<typeof Session>[1]) {
  const events: WorkerEvent[] = [];
  let s: Session;
  s = new Session((e) => {
    events.push(e);
    onEvent?.(e, s);
  }, opts);
  await s.init();
  await s.loadModel({ kind: 'files', files: modelFiles() });
  await s.loadDataset({ kind: 'bytes', name: 'pairs.jsonl', bytes: jsonl }, split, 24);
  const of = <T extends WorkerEvent['type']>(type: T) => events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type);
  return { s, events, logs: (): LogRecord[] => of('logs').flatMap((e) => e.records), faults: (): Fault[] => of('fault'), statuses: () => of('status').map((e) => e.message), of };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the run to reject');
}

const same = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) => {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, v] of a) expect(b.get(k), k).toEqual(v);
};

let uninterrupted: { weights: Map<string, Float32Array>; logs: LogRecord[] };

describe('GPU faults and pause/stop in the session', { timeout: 900_000 }, () => {
  beforeAll(async () => {
    const { s, logs } = await newSession();
    const r = await s.start({ args, sftSteps: 0 });
    expect(r.end).toBe('finished');
    uninterrupted = { weights: await s.trainer!.policyWeights(), logs: logs() };
    expect(uninterrupted.logs.map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a lost device: a sentence and the saved step, no metrics for the failed step, and continue reaches the same final weights', async () => {
    let lost = false;
    const { s, logs, faults, statuses } = await newSession((e, s) => {
      if (e.type !== 'progress' || lost) return;
      if (e.step === 2) void s.saveState(); // the page's autosave: the state of step 2, taken between two steps
      if (e.step === 4) {
        lost = true;
        s.gpu!.device.destroy(); // Dawn loses the device for real; step 5 meets it
      }
    });
    const oldGpu = () => s.gpu;
    const err = await rejection(s.start({ args, sftSteps: 0 }));
    expect(err).toBeInstanceOf(GpuFaultError);
    expect(err.name).toBe('GpuFaultError');
    expect((err as GpuFaultError).kind).toBe('device-lost');
    const [f] = faults();
    expect(faults()).toHaveLength(1);
    expect(f).toMatchObject({ kind: 'device-lost', savedStep: 2, message: err.message });
    expect(f.message).toBe(
      'The GPU device was lost during step 5: browsers lose it when the GPU process restarts, the driver updates or the computer sleeps. No metrics were recorded for the failed step and the run is saved at step 2: press "Continue from step 2" to go on on a new GPU device, or export it as it is.',
    );
    console.log(`device-lost: ${f.message}`);
    expect(logs().map((r) => r.step)).toEqual([1, 2, 3, 4]); // nothing of step 5
    expect(s.history.map((r) => r.step)).toEqual([1, 2]); // the worker went back to its saved state

    const before = logs().length;
    const done = await s.continue();
    expect(done.end).toBe('finished');
    expect(done.step).toBe(6);
    expect(s.gpu).not.toBe(oldGpu);
    expect(statuses()).toContain('Continuing from step 2 on a new GPU device.');
    const after = logs().slice(before);
    expect(after.map((r) => r.step)).toEqual([3, 4, 5, 6]);
    // the continued steps log what the uninterrupted run did, and end at its weights, bit for bit
    for (const r of after) expect(r.loss, `loss at step ${r.step}`).toBe(uninterrupted.logs[r.step - 1].loss);
    same(await s.trainer!.policyWeights(), uninterrupted.weights);
    expect(s.history.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    console.log(`continued from step 2 to 6 on a new device; final loss ${after.at(-1)!.loss} (uninterrupted ${uninterrupted.logs[5].loss})`);
  });

  it('the state is also taken every few minutes, and a device lost during a pause is said at once', async () => {
    // every step here (snapshotEveryMs 0), with no save request: step 4's own save meets the lost device, so step 3's is kept
    let lost = false;
    const a = await newSession(
      (e, s) => {
        if (e.type === 'progress' && e.step === 4 && !lost) {
          lost = true;
          s.gpu!.device.destroy();
        }
      },
      { snapshotEveryMs: 0 },
    );
    await rejection(a.s.start({ args, sftSteps: 0 }));
    expect(a.faults()[0].savedStep).toBe(3);
    expect((await a.s.continue()).end).toBe('finished');
    same(await a.s.trainer!.policyWeights(), uninterrupted.weights);

    // paused at step 3, then the device goes (the laptop slept): the fault event comes without a request
    let paused = false;
    const b = await newSession((e, s) => e.type === 'progress' && e.step === 3 && !paused && ((paused = true), s.pause()));
    expect(await b.s.start({ args, sftSteps: 0 })).toMatchObject({ end: 'paused', step: 3 });
    b.s.gpu!.device.destroy();
    for (let i = 0; i < 200 && !b.faults().length; i++) await new Promise((r) => setTimeout(r, 10));
    // the sentence, and its parts for the page to say in the user's language
    expect(b.faults()).toEqual([
      {
        type: 'fault',
        kind: 'device-lost',
        savedStep: 3,
        message: expect.stringMatching(/^The GPU device was lost during the pause: .* the run is saved at step 3: press "Continue from step 3"/),
        params: { kind: 'device-lost', where: 'pause', savedStep: 3, detail: '' },
      },
    ]);
    const done = await b.s.resume(); // Resume after a fault continues on the new device
    expect(done.end).toBe('finished');
    expect(b.logs().map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    same(await b.s.trainer!.policyWeights(), uninterrupted.weights);
  });

  it('a validation error stops the step before its metrics; the GPU weights of the last good step are kept', async () => {
    let done3 = false;
    const { s, logs, faults } = await newSession((e, s) => {
      if (e.type === 'progress' && e.step === 3 && !done3) {
        done3 = true;
        const g = s.gpu!;
        const t = g.tensor([64]);
        g.dispatch(double, [t, t], null, 1); // read-only and writable at once: WebGPU refuses step 4's work
      }
    });
    const err = await rejection(s.start({ args, sftSteps: 0 }));
    expect((err as GpuFaultError).kind).toBe('validation');
    const [f] = faults();
    expect(f.savedStep).toBe(3); // taken from the GPU after the fault: step 4's update never ran
    expect(f.message).toMatch(/^WebGPU refused the work of step 4 as invalid \(.+\): a bug in the playground, not in your settings; please report it with this message\. No metrics were recorded for the failed step and the run is saved at step 3: press "Continue from step 3" to go on, or export it as it is\.$/);
    console.log(`validation: ${f.message}`);
    expect(logs().map((r) => r.step)).toEqual([1, 2, 3]);
    // export works from the saved state (rebuilt on the new device) before continuing
    const zip = await s.exportZip({});
    expect(zip.files).toContain('model/model.safetensors');
    const done = await s.continue();
    expect(done.end).toBe('finished');
    expect(logs().map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    same(await s.trainer!.policyWeights(), uninterrupted.weights);
  });

  it('out of memory: the sentence gives the estimate and which single change would fit', async () => {
    const { s, logs, faults } = await newSession((e, s) => {
      // buffers SwiftShader cannot allocate, in step 2's work
      if (e.type === 'progress' && e.step === 1) for (let i = 0; i < 4; i++) s.gpu!.tensor([2 ** 28 - 64]);
    });
    const err = await rejection(s.start({ args: { ...args, per_device_train_batch_size: 4 }, sftSteps: 0 }));
    expect((err as GpuFaultError).kind).toBe('out-of-memory');
    const [f] = faults();
    expect(logs().map((r) => r.step)).toEqual([1]);
    expect(f.savedStep).toBe(1);
    expect(f.message).toMatch(/^The GPU ran out of memory during step 2 \(.+\)\. By the estimate this run needs about [\d.]+ MiB; the GPU refused more after giving [\d.]+ MiB\. It would fit with .+: change it and start the run again\. No metrics were recorded for the failed step and the run is saved at step 1/);
    expect(f.message).toContain('per_device_train_batch_size 2 with gradient_accumulation_steps 2 to keep the batch');
    console.log(`out-of-memory: ${f.message}`);
    // the same sentence as data, for the page's language: where, the numbers, the changes that fit
    expect(f.params).toMatchObject({ kind: 'out-of-memory', where: 'step', step: 2, savedStep: 1, needBytes: expect.any(Number), gaveBytes: expect.any(Number) });
    expect(JSON.parse(String(f.params!.fits))).toContainEqual({ code: 'batch', params: { size: 2, accumulation: 2 } });
    await i18n.changeLanguage('ko');
    const ko = faultSentence(f.params!);
    await i18n.changeLanguage('en');
    console.log(`out-of-memory (ko): ${ko}`);
    expect(ko).toMatch(/^스텝 2 중에 GPU 메모리가 부족해졌습니다\. 추정으로는 이 실행에 약 [\d.]+ MiB가 필요합니다\. GPU는 [\d.]+ MiB를 내준 뒤/);
    expect(ko).toContain('per_device_train_batch_size 2(배치 크기를 유지하도록 gradient_accumulation_steps 2)');
    expect(ko).toContain('"스텝 1부터 계속"을 눌러 이어 가거나');
  });

  it('pause while starting: during the weight copy, between chunks of the reference precompute, during SFT', async () => {
    // pressed with the start request: paused at step 0 before the weights are copied (nothing to save yet)
    {
      const { s, logs } = await newSession();
      const run = s.start({ args, sftSteps: 0 });
      s.pause();
      const r = await run;
      expect(r).toMatchObject({ end: 'paused', step: 0, state: null });
      expect(s.trainer).toBeNull();
      expect(logs()).toEqual([]);
      const done = await s.resume();
      expect(done.end).toBe('finished');
      expect(logs().map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    // the reference precompute (one pair per chunk): it stops after the chunk in progress
    {
      const pre = { ...args, precompute_ref_log_probs: true, per_device_eval_batch_size: 1 };
      const full = await newSession();
      const d0 = full.s.gpu!.dispatchCount;
      const all = await full.s.start({ args: { ...pre, max_steps: 1 }, sftSteps: 0 });
      expect(all.end).toBe('finished');
      const fullDispatches = full.s.gpu!.dispatchCount - d0;

      let once = false;
      const { s, logs, statuses } = await newSession((e, s) => e.type === 'status' && /reference log-probs/.test(e.message) && !once && ((once = true), s.pause()));
      const d1 = s.gpu!.dispatchCount;
      const r = await s.start({ args: { ...pre, max_steps: 1 }, sftSteps: 0 });
      expect(r).toMatchObject({ end: 'paused', step: 0, state: null });
      expect(statuses()).toContain('Computing the reference log-probs of every pair once...');
      const used = s.gpu!.dispatchCount - d1;
      // 12 train + 4 eval pairs = 16 chunks; a pause seen between chunks stops after the first
      expect(used).toBeLessThan(fullDispatches / 8);
      expect(s.trainer).toBeNull();
      const done = await s.resume();
      expect(done.end).toBe('finished');
      expect(logs().map((x) => x.step)).toEqual([1]);
      expect(logs()[0].loss).toBeCloseTo(Math.LN2, 6);
    }
    // SFT first: a pause at SFT step 1 ends the run at SFT step 1, not after SFT and DPO
    {
      let once = false;
      const { s, logs, statuses } = await newSession((e, s) => e.type === 'status' && e.message.startsWith('SFT step 1/') && !once && ((once = true), s.pause()));
      const r = await s.start({ args: { ...args, max_steps: 2 }, sftSteps: 4 });
      expect(r).toMatchObject({ end: 'paused', step: 1 });
      expect(logs()).toEqual([]);
      expect(statuses().filter((m) => m.startsWith('SFT step'))).toEqual([expect.stringMatching(/^SFT step 1\/4/)]);
      const done = await s.resume();
      expect(done.end).toBe('finished');
      expect(statuses().filter((m) => m.startsWith('SFT step')).length).toBe(4);
      expect(logs().map((x) => x.step)).toEqual([1, 2]);
    }
  });

  it('stop while starting: pressed with the start request, and during the reference precompute', async () => {
    const { s, logs } = await newSession();
    const run = s.start({ args, sftSteps: 0 });
    s.stop();
    expect(await run).toMatchObject({ end: 'stopped', step: 0 });
    await expect(s.resume()).rejects.toThrow(/no paused run/);
    const opts: StartOptions = { args: { ...args, precompute_ref_log_probs: true, per_device_eval_batch_size: 1 }, sftSteps: 2 };
    const b = await newSession((e, s) => e.type === 'status' && /reference log-probs/.test(e.message) && s.stop());
    const r = await b.s.start(opts); // SFT's 2 steps, then the precompute, where the stop is seen
    expect(r).toMatchObject({ end: 'stopped', step: 0 });
    expect(b.logs()).toEqual([]);
    expect(logs()).toEqual([]);
  });
});

describe('out-of-memory advice', () => {
  it('names each single change that fits by the estimator, and the ones that would not', () => {
    // GPT-2 124M, 8 pairs of 512 tokens: ~7.4 GiB by the estimate; the GPU refused after 4 GiB
    const cfg = parseConfig({ model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 });
    const a = { ...defaultTrainerArgs, per_device_train_batch_size: 8, max_length: 512 };
    const limits = { maxBindingBytes: 2 ** 31, maxBufferBytes: 2 ** 31 };
    const m = memoryAdvice(cfg, a, 512, limits, 4 * 2 ** 30);
    const est = (p: object) => estimateMemory(cfg, { ...a, ...p }, 512, limits, Infinity).totalBytes;
    expect(m.totalBytes).toBe(est({}));
    expect(m.fits).toEqual(['per_device_train_batch_size 2 with gradient_accumulation_steps 4 to keep the batch', 'max_length 128', 'gradient_checkpointing']);
    expect(m.tooBig).toEqual(['LoRA', 'precompute_ref_log_probs']);
    // the estimator's own numbers behind each verdict (10% headroom below the 4 GiB the GPU gave)
    const cap = 0.9 * 4 * 2 ** 30;
    expect(est({ per_device_train_batch_size: 2, gradient_accumulation_steps: 4 })).toBeLessThanOrEqual(cap);
    expect(est({ per_device_train_batch_size: 4, gradient_accumulation_steps: 2 })).toBeGreaterThan(cap); // the largest that fits is named
    expect(est({ max_length: 128 })).toBeLessThanOrEqual(cap);
    expect(est({ max_length: 256 })).toBeGreaterThan(cap);
    expect(est({ gradient_checkpointing: true })).toBeLessThanOrEqual(cap);
    expect(est({ lora: { r: 16, lora_alpha: 32, target_modules: 'all-linear' } })).toBeGreaterThan(cap);
    expect(est({ precompute_ref_log_probs: true })).toBeGreaterThan(cap);
    expect(adviceSentence(m)).toBe(
      'By the estimate this run needs about 7.42 GiB; the GPU refused more after giving 4.00 GiB. It would fit with per_device_train_batch_size 2 with gradient_accumulation_steps 4 to keep the batch, max_length 128 or gradient_checkpointing (LoRA or precompute_ref_log_probs alone would not): change it and start the run again.',
    );
    expect(adviceSentence(memoryAdvice(cfg, a, 512, limits, 2 * 2 ** 30))).toMatch(/alone would fit: pick a smaller model, or combine them\.$/);
  });
});

describe('the page on a lost device (store + TrainBar on a real in-process session)', { timeout: 600_000 }, () => {
  it('shows the sentence and "Continue from step N", keeps Export, and continues from N without a reload', async () => {
    const { client, session } = inProcessClient();
    client.on(onEvent);
    const info = await client.call({ type: 'init' });
    storeApi.getInitialState = storeApi.getState; // server rendering reads the current state
    const long = { ...args, max_steps: 30 }; // still training when the device goes (events come a macrotask late)
    storeApi.setState({ ...initialState(), client, gpu: { status: 'ready', info }, split, args: long }, true);
    expect(await loadModel({ kind: 'files', files: modelFiles() })).toBe(true);
    expect(await loadDataset({ kind: 'bytes', name: 'pairs.jsonl', bytes: jsonl })).toBe(true);
    const st = () => storeApi.getState();
    const until = async (ok: () => boolean, what: string) => {
      for (const t = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 5))) if (Date.now() - t > 120_000) throw new Error(`timed out waiting for ${what}`);
    };
    const run = train();
    await until(() => st().history.length >= 2, 'two steps');
    await client.call({ type: 'saveState' }); // the page's autosave
    const N = session.history.at(-1)!.step;
    session.gpu!.device.destroy();
    await run;
    expect(st().run.phase).toBe('error');
    expect(st().fault).toMatchObject({ kind: 'device-lost', savedStep: N });
    expect(st().history.map((r) => r.step)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    const html = renderToString(createElement(TrainBar)).replace(/<!-- -->/g, '').replace(/&quot;/g, '"');
    expect(html).toContain(`Continue from step ${N}</button>`);
    expect(html).toContain('The GPU device was lost during step');
    expect(html).not.toContain('data-testid="run-error"'); // the sentence once, in the notice
    expect(/<button[^>]*disabled=""[^>]*>Export model \+ script/.test(html)).toBe(false);
    await continueAfterFault();
    expect(st().fault).toBeNull();
    expect(st().run.phase).toBe('finished');
    expect(st().history.map((r) => r.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(Number.isFinite(st().history.at(-1)!.loss)).toBe(true);
  });
});

