// The page's run control and persistence flows (src/ui/store) against a real training session in this
// process: the phases a run goes through and the status line after it ends, Pause and Stop pressed
// while the run is still starting, the state saved at a stop, and a downloaded state file that
// continues the run from its step. Node has no IndexedDB, so every save meets that real failure and the
// page must hold the state and offer it as a download.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tinyGpt2 } from '../e2e/fixture.mjs';
import { pageDefaultArgs } from '../src/ui/params';
import { stateFileBlob } from '../src/ui/state-file';
import { loadDataset, loadModel } from '../src/ui/store/loading';
import { currentRunRecord, heldState } from '../src/ui/store/persistence';
import { onEvent, pause, stop, train } from '../src/ui/store/run-control';
import { loadStateFile } from '../src/ui/store/state-download';
import { initialState, storeApi, type State } from '../src/ui/store/state';
import { inProcessClient } from './helpers/in-process-worker';

const demo = join(__dirname, '..', 'public', 'demo');
const tokJson = readFileSync(join(demo, 'tokenizer.json'), 'utf8');
const vocab = Object.keys(JSON.parse(tokJson).model.vocab).length;
const { config, weights } = tinyGpt2(vocab, { n_embd: 16, n_layer: 1, n_head: 2, n_positions: 32, seed: 3 });
const modelFiles = () => [new File([JSON.stringify(config)], 'config.json'), new File([weights.slice()], 'model.safetensors'), new File([tokJson], 'tokenizer.json'), new File([readFileSync(join(demo, 'tokenizer_config.json'))], 'tokenizer_config.json')];
const prompts: string[] = JSON.parse(readFileSync(join(demo, 'prompts-heldout.json'), 'utf8')).slice(0, 12);
const jsonl = new TextEncoder().encode(prompts.map((p, i) => JSON.stringify({ prompt: p, chosen: ' i loved it.', rejected: i % 2 ? ' i hated it.' : ' it was boring.' })).join('\n') + '\n');
const args = { ...pageDefaultArgs, max_steps: 4, per_device_train_batch_size: 3, per_device_eval_batch_size: 4, learning_rate: 0.01, eval_steps: 0, max_length: 24 };

const { client } = inProcessClient();
client.on(onEvent);
let ready: Partial<State>;
const s = () => storeApi.getState();
const until = async (ok: () => boolean, what: string) => {
  for (const t = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 5))) if (Date.now() - t > 60_000) throw new Error(`timed out waiting for ${what}`);
};

beforeAll(async () => {
  const info = await client.call({ type: 'init' });
  storeApi.setState({ ...initialState(), client, gpu: { status: 'ready', info }, split: { evalFraction: 0.25, seed: 1, maxEval: 4 }, args });
  expect(await loadModel({ kind: 'files', files: modelFiles() })).toBe(true);
  expect(await loadDataset({ kind: 'bytes', name: 'pairs.jsonl', bytes: jsonl })).toBe(true);
  ready = { ...s() };
}, 120_000);
beforeEach(() => storeApi.setState({ ...initialState(), ...ready, args }, true));

describe('page run flows on a real session', () => {
  it('starting -> training -> finished, and the status line says so (not "Starting: copying the weights")', async () => {
    const seen: [string, string][] = [];
    const off = storeApi.subscribe((x) => seen.push([x.run.phase, x.statusLine]));
    await train();
    off();
    expect(s().run.phase).toBe('finished');
    expect(s().statusLine).toBe('Finished 4 steps.');
    const phases = seen.map(([p]) => p).filter((p, i, a) => p !== a[i - 1]);
    expect(phases).toEqual(['idle', 'starting', 'training', 'finished']);
    // "Starting: ..." only while starting
    expect(seen.filter(([p, l]) => p !== 'starting' && l.startsWith('Starting')).length).toBe(0);
    expect(s().history.map((h) => h.step)).toEqual([1, 2, 3, 4]);
    // no IndexedDB: the finished state is held and offered, with the sentence why
    await until(() => s().unsaved !== null, 'the finished run to be saved');
    expect(s().unsaved?.step).toBe(4);
    expect(s().unsaved?.message).toMatch(/^The run's state at step 4 \([\d.]+ KiB\) could not be saved in this browser: This browser does not let the page use IndexedDB/);
    expect(heldState()?.state.byteLength).toBe(s().unsaved?.bytes);
  }, 120_000);

  it('Pause pressed while the run starts pauses it before its second step; Stop stays usable while pausing', async () => {
    const run = train();
    expect(s().run.phase).toBe('starting');
    pause();
    expect(s().run.phase).toBe('pausing');
    await run;
    expect(s().run.phase).toBe('paused');
    expect(s().run.step).toBeLessThanOrEqual(1);
    expect(s().statusLine).toBe(`Paused at step ${s().run.step}.`);
  }, 120_000);

  it('Stop saves the state the worker holds; the downloaded file continues from the stopped step', async () => {
    const run = train();
    await until(() => s().history.length >= 1, 'the first step');
    stop();
    await run;
    const at = s().run.step;
    expect(s().run.phase).toBe('stopped');
    expect(at).toBeGreaterThanOrEqual(1);
    expect(at).toBeLessThan(4);
    await until(() => s().unsaved !== null, 'the stop to save its state');
    expect(s().unsaved?.step).toBe(at);
    const held = heldState()!;
    expect(held.state.byteLength).toBeGreaterThan(1000);

    // the file "Download the state" writes, loaded back: the run continues at step at + 1
    const file = new File([stateFileBlob({ ...currentRunRecord('stopped')!, stateStep: at }, held.state)], 'run.dpostate');
    storeApi.setState({ run: { ...s().run, phase: 'idle' }, history: [] });
    await loadStateFile(file);
    expect(s().run.phase).toBe('finished');
    expect(s().history.map((h) => h.step)).toEqual([1, 2, 3, 4]);
    expect(s().statusLine).toBe('Finished 4 steps.');
  }, 120_000);
});
