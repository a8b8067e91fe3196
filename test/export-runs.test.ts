// Issue 13 item 3: the page's export zip runs as it is. The zip comes from the same Session code the
// page's worker runs (Node + Dawn/SwiftShader): the built-in demo's model loaded as files from disk
// (the case whose script named a folder the zip did not have), 16 demo pairs in file order, batch 4,
// 4 steps of linear decay. Unzipped into a temp folder, `python train_trl.py --stop_after_steps 2`
// (run from another folder: the script finds its files beside itself) trains with the real TRL 1.13
// on CPU, and its logged metrics at steps 1-2 equal ours within 1e-3 relative; then
// `torchrun --nproc_per_node 2` (DDP over gloo, 2 pairs per process, the same global batch of 4) logs
// the one-process run's metrics at steps 1-2 (step 1's loss is ln 2 whatever the batch, as the policy is
// the reference; step 2 follows the averaged update of step 1, so it shows the batch really was split). The README's columns line up and name every file the zip holds.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, mapSource, nodeFolderSource } from '../src/model/weights';
import { Session } from '../src/worker/session';
import type { WorkerEvent } from '../src/worker/protocol';
import { pageDefaultArgs } from '../src/ui/params';
import { ROOT, readJsonl, tempDir, venvPython } from './helpers/python';
import { sharedDir } from './helpers/paths';
import { chatmlTokenizer, startHubServer, virtualCheckpoint } from '../e2e/hub-server.mjs';

const KEYS = ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'rewards/accuracies', 'logps/chosen', 'logps/rejected', 'grad_norm', 'learning_rate'] as const;
const REL = 1e-3;
const ABS = 1e-5;
const demo = join(ROOT, 'public', 'demo');

const ENV = { HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', CUDA_VISIBLE_DEVICES: '', OMP_NUM_THREADS: '1', PYTHONHASHSEED: '0', TQDM_DISABLE: '1', TOKENIZERS_PARALLELISM: 'false' };

function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { cwd, timeout: 300_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...ENV } }, (err, stdout, stderr) =>
      err ? rej(new Error(`${args.join(' ')} failed (${err.message.split('\n')[0]}):\n${stderr.slice(-4000)}`)) : res(stdout + stderr),
    );
  });
}

const close = (a: unknown, b: unknown) => typeof a === 'number' && typeof b === 'number' && (Math.abs(a - b) <= REL * Math.abs(a) || Math.abs(a - b) <= ABS);

describe('the page export zip runs with TRL', () => {
  it('python train_trl.py and torchrun --nproc_per_node 2 repeat the page run from the unzipped folder', async () => {
    const events: WorkerEvent[] = [];
    const s = new Session((e) => events.push(e));
    await s.init();
    const model = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => new File([readFileSync(join(demo, 'model', f))], f));
    await s.loadModel({ kind: 'files', files: model });
    const pairs = readFileSync(join(demo, 'pairs-train.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 16).join('\n') + '\n';
    await s.loadDataset({ kind: 'bytes', name: 'pairs.jsonl', bytes: new TextEncoder().encode(pairs) }, { evalFraction: 0, seed: 1, maxEval: 0 }, 64);
    const args = { ...pageDefaultArgs, max_steps: 4, per_device_train_batch_size: 4, learning_rate: 2e-3, lr_scheduler_type: 'linear' as const, max_length: 64, shuffle: false, eval_steps: 0, logging_steps: 1 };
    const r = await s.start({ args, sftSteps: 0 });
    expect(r.end).toBe('finished');
    const ours = s.history.filter((h) => h.loss !== undefined);
    expect(ours.map((h) => h.step)).toEqual([1, 2, 3, 4]);

    const { zip, files } = await s.exportZip({ 'history.json': JSON.stringify(s.history) });
    const dir = join(tempDir('export-runs'), 'unzipped');
    for (const [name, bytes] of Object.entries(unzipSync(zip))) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    // what the script needs is in the zip: the starting model as a HF folder, the data, a DeepSpeed config
    for (const f of ['base-model/config.json', 'base-model/model.safetensors', 'base-model/tokenizer.json', 'model/model.safetensors', 'train.jsonl', 'ds_zero2.json', 'train_trl.py', 'README.txt']) {
      expect(files, f).toContain(f);
    }
    // base-model/ holds the loaded weights exactly
    const base = await loadCheckpoint(nodeFolderSource(join(dir, 'base-model')));
    const loaded = await loadCheckpoint(nodeFolderSource(join(demo, 'model')));
    expect([...base.tensors.keys()].sort()).toEqual([...loaded.tensors.keys()].sort());
    for (const [name, w] of loaded.tensors) expect(base.tensors.get(name)!.every((x, i) => Object.is(x, w[i])), name).toBe(true);
    const script = readFileSync(join(dir, 'train_trl.py'), 'utf8');
    expect(script).toContain('MODEL = os.path.join(HERE, "base-model")');
    expect(script).toContain('DATA = os.path.join(HERE, "train.jsonl")');
    expect(script).not.toMatch(/"[^"\n]*#[^"\n]*"/); // no comment inside a string
    const ds = JSON.parse(readFileSync(join(dir, 'ds_zero2.json'), 'utf8'));
    expect(ds.zero_optimization.stage).toBe(2);
    expect(ds.train_micro_batch_size_per_gpu).toBe('auto');

    // README: every file of the zip's top level is listed, descriptions in one column
    const readme = readFileSync(join(dir, 'README.txt'), 'utf8').split('\n');
    const fileRows = readme.slice(readme.indexOf('Files') + 1, readme.indexOf('', readme.indexOf('Files')));
    const top = new Set(files.filter((f) => f !== 'README.txt').map((f) => (f.includes('/') ? `${f.split('/')[0]}/` : f)));
    expect(new Set(fileRows.map((l) => l.trim().split(/\s{2,}/)[0]))).toEqual(top);
    const col = (rows: string[]) => new Set(rows.map((l) => l.indexOf(l.trim().split(/\s{2,}/)[1])));
    expect(col(fileRows).size).toBe(1);
    const runRows = readme.slice(readme.findIndex((l) => l.startsWith('Run it')) + 1, readme.indexOf('', readme.findIndex((l) => l.startsWith('Run it'))));
    expect(runRows.map((l) => l.trim().split(/\s{2,}/)[1])).toEqual(expect.arrayContaining(['python train_trl.py', 'torchrun --nproc_per_node N train_trl.py', 'accelerate launch --num_processes N train_trl.py']));
    expect(col(runRows).size).toBe(1);

    // one process, started from another folder
    const elsewhere = tempDir('export-runs-cwd');
    await sh(venvPython(), [join(dir, 'train_trl.py'), '--stop_after_steps', '2'], elsewhere);
    const one = readJsonl(join(dir, 'dpo-playground-run', 'log_history.jsonl')).filter((h) => h.loss !== undefined);
    expect(one.map((h) => h.step)).toEqual([1, 2]);
    // two processes: DDP over gloo on CPU, 2 pairs per process per step
    const torchrun = join(dirname(venvPython()), 'torchrun');
    await sh(torchrun, ['--standalone', '--nproc_per_node', '2', 'train_trl.py', '--stop_after_steps', '2', '--output_dir', 'ddp-run'], dir);
    const two = readJsonl(join(dir, 'ddp-run', 'log_history.jsonl')).filter((h) => h.loss !== undefined);
    expect(two.map((h) => h.step)).toEqual([1, 2]);

    const bad: string[] = [];
    const lines = ['\n=== exported train_trl.py (TRL, 1 and 2 processes) vs the page run ===', ['step', ...KEYS].map((k) => k.padStart(15)).join(' ')];
    const row = (label: string, h: Record<string, number>) => lines.push([label.padStart(15), ...KEYS.map((k) => String(h[k]).slice(0, 15).padStart(15))].join(' '));
    for (let i = 0; i < 2; i++) {
      row(`${i + 1} page`, ours[i] as unknown as Record<string, number>);
      row(`${i + 1} TRL 1 proc`, one[i]);
      row(`${i + 1} TRL 2 procs`, two[i]);
      for (const k of KEYS) if (!close(one[i][k], ours[i][k])) bad.push(`step ${i + 1} ${k}: TRL ${one[i][k]}, page ${ours[i][k]}`);
      // each process sees half the batch; the gathered metrics and the averaged update are the global batch's
      // (grad_norm: TRL/HF log the norm of the averaged gradient, equal too)
      for (const k of KEYS) if (!close(two[i][k], one[i][k])) bad.push(`step ${i + 1} ${k}: 2 processes ${two[i][k]}, 1 process ${one[i][k]}`);
    }
    console.log(lines.join('\n'));
    // the schedule is the full 4-step run's (2e-3 then 1.5e-3), not a 2-step one's
    expect(one.map((h) => h.learning_rate)).toEqual([2e-3, 1.5e-3]);
    expect(Math.abs(one[1]['rewards/margins'])).toBeGreaterThan(1e-4);
    expect(bad).toEqual([]);
    expect(existsSync(join(dir, 'dpo-playground-run', 'model.safetensors'))).toBe(true);
  }, 600_000);

  it('a run that began with SFT exports the SFT model as base-model/; a LoRA run names base-model/ in its adapter config', async () => {
    const s = new Session(() => undefined);
    await s.init();
    const model = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => new File([readFileSync(join(demo, 'model', f))], f));
    await s.loadModel({ kind: 'files', files: model });
    const pairs = readFileSync(join(demo, 'pairs-train.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 8).join('\n') + '\n';
    await s.loadDataset({ kind: 'bytes', name: 'pairs.jsonl', bytes: new TextEncoder().encode(pairs) }, { evalFraction: 0, seed: 1, maxEval: 0 }, 64);
    const args = { ...pageDefaultArgs, max_steps: 1, per_device_train_batch_size: 4, learning_rate: 2e-2, max_length: 64, shuffle: false, eval_steps: 0 };
    const unzip = async () => {
      const out = new Map<string, Uint8Array>();
      for (const [k, v] of Object.entries(unzipSync((await s.exportZip({})).zip))) out.set(k, v);
      return out;
    };
    const sub = (files: Map<string, Uint8Array>, dir: string) => new Map([...files].filter(([k]) => k.startsWith(dir)).map(([k, v]) => [k.slice(dir.length), v]));
    const loaded = await loadCheckpoint(nodeFolderSource(join(demo, 'model')));

    // SFT first: DPO (and its reference) start from the SFT model, so that is what the script must start from
    expect((await s.start({ args, sftSteps: 2 })).end).toBe('finished');
    const sft = await unzip();
    const base = await loadCheckpoint(mapSource(sub(sft, 'base-model/')));
    const start = s.trainer!.startWeights;
    let moved = 0;
    for (const [name, w] of start) {
      expect(base.tensors.get(name)!.every((x, i) => Object.is(x, w[i])), name).toBe(true);
      const l = loaded.tensors.get(name)!;
      for (let i = 0; i < w.length; i++) moved = Math.max(moved, Math.abs(w[i] - l[i]));
    }
    expect(moved).toBeGreaterThan(1e-3); // the SFT steps changed the weights: base-model/ is not the loaded model
    expect(strFromU8(sft.get('README.txt')!)).toMatch(/base-model\/ +the SFT model DPO started from \(and its reference\)/);

    // LoRA: the adapter's base is the zip's base-model/ (the frozen loaded model)
    expect((await s.start({ args: { ...args, lora: { r: 2, lora_alpha: 4, target_modules: 'all-linear' } }, sftSteps: 0 })).end).toBe('finished');
    const lora = await unzip();
    const cfg = JSON.parse(strFromU8(lora.get('adapter/adapter_config.json')!));
    expect(cfg.base_model_name_or_path).toBe('base-model');
    const loraBase = await loadCheckpoint(mapSource(sub(lora, 'base-model/')));
    for (const [name, w] of loaded.tensors) expect(loraBase.tensors.get(name)!.every((x, i) => Object.is(x, w[i])), name).toBe(true);
    expect(strFromU8(lora.get('train_trl.py')!)).toContain('peft_config = LoraConfig(r=2, lora_alpha=4');
  }, 300_000);

  it('a Hub model is named by repo id and revision, not copied into the zip', async () => {
    const cfg = { model_type: 'llama', vocab_size: 300, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 128, tie_word_embeddings: true, rms_norm_eps: 1e-5 };
    const hub = await startHubServer({ 'owner/tiny-llama': { files: { ...virtualCheckpoint(cfg, { seed: 3 }).files, ...chatmlTokenizer(join(sharedDir(), 'data', 'gpt2-tokenizer', 'tokenizer.json'), 300) } } });
    try {
      const s = new Session(() => undefined);
      await s.init();
      await s.loadModel({ kind: 'hub', hubUrl: hub.url, repo: 'owner/tiny-llama', revision: 'abc123' });
      const pairs = readFileSync(join(demo, 'pairs-train.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 4).join('\n') + '\n';
      await s.loadDataset({ kind: 'bytes', name: 'pairs.jsonl', bytes: new TextEncoder().encode(pairs) }, { evalFraction: 0, seed: 1, maxEval: 0 }, 64);
      expect((await s.start({ args: { ...pageDefaultArgs, max_steps: 1, per_device_train_batch_size: 4, max_length: 64, eval_steps: 0 }, sftSteps: 0 })).end).toBe('finished');
      const { files, zip } = await s.exportZip({});
      expect(files.filter((f) => f.startsWith('base-model/'))).toEqual([]);
      const z = unzipSync(zip);
      const script = strFromU8(z['train_trl.py']);
      expect(script).toContain('MODEL = "owner/tiny-llama"');
      expect(script).toContain('REVISION = "abc123"  # the Hub revision the playground loaded');
      expect(script).toContain('model = load_model(MODEL, REVISION)');
      expect(strFromU8(z['README.txt'])).toMatch(/\(base model\) +owner\/tiny-llama at revision abc123 on the Hub: train_trl.py downloads it/);
    } finally {
      hub.close();
    }
  }, 300_000);
});
