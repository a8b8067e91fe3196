// Hub models before and during download, against a real local HTTP server that answers like the Hub
// (e2e/hub-server.mjs): the plan reads only config.json, the index and the safetensors headers (Range
// requests); pytorch_model.bin-only repos are refused without fetching the .bin; gated repos need the
// Bearer token; a download cut mid-file (a real destroyed socket) resumes from its stored chunks with a
// Range request, and starts over when the server ignores Range.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QWEN3_06B_CONFIG, SMOLLM2_135M_CONFIG, startHubServer, virtualCheckpoint, chatmlTokenizer, type HubServer, type VirtualFile } from '../e2e/hub-server.mjs';
import { planHubModel } from '../src/worker/hub-plan';
import { downloadHubFile, memoryStore } from '../src/worker/hub-download';
import { hubSource } from '../src/worker/sources';
import { defaultTrainerArgs } from '../src/dpo/trainer';
import { countParameters, parseConfig } from '../src/model/config';
import { loadCheckpoint } from '../src/model/weights';
import { bf16BitsToF32 } from '../src/model/safetensors';
import { estimateMemory } from '../src/worker/memory';
import { i18n } from '../src/ui/i18n';
import { codeSentence } from '../src/ui/i18n/errors';
import { sharedDir } from './helpers/paths';

const tinyCfg = { model_type: 'llama', vocab_size: 300, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 128, tie_word_embeddings: true, rms_norm_eps: 1e-5 };
const tiny = virtualCheckpoint(tinyCfg, { seed: 5, shardBytes: 40_000 });
const limits = { maxBindingBytes: 2 ** 30, maxBufferBytes: 2 ** 30 };
let hub: HubServer;

const whole = (f: unknown): Buffer => (Buffer.isBuffer(f) ? f : (f as VirtualFile).read(0, (f as VirtualFile).size));

beforeAll(async () => {
  hub = await startHubServer({
    'test/tiny-sharded': { files: { ...tiny.files, ...chatmlTokenizer(`${sharedDir()}/data/gpt2-tokenizer/tokenizer.json`, 50000) } },
    'test/smollm2-135m': { files: virtualCheckpoint(SMOLLM2_135M_CONFIG).files },
    'test/qwen3-0.6b': { files: virtualCheckpoint(QWEN3_06B_CONFIG, { shardBytes: 2 ** 30 }).files },
    'test/bin-only': { files: { 'config.json': Buffer.from(JSON.stringify(tinyCfg)), 'pytorch_model.bin': Buffer.alloc(300_000, 7) } },
    'test/gated': { files: tiny.files, token: 'hf_secret_token' },
  });
});
afterAll(() => hub?.close());

const ref = (repo: string, token?: string) => ({ hubUrl: hub.url, repo, revision: 'main', token });

describe('Hub model plan (before any weight)', () => {
  it('reads the sharded index and headers only: parameters, files, sizes, dtype and estimate', async () => {
    hub.log.length = 0;
    const plan = await planHubModel(ref('test/tiny-sharded'), defaultTrainerArgs, limits);
    expect(tiny.shards).toBeGreaterThanOrEqual(3);
    expect(plan.files.map((f) => f.path)).toEqual(Object.keys(tiny.files).filter((f) => f.endsWith('.safetensors')));
    expect(plan.downloadBytes).toBe(plan.files.reduce((a, f) => a + (tiny.files[f.path] as VirtualFile).size, 0));
    expect(plan.dtype).toBe('BF16');
    expect(plan.parameters).toBe(tiny.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0));
    expect(plan.estimate).toEqual(estimateMemory(parseConfig(tinyCfg), defaultTrainerArgs, 1024, limits));
    // no weight bytes: every GET of a shard is a Range inside its header
    for (const r of hub.log.filter((l) => l.path.endsWith('.safetensors') && l.method === 'GET')) {
      expect(r.range).toMatch(/^bytes=\d+-\d+$/);
      const [a, b] = r.range!.slice(6).split('-').map(Number);
      expect(b - a).toBeLessThan(10_000);
    }
  });

  it('gives the published parameter counts of SmolLM2-135M and Qwen3-0.6B, and steers the 0.6B to LoRA', async () => {
    const small = await planHubModel(ref('test/smollm2-135m'), defaultTrainerArgs, limits);
    expect(small.parameters).toBe(134_515_008);
    expect(small.parameters).toBe(countParameters(parseConfig(SMOLLM2_135M_CONFIG)));
    expect(small.files.length).toBeGreaterThan(1);
    const big = await planHubModel(ref('test/qwen3-0.6b'), { ...defaultTrainerArgs, per_device_train_batch_size: 2, max_length: 512 }, limits, 6 * 2 ** 30);
    expect(big.parameters).toBe(countParameters(parseConfig(QWEN3_06B_CONFIG)));
    expect(big.parameters).toBe(596_049_920);
    expect(big.estimate.refusal).toMatch(/more than the 6\.00 GiB/);
    expect(big.refusal).toBeNull();
    expect(big.fits[0].patch.lora).toBeTruthy();
    expect(big.fits[0].totalBytes).toBeLessThan(6 * 2 ** 30);
    // the suggested settings really fit by the same estimate
    const e = estimateMemory(parseConfig(QWEN3_06B_CONFIG), { ...defaultTrainerArgs, per_device_train_batch_size: 2, max_length: 512, ...big.fits[0].patch }, 512, limits, 6 * 2 ** 30);
    expect(e.refusal).toBeNull();
    expect(e.totalBytes).toBe(big.fits[0].totalBytes);
    // a budget nothing fits in: refused with a sentence, before download
    const none = await planHubModel(ref('test/qwen3-0.6b'), defaultTrainerArgs, limits, 2 ** 30);
    expect(none.fits).toEqual([]);
    expect(none.refusal).toMatch(/does not fit this GPU even with LoRA.*nothing was downloaded/);
    // the same refusal as a code with its numbers, said in Korean on the Korean page
    expect(none.refusalCode).toEqual({ code: 'hub.no-fit', params: { repo: 'test/qwen3-0.6b', millions: Math.round(countParameters(parseConfig(QWEN3_06B_CONFIG)) / 1e6), needBytes: none.estimate.totalBytes } });
    await i18n.changeLanguage('ko');
    const ko = codeSentence(none.refusalCode!.code, none.refusalCode!.params, none.refusal!);
    await i18n.changeLanguage('en');
    expect(ko).toMatch(/^'test\/qwen3-0\.6b'\(매개변수 \d+M개\)는 LoRA, gradient_checkpointing, max_length 128을 모두 써도 이 GPU에 들어가지 않습니다 \(약 [\d.,]+ GiB 필요\)\. 아무것도 내려받지 않았습니다\.$/);
  });

  it('refuses a repo with only pytorch_model.bin without downloading it', async () => {
    hub.log.length = 0;
    await expect(planHubModel(ref('test/bin-only'), defaultTrainerArgs, limits)).rejects.toThrow(/has only pytorch_model\.bin .*did not download/);
    expect(hub.log.filter((l) => l.path.endsWith('pytorch_model.bin') && l.method === 'GET')).toEqual([]);
  });

  it('sends the access token as Bearer, and says what to do without one', async () => {
    await expect(planHubModel(ref('test/gated'), defaultTrainerArgs, limits)).rejects.toThrow(/private or gated\. Paste an access token/);
    await expect(planHubModel(ref('test/gated', 'hf_wrong'), defaultTrainerArgs, limits)).rejects.toThrow(/refused the access token/);
    hub.log.length = 0;
    const plan = await planHubModel(ref('test/gated', 'hf_secret_token'), defaultTrainerArgs, limits);
    expect(plan.files.length).toBe(tiny.shards);
    expect(hub.log.every((l) => l.auth === 'Bearer hf_secret_token')).toBe(true);
  });
});

describe('Hub downloads', () => {
  it('loads a sharded BF16 checkpoint through the source, with per-file progress', async () => {
    const plan = await planHubModel(ref('test/tiny-sharded'), defaultTrainerArgs, limits);
    const seen = new Map<string, { loaded: number; total: number | null; fileIndex: number; fileCount: number }>();
    const store = memoryStore();
    const src = hubSource(ref('test/tiny-sharded'), { plan, store: Promise.resolve(store), onProgress: (p) => seen.set(p.file, p) });
    const ck = await loadCheckpoint(src);
    expect(ck.dtype).toBe('BF16');
    expect([...seen.values()].filter((p) => p.fileCount === tiny.shards).map((p) => p.fileIndex).sort()).toEqual(Array.from({ length: tiny.shards }, (_, i) => i + 1));
    for (const f of plan.files) expect(seen.get(f.path)).toMatchObject({ loaded: f.bytes, total: f.bytes });
    // values are the server's BF16 bits
    const shard = plan.files[0].path;
    const bytes = whole(tiny.files[shard]);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString());
    const [name, e] = Object.entries(header).find(([k]) => k !== '__metadata__') as [string, { data_offsets: [number, number] }];
    const got = ck.tensors.get(name)!;
    const bits = bytes.readUInt16LE(8 + n + e.data_offsets[0] + 2 * 17);
    expect(got[17]).toBe(bf16BitsToF32(bits));
    // a second load reads the cache only
    hub.log.length = 0;
    await loadCheckpoint(hubSource(ref('test/tiny-sharded'), { plan, store: Promise.resolve(store) }));
    expect(hub.log.filter((l) => l.path.endsWith('.safetensors'))).toEqual([]);
  });

  it('resumes a cut download from its stored chunks with a Range request', async () => {
    const path = Object.keys(tiny.files).find((f) => f.endsWith('.safetensors'))!;
    const full = whole(tiny.files[path]);
    const store = memoryStore();
    const chunkBytes = 4096;
    hub.cutOnce(path, 3 * chunkBytes + 1000);
    await expect(downloadHubFile(ref('test/tiny-sharded'), path, { store, chunkBytes, bytes: full.length })).rejects.toThrow(/broke off at|ended at .* What arrived is kept: load again/);
    expect(store.keys().filter((k) => k.includes('dpo-part=')).length).toBe(3);
    hub.log.length = 0;
    let resumed = -1;
    const got = await downloadHubFile(ref('test/tiny-sharded'), path, { store, chunkBytes, bytes: full.length, onProgress: (p) => (resumed = p.resumedFrom) });
    expect(hub.log.map((l) => l.range)).toEqual([`bytes=${3 * chunkBytes}-`]);
    expect(resumed).toBe(3 * chunkBytes);
    expect(Buffer.from(got!).equals(full)).toBe(true);
    expect(store.keys().filter((k) => k.includes('dpo-'))).toEqual([]);
  });

  it('starts over when the server ignores Range', async () => {
    const path = Object.keys(tiny.files).filter((f) => f.endsWith('.safetensors'))[1];
    const full = whole(tiny.files[path]);
    const store = memoryStore();
    hub.cutOnce(path, 9000);
    await expect(downloadHubFile(ref('test/tiny-sharded'), path, { store, chunkBytes: 4096, bytes: full.length })).rejects.toThrow(/What arrived is kept/);
    hub.setRangeSupport(false);
    try {
      const got = await downloadHubFile(ref('test/tiny-sharded'), path, { store, chunkBytes: 4096, bytes: full.length });
      expect(Buffer.from(got!).equals(full)).toBe(true);
    } finally {
      hub.setRangeSupport(true);
    }
  });
});
