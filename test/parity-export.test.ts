// Export parity: what `npm run train ... --export dir` writes loads in transformers 5.18
// (AutoModelForCausalLM.from_pretrained: no missing, unexpected or mismatched keys) and gives the token
// log-probs our engine gives on the same folder (1e-4); its tokenizer loads with AutoTokenizer and
// encodes like ours. F16/BF16 exports of the trained weights load too (the same rounded weights: 1e-4
// again, and within the dtype's rounding of the F32 numbers). The reverse direction: a folder written
// by transformers' save_pretrained, sharded into several files with an index (GPT-2 with its
// `transformer.` prefixes), loads in our engine with transformers' log-probs.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPreferenceDataset } from '../src/data/index';
import { releasePairBatch, uploadPairBatch, type PairBatch } from '../src/dpo/gpu-batch';
import { dpoMicroStep } from '../src/dpo/step';
import { collate, tokenizeDataset } from '../src/dpo/tokenize';
import { createParams, fromHf, releaseParams } from '../src/model/params';
import { exportHfFolder } from '../src/model/export';
import type { WriteDtype } from '../src/model/safetensors';
import { loadTokenizer } from '../src/model/tokenizer';
import { Transformer } from '../src/model/transformer';
import { loadCheckpoint, nodeFolderSource } from '../src/model/weights';
import { testGpu } from './helpers/gpu';
import { hhPairsFile, run, runOurTrain, runPython, tempDir, tinyModel, venvPython } from './helpers/python';

interface HfLogps {
  token_logps: number[][];
  seq_logps: number[];
  missing_keys: string[];
  unexpected_keys: string[];
  mismatched_keys: string[];
  dtype: string;
}

let data = '';

async function batchFor(modelDir: string): Promise<PairBatch> {
  const tok = loadTokenizer({
    tokenizerJson: readFileSync(join(modelDir, 'tokenizer.json'), 'utf8'),
    tokenizerConfig: readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8'),
  });
  const ds = await loadPreferenceDataset(readFileSync(data));
  const opts = { maxLength: 40, truncationMode: 'keep_start' as const };
  const { examples } = tokenizeDataset(tok, ds.pairs.slice(0, 3), opts);
  return collate(examples, tok.padId, opts);
}

/** Our engine's per-token log-probs of the batch (row s*T+t: log p(ids[t+1])), on the folder's weights. */
async function ourLogps(modelDir: string, b: PairBatch): Promise<{ tok: Float32Array; seq: Float32Array; dtype: string }> {
  const gpu = await testGpu();
  const ck = await loadCheckpoint(nodeFolderSource(modelDir));
  const params = createParams(gpu, ck.config, fromHf(ck.config, ck.tensors));
  const model = new Transformer(gpu, ck.config, params);
  const batch = uploadPairBatch(gpu, b);
  const r = await dpoMicroStep(gpu, model, { logps: new Float32Array(2 * b.N) }, batch, {
    beta: 0.1, kind: 'sigmoid', labelSmoothing: 0, referenceFree: false, gradScale: 1, grads: null, tokenLogps: true,
  });
  releasePairBatch(gpu, batch);
  releaseParams(gpu, params);
  return { tok: r.policyTokenLogps!, seq: r.policyLogps, dtype: ck.dtype };
}

async function hfLogps(modelDir: string, b: PairBatch, dtype = 'float32'): Promise<HfLogps> {
  const dir = tempDir('logps');
  const S = 2 * b.N;
  const rows = (a: ArrayLike<number>) => Array.from({ length: S }, (_, s) => Array.from(a).slice(s * b.T, (s + 1) * b.T));
  writeFileSync(join(dir, 'batch.json'), JSON.stringify({ input_ids: rows(b.inputIds), completion_mask: rows(b.completionMask) }));
  await runPython('logps.py', ['--model', modelDir, '--batch', join(dir, 'batch.json'), '--out', join(dir, 'out.json'), '--dtype', dtype]);
  return JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
}

/** max over scored tokens of |ours - hf| / max(1, |hf|); also checks the sequence sums. */
function tokenErr(b: PairBatch, ours: { tok: Float32Array; seq: Float32Array }, hf: HfLogps): number {
  let worst = 0;
  let scored = 0;
  for (let s = 0; s < 2 * b.N; s++) {
    for (let t = 0; t + 1 < b.T; t++) {
      if (b.completionMask[s * b.T + t + 1] !== 1) continue;
      scored++;
      const want = hf.token_logps[s][t];
      worst = Math.max(worst, Math.abs(ours.tok[s * b.T + t] - want) / Math.max(1, Math.abs(want)));
    }
    worst = Math.max(worst, Math.abs(ours.seq[s] - hf.seq_logps[s]) / Math.max(1, Math.abs(hf.seq_logps[s])) / 10);
  }
  expect(scored).toBeGreaterThan(20);
  return worst;
}

function expectCleanLoad(hf: HfLogps) {
  expect(hf.missing_keys).toEqual([]);
  expect(hf.unexpected_keys).toEqual([]);
  expect(hf.mismatched_keys).toEqual([]);
}

describe('export parity with transformers 5.18', () => {
  beforeAll(() => {
    venvPython();
    data = hhPairsFile(16);
  });

  for (const arch of ['gpt2', 'qwen3', 'llama'] as const) {
    it(
      `${arch}: npm run train --export loads in transformers with our log-probs; F16/BF16 too; AutoTokenizer loads`,
      async () => {
        const base = await tinyModel(arch, 3);
        const out = join(tempDir(`export-${arch}`), 'out');
        // 2 steps with a large learning rate, so the exported weights differ from the starting ones
        await runOurTrain([
          '--model', base, '--data', data, '--max_steps', '2', '--per_device_train_batch_size', '2',
          '--learning_rate', '3e-2', '--max_length', '32', '--shuffle', 'false', '--compute_kl', 'false', '--export', out,
        ]);
        const b = await batchFor(out);
        const ours = await ourLogps(out, b);
        const hf = await hfLogps(out, b);
        expectCleanLoad(hf);
        expect(hf.dtype).toBe('float32');
        const err = tokenErr(b, ours, hf);
        console.log(`${arch} F32 export: worst token log-prob error ${err.toExponential(2)}`);
        expect(err).toBeLessThan(1e-4);
        // training moved the weights: the starting model's log-probs differ
        const before = await hfLogps(base, b);
        const moved = Math.max(...before.seq_logps.map((x, i) => Math.abs(x - hf.seq_logps[i])));
        expect(moved).toBeGreaterThan(1e-2);

        // F16 / BF16 exports of the same weights
        const ck = await loadCheckpoint(nodeFolderSource(out));
        for (const [dtype, tol] of [['F16', 2e-3], ['BF16', 2e-2]] as [WriteDtype, number][]) {
          const dir = join(tempDir(`export-${arch}-${dtype}`), 'm');
          mkdirSync(dir, { recursive: true });
          const extra = new Map<string, Uint8Array>();
          for (const f of ['tokenizer.json', 'tokenizer_config.json']) extra.set(f, readFileSync(join(out, f)));
          for (const [name, bytes] of exportHfFolder(ck.config, ck.tensors, { dtype, extraFiles: extra })) writeFileSync(join(dir, name), bytes);
          const hfHalf = await hfLogps(dir, b, dtype === 'F16' ? 'float16' : 'bfloat16');
          expectCleanLoad(hfHalf);
          expect(hfHalf.dtype).toBe(dtype === 'F16' ? 'float16' : 'bfloat16');
          // transformers computing in the half dtype vs our F32 numbers: the dtype's rounding
          const halfErr = tokenErr(b, ours, hfHalf);
          console.log(`${arch} ${dtype} export, transformers in ${hfHalf.dtype}: worst error vs our F32 ${halfErr.toExponential(2)}`);
          expect(halfErr).toBeLessThan(tol);
          // the same rounded weights upcast to float32 on both sides: equal again to 1e-4
          const oursHalf = await ourLogps(dir, b);
          expect(oursHalf.dtype).toBe(dtype);
          const hfUp = await hfLogps(dir, b, 'float32');
          expect(tokenErr(b, oursHalf, hfUp)).toBeLessThan(1e-4);
        }

        // the exported tokenizer loads with AutoTokenizer and encodes like ours
        const text = 'Human: How do I bake bread?\n\nAssistant: Mix flour, water and yeast.';
        const py = `import json,sys\nfrom transformers import AutoTokenizer\nt=AutoTokenizer.from_pretrained(sys.argv[1])\nprint(json.dumps({"ids":t(sys.argv[2],add_special_tokens=False)["input_ids"],"eos":t.eos_token}))`;
        const r = await run(venvPython(), ['-c', py, out, text]);
        const got = JSON.parse(r.stdout.trim().split('\n').pop()!);
        const tok = loadTokenizer({
          tokenizerJson: readFileSync(join(out, 'tokenizer.json'), 'utf8'),
          tokenizerConfig: readFileSync(join(out, 'tokenizer_config.json'), 'utf8'),
        });
        expect(tok.encode(text, false)).toEqual(got.ids);
        expect(got.eos).toBe(arch === 'gpt2' ? '<|endoftext|>' : '<|im_end|>');
      },
      900_000,
    );
  }

  it('reverse: sharded save_pretrained folders (GPT-2 with transformer. prefixes, Qwen3) load in ours with transformers log-probs', async () => {
    for (const arch of ['gpt2', 'qwen3'] as const) {
      const dir = await tinyModel(arch, 5, arch === 'gpt2' ? '1MB' : '40KB');
      const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
      const files = new Set(Object.values(index.weight_map as Record<string, string>));
      expect(files.size).toBeGreaterThan(1);
      if (arch === 'gpt2') expect(Object.keys(index.weight_map).some((k) => k.startsWith('transformer.'))).toBe(true);
      const b = await batchFor(dir);
      const err = tokenErr(b, await ourLogps(dir, b), await hfLogps(dir, b));
      console.log(`${arch} sharded save_pretrained (${files.size} files): worst token log-prob error ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-4);
    }
  }, 900_000);
});
