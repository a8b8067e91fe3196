import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parameterSpecs, parseConfig, UnsupportedModelError } from '../src/model/config';
import { exportHfFolder } from '../src/model/export';
import { parseSafetensorsHeader, readSafetensors, writeSafetensors } from '../src/model/safetensors';
import { CheckpointError, loadCheckpoint, mapSource, nodeFolderSource } from '../src/model/weights';
import { loadError } from './helpers/checkpoint';
import { run, tempDir, venvPython } from './helpers/python';

const FIX = '/work/shared/fixtures';
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const dec = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));

function folder(name: string): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (const f of ['config.json', 'model.safetensors']) m.set(f, new Uint8Array(readFileSync(`${FIX}/${name}/policy/${f}`)));
  return m;
}

describe('loadCheckpoint on the shared fixtures', () => {
  it('gpt2-tiny via nodeFolderSource', async () => {
    const ck = await loadCheckpoint(nodeFolderSource(`${FIX}/gpt2-tiny/policy`));
    expect(ck.config).toMatchObject({ modelType: 'gpt2', vocabSize: 101, hidden: 32, layers: 2, heads: 4, intermediate: 128 });
    expect(ck.dtype).toBe('F32');
    const specs = parameterSpecs(ck.config);
    expect([...ck.tensors.keys()]).toEqual(specs.map((s) => s.name));
    expect(ck.tensors.size).toBe(2 + 2 * 12 + 2);
    expect(ck.tensors.has('lm_head.weight')).toBe(false);
    for (const s of specs) expect(ck.tensors.get(s.name)!.length).toBe(s.shape.reduce((a, b) => a * b, 1));
    expect(ck.tensors.get('h.1.attn.c_attn.weight')!.length).toBe(32 * 96);
    // values equal the raw file's
    const raw = readSafetensors(new Uint8Array(readFileSync(`${FIX}/gpt2-tiny/policy/model.safetensors`)));
    expect(ck.tensors.get('wte.weight')).toEqual(raw.get('wte.weight')!.data);
    expect(ck.tensors.get('h.0.mlp.c_proj.bias')).toEqual(raw.get('h.0.mlp.c_proj.bias')!.data);
  });

  it('llama-tiny via nodeFolderSource (GQA, untied lm_head)', async () => {
    const ck = await loadCheckpoint(nodeFolderSource(`${FIX}/llama-tiny/policy`));
    expect(ck.config).toMatchObject({ modelType: 'llama', vocabSize: 97, hidden: 32, heads: 4, kvHeads: 2, headDim: 8, normEps: 1e-5 });
    expect(ck.tensors.size).toBe(21);
    expect(ck.tensors.get('model.layers.1.self_attn.k_proj.weight')!.length).toBe(16 * 32);
    expect(ck.tensors.get('lm_head.weight')!.length).toBe(97 * 32);
    expect(ck.ignored).toEqual([]);
    const raw = readSafetensors(new Uint8Array(readFileSync(`${FIX}/llama-tiny/policy/model.safetensors`)));
    expect(ck.tensors.get('lm_head.weight')).toEqual(raw.get('lm_head.weight')!.data);
  });

  it('nodeFolderSource returns null for a missing file', async () => {
    const src = nodeFolderSource(`${FIX}/gpt2-tiny/policy`);
    expect(await src('tokenizer.json')).toBeNull();
    expect((await src('config.json'))!.length).toBeGreaterThan(10);
  });
});

describe('loadCheckpoint: name mapping, shards, errors', () => {
  it('GPT-2 saved by GPT2LMHeadModel (transformer. prefix, attn.bias buffers, tied lm_head)', async () => {
    const files = folder('gpt2-tiny');
    const raw = readSafetensors(files.get('model.safetensors')!);
    const tensors = [...raw].map(([name, t]) => ({ name: `transformer.${name}`, shape: t.shape, data: t.data }));
    tensors.push({ name: 'transformer.h.0.attn.bias', shape: [1, 1, 64, 64], data: new Float32Array(64 * 64) });
    tensors.push({ name: 'transformer.h.0.attn.masked_bias', shape: [], data: new Float32Array([-1e4]) });
    tensors.push({ name: 'lm_head.weight', shape: [101, 32], data: raw.get('wte.weight')!.data });
    files.set('model.safetensors', writeSafetensors(tensors, { format: 'pt' }));
    const ck = await loadCheckpoint(mapSource(files));
    expect(ck.tensors.get('h.1.ln_2.weight')).toEqual(raw.get('h.1.ln_2.weight')!.data);
    expect(ck.tensors.size).toBe(28);
    expect(ck.ignored.sort()).toEqual(['lm_head.weight', 'transformer.h.0.attn.bias', 'transformer.h.0.attn.masked_bias']);
  });

  it('sharded checkpoint via model.safetensors.index.json, in BF16', async () => {
    const files = folder('llama-tiny');
    const raw = readSafetensors(files.get('model.safetensors')!);
    files.delete('model.safetensors');
    const names = [...raw.keys()];
    const shards = [names.slice(0, 8), names.slice(8)];
    const weightMap: Record<string, string> = {};
    shards.forEach((ns, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      files.set(file, writeSafetensors(ns.map((n) => ({ name: n, shape: raw.get(n)!.shape, data: raw.get(n)!.data, dtype: 'BF16' as const }))));
      for (const n of ns) weightMap[n] = file;
    });
    files.set('model.safetensors.index.json', enc({ metadata: { total_size: 0 }, weight_map: weightMap }));
    const ck = await loadCheckpoint(mapSource(files));
    expect(ck.dtype).toBe('BF16');
    expect(ck.tensors.size).toBe(21);
    const a = raw.get('model.norm.weight')!.data;
    const b = ck.tensors.get('model.norm.weight')!;
    for (let i = 0; i < a.length; i++) expect(Math.abs(b[i] - a[i])).toBeLessThanOrEqual(Math.abs(a[i]) * 2 ** -8);
    // a missing shard is named
    files.delete('model-00002-of-00002.safetensors');
    const err = await loadError(files);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toMatch(/shard model-00002-of-00002.safetensors .* missing/);
    // hostile shard paths are refused
    files.set('model.safetensors.index.json', enc({ weight_map: { x: '../../etc/passwd' } }));
    expect((await loadError(files)).message).toMatch(/not a plain file name/);
  });

  it('lists missing tensors and wrong shapes', async () => {
    const files = folder('llama-tiny');
    const raw = readSafetensors(files.get('model.safetensors')!);
    const kept = [...raw]
      .filter(([n]) => n !== 'model.layers.1.mlp.up_proj.weight' && n !== 'lm_head.weight')
      .map(([name, t]) =>
        name === 'model.norm.weight' ? { name, shape: [16, 2], data: t.data } : { name, shape: t.shape, data: t.data },
      );
    files.set('model.safetensors', writeSafetensors(kept));
    const err = await loadError(files);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toMatch(/missing 2 tensor\(s\): model.layers.1.mlp.up_proj.weight, lm_head.weight/);
    expect(err.message).toMatch(/model.norm.weight is \[16, 2\], expected \[32\]/);
  });

  it('a config that does not match the weights (biases the file lacks)', async () => {
    const files = folder('llama-tiny');
    files.set('config.json', enc({ ...dec(files.get('config.json')!), attention_bias: true }));
    const err = await loadError(files);
    expect(err.message).toMatch(/missing 8 tensor\(s\): model.layers.0.self_attn.q_proj.bias/);
  });

  it('friendly errors for missing or broken files', async () => {
    expect((await loadError(new Map())).message).toBe('The model folder has no config.json.');
    const files = folder('gpt2-tiny');
    files.delete('model.safetensors');
    expect((await loadError(files)).message).toMatch(/neither model.safetensors nor model.safetensors.index.json/);
    files.set('pytorch_model.bin', new Uint8Array(4));
    expect((await loadError(files)).message).toMatch(/only has pytorch_model.bin/);
    const broken = folder('gpt2-tiny');
    const full = broken.get('model.safetensors')!;
    broken.set('model.safetensors', full.subarray(0, full.length - 100)); // a download cut short
    const e = await loadError(broken);
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toMatch(/^model.safetensors: The safetensors header is invalid: tensor '.*' lies outside the file/);
    const badJson = folder('gpt2-tiny');
    badJson.set('config.json', new TextEncoder().encode('{oops'));
    expect((await loadError(badJson)).message).toMatch(/config.json is not valid JSON/);
    const mistral = folder('gpt2-tiny');
    mistral.set('config.json', enc({ model_type: 'mistral' }));
    expect(await loadError(mistral)).toBeInstanceOf(UnsupportedModelError);
  });
});

describe('exportHfFolder', () => {
  it('round-trips gpt2-tiny in F32 exactly, unprefixed, without lm_head, with extra files', async () => {
    const ck = await loadCheckpoint(nodeFolderSource(`${FIX}/gpt2-tiny/policy`));
    const tok = new TextEncoder().encode('{"model":{}}');
    const out = exportHfFolder(ck.config, ck.tensors, { extraFiles: new Map([['tokenizer.json', tok]]) });
    expect([...out.keys()].sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    expect(out.get('tokenizer.json')).toBe(tok);
    const cfg = dec(out.get('config.json')!);
    expect(cfg).toEqual({ ...ck.config.raw, torch_dtype: 'float32' });
    const h = parseSafetensorsHeader(out.get('model.safetensors')!);
    expect(h.metadata).toEqual({ format: 'pt' });
    expect(h.tensors.has('lm_head.weight')).toBe(false);
    expect(h.tensors.has('wte.weight')).toBe(true);
    // same bytes as the file the Python library wrote
    expect(Buffer.from(out.get('model.safetensors')!).equals(readFileSync(`${FIX}/gpt2-tiny/policy/model.safetensors`))).toBe(true);
    const back = await loadCheckpoint(mapSource(out));
    for (const [n, t] of ck.tensors) expect(back.tensors.get(n)).toEqual(t);
  });

  it('F16 / BF16 export updates the dtype keys and rounds the weights', async () => {
    const ck = await loadCheckpoint(nodeFolderSource(`${FIX}/llama-tiny/policy`));
    const half = exportHfFolder({ ...ck.config, raw: { ...ck.config.raw, dtype: 'float32' } }, ck.tensors, { dtype: 'BF16' });
    const cfg = dec(half.get('config.json')!);
    expect(cfg.dtype).toBe('bfloat16');
    expect(cfg.torch_dtype).toBeUndefined();
    const back = await loadCheckpoint(mapSource(half));
    expect(back.dtype).toBe('BF16');
    expect(parseConfig(cfg).torchDtype).toBe('bfloat16');
    const a = ck.tensors.get('lm_head.weight')!;
    const b = back.tensors.get('lm_head.weight')!;
    let maxRel = 0;
    for (let i = 0; i < a.length; i++) maxRel = Math.max(maxRel, Math.abs(b[i] - a[i]) / Math.abs(a[i]));
    expect(maxRel).toBeLessThanOrEqual(2 ** -8);
    expect(maxRel).toBeGreaterThan(0);
    const f16 = exportHfFolder(ck.config, ck.tensors, { dtype: 'F16' });
    expect(dec(f16.get('config.json')!).torch_dtype).toBe('float16');
    expect(parseSafetensorsHeader(f16.get('model.safetensors')!).tensors.get('model.norm.weight')!.dtype).toBe('F16');
  });

  it('refuses tensors that do not match the config', async () => {
    const ck = await loadCheckpoint(nodeFolderSource(`${FIX}/llama-tiny/policy`));
    const t = new Map(ck.tensors);
    t.delete('model.norm.weight');
    expect(() => exportHfFolder(ck.config, t, {})).toThrow(/no tensor 'model.norm.weight'/);
    t.set('model.norm.weight', new Float32Array(31));
    expect(() => exportHfFolder(ck.config, t, {})).toThrow(/'model.norm.weight' has 31 values.*needs 32/);
  });
});

// Issue 13 item 4: real files whose bytes lie. A checkpoint written by the Python safetensors library
// with a float parameter cast to int32 (it used to load and train with grad_norm ~1e4) is refused by
// the tensor's name; a real checkpoint whose header's offsets or length no longer describe its bytes
// is refused with a sentence.
describe('loadCheckpoint refuses checkpoints that lie', () => {
  it('a float parameter stored as I32 (written by the Python safetensors library) is refused by name', async () => {
    const dir = tempDir('int-weights');
    const src = `${FIX}/gpt2-tiny/policy/model.safetensors`;
    const py = [
      'import sys, torch',
      'from safetensors.torch import load_file, save_file',
      'w = load_file(sys.argv[1])',
      'name = next(k for k in w if k.endswith("mlp.c_fc.weight"))',
      'w[name] = (w[name] * 1000).round().to(torch.int32)',
      'save_file(w, sys.argv[2], metadata={"format": "pt"})',
      'print(name)',
    ].join('\n');
    const r = await run(venvPython(), ['-c', py, src, join(dir, 'model.safetensors')]);
    const name = r.stdout.trim();
    const files = folder('gpt2-tiny');
    files.set('model.safetensors', new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    const e = await loadError(files);
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toBe(
      `model.safetensors: the parameter tensor '${name}' is stored as I32, which is not a floating-point type: model weights must be F32, F16 or BF16. The file is damaged or was written with the wrong dtype; save the model again (save_pretrained).`,
    );
    console.log(`I32 parameter: ${e.message}`);
  });

  it('a header whose offsets, or whose length, do not describe the bytes is refused with a sentence', async () => {
    const real = folder('gpt2-tiny').get('model.safetensors')!;
    const n = Number(new DataView(real.buffer, real.byteOffset).getBigUint64(0, true));
    const header = dec(real.subarray(8, 8 + n));
    /** The real file with its header rewritten (padded with spaces to the same length, as the format allows). */
    const withHeader = (h: unknown, lengthField = n) => {
      const text = JSON.stringify(h);
      expect(text.length).toBeLessThanOrEqual(n);
      const out = real.slice();
      out.set(new TextEncoder().encode(text.padEnd(n, ' ')), 8);
      new DataView(out.buffer).setBigUint64(0, BigInt(lengthField), true);
      return out;
    };
    const names = Object.keys(header).filter((k) => k !== '__metadata__').sort((a, b) => header[a].data_offsets[0] - header[b].data_offsets[0]);
    const cases: [string, Uint8Array, RegExp][] = [];
    // every tensor shifted 4 bytes further into the data: the first 4 bytes belong to no tensor, the last runs out
    const shifted = structuredClone(header);
    for (const k of names) shifted[k].data_offsets = shifted[k].data_offsets.map((o: number) => o + 4);
    cases.push(['shifted offsets', withHeader(shifted), /lies outside the file/]);
    // one tensor moved 4 bytes later (its size still right): a hole before it and an overlap after it
    const moved = structuredClone(header);
    const mid = names[Math.floor(names.length / 2)];
    moved[mid].data_offsets = moved[mid].data_offsets.map((o: number) => o + 4);
    cases.push(['one tensor moved', withHeader(moved), /4 bytes between tensors .* belong to no tensor/]);
    // the last tensor claims 4 bytes fewer (and a shape to match): the file's last bytes belong to no tensor
    const short = structuredClone(header);
    const lastName = names.at(-1)!;
    const lastT = short[lastName];
    const elems = lastT.shape.reduce((a: number, b: number) => a * b, 1);
    short[lastName] = { ...lastT, shape: [elems - 1], data_offsets: [lastT.data_offsets[0], lastT.data_offsets[1] - 4] };
    cases.push(['data after the last tensor', withHeader(short), new RegExp(`the last tensor '${lastName.replace(/\./g, '\\.')}' ends at byte \\d+ but the data section has \\d+ bytes`)]);
    // the first tensor starts 4 bytes in, the rest unchanged (and one shorter): a hole at the start
    const first = structuredClone(header);
    const f0 = first[names[0]];
    const e0 = f0.shape.reduce((a: number, b: number) => a * b, 1);
    first[names[0]] = { ...f0, shape: [e0 - 1], data_offsets: [4, f0.data_offsets[1]] };
    cases.push(['hole at the start', withHeader(first), /begins at byte 4 of the data, not 0/]);
    // the header length field says more than the header holds: the JSON runs into the tensor bytes
    cases.push(['header length too large', withHeader(header, n + 16), /not a safetensors file: its header is not (valid UTF-8|valid JSON)/]);
    for (const [what, bytes, re] of cases) {
      const files = folder('gpt2-tiny');
      files.set('model.safetensors', bytes);
      const e = await loadError(files);
      expect(e, what).toBeInstanceOf(CheckpointError);
      expect(e.message, what).toMatch(re);
      console.log(`${what}: ${e.message}`);
    }
  });
});
