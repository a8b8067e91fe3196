// The Python judges (torch, transformers, TRL) for the parity tests: the venv's interpreter and a few
// helpers to run scripts/py/*.py and `npm run train`. A missing venv FAILS the test with a sentence
// (the parity tests are part of the suite, never skipped silently).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sharedDir } from './paths';

export const ROOT = resolve(__dirname, '..', '..');

/** The venv's python; throws (failing the test) when the venv is missing or lacks the judges. */
export function venvPython(): string {
  const py = join(ROOT, '.venv', 'bin', 'python');
  if (!existsSync(py)) {
    throw new Error(`The Python judges are not installed: ${py} is missing. Run \`bash .ci/run\` (it creates .venv from scripts/py/requirements.txt) and run the tests again.`);
  }
  return py;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command; rejects with its stderr tail when it exits non-zero. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((res, rej) => {
    execFile(
      cmd,
      args,
      { cwd: ROOT, maxBuffer: 256 * 1024 * 1024, timeout: opts.timeoutMs ?? 600_000, env: { ...process.env, ...opts.env } },
      (err, stdout, stderr) => {
        const seconds = (performance.now() - t0) / 1000;
        if (err) {
          const how = err.killed ? `killed after ${opts.timeoutMs ?? 600_000} ms` : err.signal ? `died of ${err.signal}` : `exit code ${String(err.code)}`;
          rej(new Error(`${cmd} ${args.join(' ')} failed (${how}):\n${stderr.slice(-3000)}`));
        } else res({ stdout, stderr, seconds });
      },
    );
  });
}

/** Runs scripts/py/<script> with the venv's python. */
export function runPython(script: string, args: string[], timeoutMs?: number): Promise<RunResult> {
  return run(venvPython(), [join(ROOT, 'scripts', 'py', script), ...args], { timeoutMs, env: { PYTHONHASHSEED: '0', OMP_NUM_THREADS: '1' } });
}

/**
 * Many TRL runs in ONE Python process (`<script> --batch runs.json`, scripts/py/trl_dpo.py batch_main): each
 * run's argument list gets its own --log; returns each run's log by name ({error} for a run TRL refused).
 */
export async function runTrlBatch(script: string, runs: { name: string; argv: string[] }[], timeoutMs: number): Promise<Map<string, Record<string, number>[]>> {
  const dir = tempDir(script.replace(/\.py$/, ''));
  const logs = runs.map((_, i) => join(dir, `${i}.jsonl`));
  const file = join(dir, 'runs.json');
  writeFileSync(file, JSON.stringify(runs.map((r, i) => [...r.argv, '--log', logs[i]])));
  const t = await runPython(script, ['--batch', file], timeoutMs);
  console.log(`TRL: ${runs.length} runs in one process, ${t.seconds.toFixed(1)} s`);
  return new Map(runs.map((r, i) => [r.name, readJsonl(logs[i])]));
}

/** `npm run train -- ...` (scripts/train.ts through tsx), in this checkout. */
export function runOurTrain(args: string[], timeoutMs?: number): Promise<RunResult> {
  return run(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--import', './scripts/register-raw.mjs', 'scripts/train.ts', ...args], { timeoutMs });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dpo-${prefix}-`));
}

/** Builds a tiny random HF folder (scripts/py/make_tiny_model.py) in a temp dir and returns its path. */
export async function tinyModel(arch: 'gpt2' | 'llama' | 'qwen3', seed = 0, maxShardSize?: string): Promise<string> {
  const dir = join(tempDir(`tiny-${arch}`), arch);
  const shard = maxShardSize ? ['--max-shard-size', maxShardSize] : [];
  await runPython('make_tiny_model.py', ['--arch', arch, '--out', dir, '--seed', String(seed), ...shard]);
  return dir;
}

/**
 * `count` HH-RLHF harmless-base test pairs (implicit-prompt format) in file order, keeping pairs whose
 * prompt is short enough (< maxPromptChars) that TRL's keep_start filter keeps them at small max_length,
 * written as JSONL; returns the path.
 */
export function hhPairsFile(count: number, maxPromptChars = 160, maxChars = 600): string {
  const text = gunzipSync(readFileSync(join(sharedDir(), 'data', 'hh-rlhf-harmless-base-test.jsonl.gz'))).toString('utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { chosen: string; rejected: string };
    const cut = r.chosen.lastIndexOf('\n\nAssistant:');
    if (cut < maxPromptChars && r.chosen.length < maxChars) out.push(JSON.stringify(r));
    if (out.length === count) break;
  }
  const file = join(tempDir('hh'), `hh-${count}.jsonl`);
  writeFileSync(file, `${out.join('\n')}\n`);
  return file;
}

export function readJsonl(file: string): Record<string, number>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}
