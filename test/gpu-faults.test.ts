// GPU faults in the engine, with real faults on Dawn + SwiftShader (no simulated errors): an invalid
// bind group (validation), buffers beyond what the driver can allocate (out-of-memory), an error raised
// outside the engine's error scopes (uncapturederror), and a really lost device (device.destroy(),
// which makes Dawn lose it). Each is a GpuFaultError with a kind and a sentence, raised at the readback,
// and a training step that meets one throws before its metrics, keeping the last good step's weights.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DpoTrainer, type LogRecord, type TrainerArgs } from '../src/dpo/trainer';
import { tokenizeDataset } from '../src/dpo/tokenize';
import { Gpu, GpuFaultError, type Kernel } from '../src/gpu/context';
import { parameterSpecs, parseConfig } from '../src/model/config';
import { loadTokenizer } from '../src/model/tokenizer';
import { randn } from './helpers/gpu';

const double: Kernel = {
  name: 'test-double',
  code: /* wgsl */ `
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < arrayLength(&y)) { y[g.x] = 2.0 * x[g.x]; } }`,
};

/** The same buffer as read-only input and writable output of one dispatch: WebGPU refuses the pass. */
const invalidDispatch = (gpu: Gpu, t: ReturnType<Gpu['tensor']>) => gpu.dispatch(double, [t, t], null, 1);

async function fault(p: Promise<unknown>): Promise<GpuFaultError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(GpuFaultError);
    return e as GpuFaultError;
  }
  throw new Error('expected a GpuFaultError');
}

const demo = join(__dirname, '..', 'public', 'demo');

async function tinyTrainer(gpu: Gpu, args: Partial<TrainerArgs> = {}) {
  const tok = loadTokenizer({ tokenizerJson: readFileSync(join(demo, 'tokenizer.json'), 'utf8') });
  const prompts: string[] = JSON.parse(readFileSync(join(demo, 'prompts-heldout.json'), 'utf8')).slice(0, 8);
  const pairs = prompts.map((p, i) => ({ kind: 'standard' as const, row: i, prompt: p, chosen: ' i loved it.', rejected: ' it was bad.' }));
  const { examples } = tokenizeDataset(tok, pairs, { maxLength: 24, truncationMode: 'keep_start' });
  const config = parseConfig({ model_type: 'gpt2', vocab_size: tok.vocabSize, n_embd: 16, n_layer: 1, n_head: 2, n_positions: 32 });
  const policy = new Map<string, Float32Array>();
  let seed = 1;
  for (const s of parameterSpecs(config)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    policy.set(s.name, s.kind === 'norm' ? new Float32Array(n).fill(1) : s.kind === 'bias' ? new Float32Array(n) : randn(n, seed++, 0.05));
  }
  return DpoTrainer.create(gpu, { config, policy, train: examples, padId: tok.padId, args: { max_steps: 4, per_device_train_batch_size: 2, learning_rate: 0.01, max_length: 24, ...args } });
}

describe('GPU faults (engine)', { timeout: 600_000 }, () => {
  it('a validation error is a GpuFaultError at the next readback, and the device goes on working', async () => {
    const gpu = await Gpu.create();
    const x = gpu.upload(Float32Array.from({ length: 64 }, (_, i) => i));
    const y = gpu.tensor([64]);
    invalidDispatch(gpu, x);
    const f = await fault(gpu.read(y));
    expect(f.kind).toBe('validation');
    expect(f.name).toBe('GpuFaultError');
    expect(f.message).toMatch(/^WebGPU refused this step's work as invalid \(.*includes writable usage.*\), so none of it was applied\. This is a bug in the playground, not in your settings: please report it with this message\.$/);
    console.log(`validation: ${f.message}`);
    // the next scope starts clean
    gpu.dispatch(double, [x, y], null, 1);
    const [out] = await gpu.read(y);
    expect(out[63]).toBe(126);
    gpu.device.destroy();
  });

  it('an error outside the error scopes (uncapturederror) is raised at the next readback too', async () => {
    const gpu = await Gpu.create();
    const x = gpu.upload(new Float32Array(4).fill(1));
    await gpu.read(x); // no scope open now
    // a raw device call the engine does not scope: MAP_READ cannot be combined with STORAGE
    gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    await new Promise((r) => setTimeout(r, 100)); // the event is dispatched asynchronously
    expect(gpu.info.errors.length).toBe(1);
    const f = await fault(gpu.read(x));
    expect(f.kind).toBe('validation');
    expect(f.detail).toMatch(/usage/i);
    const [again] = await gpu.read(x); // each error is raised once
    expect(again[0]).toBe(1);
    gpu.device.destroy();
  });

  it('running out of GPU memory is a GpuFaultError with what the pool held', async () => {
    const gpu = await Gpu.create();
    const y = gpu.tensor([16]);
    await gpu.read(y); // closes the scope y was made in
    // 1 GiB buffers until SwiftShader's allocator refuses one
    const big: ReturnType<Gpu['tensor']>[] = [];
    let f: GpuFaultError | null = null;
    for (let i = 0; i < 8 && !f; i++) {
      big.push(gpu.tensor([2 ** 28 - 64]));
      try {
        await gpu.read(y);
      } catch (e) {
        f = e as GpuFaultError;
      }
    }
    expect(f).toBeInstanceOf(GpuFaultError);
    expect(f!.kind).toBe('out-of-memory');
    expect(f!.message).toMatch(/^The GPU ran out of memory \(.+\), so the work in progress did not finish\. Lower per_device_train_batch_size or max_length, or turn on LoRA, gradient_checkpointing or precompute_ref_log_probs\.$/);
    // what the GPU gave before it refused: everything but the buffer of the failed readback's scope
    expect(f!.allocatedBytes).toBe(gpu.allocatedBytes - 2 ** 30);
    console.log(`out-of-memory at the ${big.length}. GiB buffer (pool held ${f!.allocatedBytes} bytes before): ${f!.message}`);
    gpu.device.destroy();
  });

  it('a lost device is a GpuFaultError with a sentence, not the raw mapAsync exception', async () => {
    const gpu = await Gpu.create();
    const x = gpu.upload(new Float32Array(64).fill(3));
    const y = gpu.tensor([64]);
    gpu.dispatch(double, [x, y], null, 1);
    const pending = gpu.read(y);
    gpu.device.destroy(); // Dawn really loses the device: the map is aborted, device.lost resolves
    const f = await fault(pending);
    expect(f.kind).toBe('device-lost');
    expect(f.message).toMatch(/^The GPU device was lost \(destroyed: .+\), so the work in progress did not finish\. Browsers lose the GPU when its process restarts, the driver updates or the computer sleeps; the run can go on from its last saved state on a new device\.$/);
    expect(f.message).not.toMatch(/mapAsync/);
    console.log(`device-lost: ${f.message}`);
    // and every later use says the same
    expect(() => gpu.dispatch(double, [x, y], null, 1)).toThrow(GpuFaultError);
    expect((await fault(gpu.read(y))).kind).toBe('device-lost');
  });

  it('a training step whose GPU work fails throws before its metrics and keeps the last good weights', async () => {
    const gpu = await Gpu.create();
    // the reference: two good steps, then a pause
    const ref = await tinyTrainer(gpu);
    await ref.train({ onLog: (r) => r.step === 2 && ref.requestPause() });
    const good = await ref.policyWeights();
    ref.release();

    const t = await tinyTrainer(gpu);
    const logs: LogRecord[] = [];
    const junk = gpu.tensor([64]);
    // after step 2's metrics, an invalid dispatch lands in step 3's work
    const f = await fault(t.train({ onLog: (r) => (logs.push(r), r.step === 2 && invalidDispatch(gpu, junk)) }));
    expect(f.kind).toBe('validation');
    expect(logs.map((r) => r.step)).toEqual([1, 2]); // step 3 recorded nothing
    expect(t.step).toBe(2);
    const kept = await t.policyWeights();
    for (const [name, w] of good) expect(kept.get(name), name).toEqual(w);
    // the optimizer's own step counter did not move either: the run goes on as if nothing happened
    const logs2: LogRecord[] = [];
    expect(await t.train({ onLog: (r) => logs2.push(r) })).toBe(true);
    expect(logs2.map((r) => r.step)).toEqual([3, 4]);
    gpu.device.destroy();
  });
});
