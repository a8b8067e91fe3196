// Issue 9 item 4: the TRL script that `npm run train -- --export dir` writes (dir/train_trl.py, from
// src/dpo/trl-script.ts) runs as generated, with the real TRL 1.13 / transformers 5 on CPU, for 2 steps
// on the same data file and model, and its logged metrics (trainer.state.log_history, written by the
// script as log_history.jsonl) equal ours within 1e-3 relative (1e-5 absolute near zero). Tiny GPT-2
// with the GPT-2 tokenizer, 16 HH pairs in file order (--shuffle false), batch 4, max_length 48, lr 1e-3
// with linear decay. No warmup in the run: with 2 steps any warmup makes the first update zero, so the
// warmup translation (transformers 5 takes a ratio as a float warmup_steps) is checked on the source.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultTrainerArgs } from '../src/dpo/trainer';
import { trlScript } from '../src/dpo/trl-script';
import { hhPairsFile, readJsonl, runOurTrain, tempDir, tinyModel, venvPython } from './helpers/python';

const KEYS = ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'rewards/accuracies', 'logps/chosen', 'logps/rejected', 'grad_norm', 'learning_rate'] as const;
const REL = 1e-3;
const ABS = 1e-5;

function runScript(script: string, cwd: string): Promise<string> {
  return new Promise((res, rej) => {
    execFile(
      venvPython(),
      [script],
      {
        cwd,
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', CUDA_VISIBLE_DEVICES: '', OMP_NUM_THREADS: '1', PYTHONHASHSEED: '0', TQDM_DISABLE: '1', TOKENIZERS_PARALLELISM: 'false' },
      },
      (err, stdout, stderr) => (err ? rej(new Error(`train_trl.py failed (${err.message.split('\n')[0]}):\n${stderr.slice(-3000)}`)) : res(stdout + stderr)),
    );
  });
}

describe('the exported TRL script (train_trl.py) against real TRL', () => {
  it('writes warmup the way transformers 5 takes it, and only options TRL 1.x has', () => {
    const o = { model: '/m', dataFile: '/d.jsonl' };
    const ratio = trlScript({ ...defaultTrainerArgs, warmup_ratio: 0.1 }, o);
    expect(ratio).toContain('warmup_steps=0.1,');
    expect(ratio).not.toContain('warmup_ratio');
    expect(trlScript({ ...defaultTrainerArgs, warmup_ratio: 0.1, warmup_steps: 5 }, o)).toContain('warmup_steps=5,');
    const odd = trlScript({ ...defaultTrainerArgs, reference_free: true, rpo_alpha: 1, shuffle: true }, o);
    expect(odd).not.toMatch(/reference_free=|rpo_alpha=/);
    expect(odd).toContain('SHUFFLE = True');
    expect(trlScript({ ...defaultTrainerArgs, shuffle: false }, o)).toContain('SHUFFLE = False');
    expect(trlScript(defaultTrainerArgs, { ...o, ref: '/r' })).toContain('ref_model = load_model(os.path.join(HERE, "/r"))');
    // local paths resolve against the script's folder; a Hub repo id stays an id, at its revision
    const local = trlScript(defaultTrainerArgs, { model: './base-model', dataFile: 'train.jsonl' });
    expect(local).toContain('MODEL = os.path.join(HERE, "base-model")');
    expect(local).toContain('REVISION = None');
    expect(local).toContain('DATA = os.path.join(HERE, "train.jsonl")');
    const hub = trlScript(defaultTrainerArgs, { model: 'HuggingFaceTB/SmolLM2-135M', revision: 'abc123', dataFile: 'train.jsonl' });
    expect(hub).toContain('MODEL = "HuggingFaceTB/SmolLM2-135M"');
    expect(hub).toContain('REVISION = "abc123"');
    expect(hub).toContain('tokenizer = AutoTokenizer.from_pretrained(MODEL, revision=REVISION)');
    // the page's batch is global: 8 pairs x 1 accumulation, divided by WORLD_SIZE in the script
    expect(hub).toContain('PAGE_BATCH, PAGE_ACCUM = 8, 1');
    expect(hub).toContain('per_device_train_batch_size=PER_DEVICE_BATCH,');
  });

  it('runs 2 steps with TRL on CPU and its metrics equal ours', async () => {
    const model = await tinyModel('gpt2');
    const data = hhPairsFile(16);
    const work = tempDir('trl-script');
    const exportDir = join(work, 'export');
    const ours = join(work, 'ours.jsonl');
    await runOurTrain([
      '--model', model,
      '--data', data,
      '--max_steps', '2',
      '--shuffle', 'false',
      '--per_device_train_batch_size', '4',
      '--logging_steps', '1',
      '--learning_rate', '1e-3',
      '--max_length', '48',
      '--beta', '0.1',
      '--log', ours,
      '--export', exportDir,
    ]);
    const script = join(exportDir, 'train_trl.py');
    expect(existsSync(script)).toBe(true);
    const src = readFileSync(script, 'utf8');
    // transformers 5 / TRL 1.x options only (warmup_ratio and reference_free would make the config fail).
    expect(src).not.toMatch(/warmup_ratio=|reference_free=/);
    expect(src).toContain('warmup_steps=0,');
    expect(src).toContain('report_to="none"');

    // run from another folder: the output goes beside the script
    const cwd = tempDir('trl-script-run');
    await runScript(script, cwd);
    const histFile = join(exportDir, 'dpo-playground-run', 'log_history.jsonl');
    expect(existsSync(histFile)).toBe(true);
    expect(existsSync(join(exportDir, 'dpo-playground-run', 'model.safetensors'))).toBe(true);
    const trl = readJsonl(histFile).filter((r) => r.loss !== undefined);
    const mine = readJsonl(ours).filter((r) => r.loss !== undefined);
    expect(trl.map((r) => r.step)).toEqual([1, 2]);
    expect(mine.map((r) => r.step)).toEqual([1, 2]);

    const bad: string[] = [];
    const lines = [`\n=== train_trl.py (TRL) vs ours ===`, ['step', ...KEYS].map((k) => k.padStart(14)).join(' ')];
    for (let s = 0; s < 2; s++) {
      const t = trl[s];
      const o = mine[s];
      lines.push([`${t.step} TRL`.padStart(14), ...KEYS.map((k) => String(t[k]).slice(0, 14).padStart(14))].join(' '));
      lines.push([`${o.step} ours`.padStart(14), ...KEYS.map((k) => String(o[k]).slice(0, 14).padStart(14))].join(' '));
      for (const k of KEYS) {
        const a = t[k];
        const b = o[k];
        if (typeof a !== 'number' || typeof b !== 'number' || !(Math.abs(a - b) <= REL * Math.abs(a) || Math.abs(a - b) <= ABS)) {
          bad.push(`step ${t.step} ${k}: TRL ${a}, ours ${b}`);
        }
      }
    }
    console.log(lines.join('\n'));
    // linear decay over 2 steps, and the second step's rewards come from the first update.
    expect(trl.map((r) => r.learning_rate)).toEqual([1e-3, 5e-4]);
    expect(Math.abs(trl[1]['rewards/margins'])).toBeGreaterThan(1e-4);
    expect(bad).toEqual([]);
  }, 240_000);
});
