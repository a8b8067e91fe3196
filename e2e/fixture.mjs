// Test fixtures for the e2e run: a tiny random GPT-2 in Hugging Face layout with the demo's word-level
// tokenizer, preference pairs cut from the demo corpus, a manifest like public/demo/manifest.json, a copy
// laid out like the Hub (`<repo>/resolve/main/<file>`), and bad files (a PNG named .jsonl, a safetensors
// file with a broken header). Deterministic (seeded).
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

/** Optimizer steps of the e2e run (SwiftShader on a shared CPU: a few seconds each). */
export const STEPS = 24;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randn(n, rand, std) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = std * Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  return out;
}

/** safetensors: 8-byte little-endian header length, JSON header, then raw F32 data. */
export function safetensors(tensors) {
  const header = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const t of tensors) {
    const bytes = t.data.length * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += ' ';
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}

export function tinyGpt2(vocab, { n_embd = 32, n_layer = 2, n_head = 4, n_positions = 64, seed = 7 } = {}) {
  const rand = mulberry32(seed);
  const C = n_embd;
  const t = [];
  const w = (name, shape, std = 0.02) => t.push({ name, shape, data: randn(shape.reduce((a, b) => a * b, 1), rand, std) });
  const c = (name, shape, v) => t.push({ name, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) });
  w('wte.weight', [vocab, C]);
  w('wpe.weight', [n_positions, C], 0.01);
  for (let i = 0; i < n_layer; i++) {
    c(`h.${i}.ln_1.weight`, [C], 1);
    c(`h.${i}.ln_1.bias`, [C], 0);
    w(`h.${i}.attn.c_attn.weight`, [C, 3 * C]);
    c(`h.${i}.attn.c_attn.bias`, [3 * C], 0);
    w(`h.${i}.attn.c_proj.weight`, [C, C]);
    c(`h.${i}.attn.c_proj.bias`, [C], 0);
    c(`h.${i}.ln_2.weight`, [C], 1);
    c(`h.${i}.ln_2.bias`, [C], 0);
    w(`h.${i}.mlp.c_fc.weight`, [C, 4 * C]);
    c(`h.${i}.mlp.c_fc.bias`, [4 * C], 0);
    w(`h.${i}.mlp.c_proj.weight`, [4 * C, C]);
    c(`h.${i}.mlp.c_proj.bias`, [C], 0);
  }
  c('ln_f.weight', [C], 1);
  c('ln_f.bias', [C], 0);
  const config = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: vocab,
    n_embd: C,
    n_layer,
    n_head,
    n_positions,
    n_inner: null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    bos_token_id: 0,
    eos_token_id: 0,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
  };
  return { config, weights: safetensors(t) };
}

/**
 * Writes the fixtures under `root` (served by the preview server) and the upload files under `uploads`.
 * Returns the paths the scenarios use.
 */
export function writeFixtures(root, uploads, demoDir) {
  const tokJson = readFileSync(join(demoDir, 'tokenizer.json'), 'utf8');
  const vocab = Object.keys(JSON.parse(tokJson).model.vocab).length;
  const { config, weights } = tinyGpt2(Math.max(vocab, 2));
  const modelFiles = {
    'config.json': JSON.stringify(config, null, 1),
    'model.safetensors': weights,
    'tokenizer.json': tokJson,
    'tokenizer_config.json': readFileSync(join(demoDir, 'tokenizer_config.json'), 'utf8'),
  };
  const write = (dir, files) => {
    mkdirSync(dir, { recursive: true });
    for (const [n, b] of Object.entries(files)) writeFileSync(join(dir, n), b);
  };
  // the demo-like manifest: model folder, pairs, held-out prompts
  const e2e = join(root, 'e2e');
  write(join(e2e, 'model'), modelFiles);
  const lines = readFileSync(join(demoDir, 'corpus.txt'), 'utf8').split('\n').filter((l) => l.split(' ').length > 16);
  const pair = (i) => {
    const a = lines[i].split(' ');
    const b = lines[i + 1].split(' ');
    return { prompt: a.slice(0, 5).join(' '), chosen: ` ${a.slice(5, 15).join(' ')}`, rejected: ` ${b.slice(5, 15).join(' ')}` };
  };
  const jsonl = (rows) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  writeFileSync(join(e2e, 'pairs-train.jsonl'), jsonl(Array.from({ length: 64 }, (_, i) => pair(2 * i))));
  writeFileSync(join(e2e, 'pairs-eval.jsonl'), jsonl(Array.from({ length: 12 }, (_, i) => pair(200 + 2 * i))));
  writeFileSync(join(e2e, 'prompts-heldout.json'), JSON.stringify(Array.from({ length: 4 }, (_, i) => lines[400 + i].split(' ').slice(0, 5).join(' '))));
  writeFileSync(
    join(e2e, 'manifest.json'),
    JSON.stringify({
      name: 'e2e tiny GPT-2',
      description: 'A random 2-layer GPT-2 (hidden 32) with the demo tokenizer, for the end-to-end test.',
      model: 'e2e/model',
      train: 'e2e/pairs-train.jsonl',
      eval: 'e2e/pairs-eval.jsonl',
      prompts: 'e2e/prompts-heldout.json',
      args: { max_steps: STEPS, per_device_train_batch_size: 4, per_device_eval_batch_size: 12, learning_rate: 0.002, beta: 0.1, eval_steps: 10, max_length: 32, warmup_ratio: 0 },
    }),
  );
  // the same model, laid out like the Hub
  write(join(root, 'e2e-hub', 'tiny', 'gpt2-e2e', 'resolve', 'main'), modelFiles);
  // bad uploads
  mkdirSync(uploads, { recursive: true });
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3, 4]);
  writeFileSync(join(uploads, 'picture.jsonl'), png);
  writeFileSync(join(uploads, 'broken.jsonl'), `${JSON.stringify(pair(0))}\n{"prompt": "oops", "chosen": \n${JSON.stringify(pair(2))}\n`);
  const badModel = join(uploads, 'bad-model');
  write(badModel, { ...modelFiles, 'model.safetensors': (() => {
    const b = new Uint8Array(weights);
    new DataView(b.buffer).setBigUint64(0, 10n ** 12n, true); // header length far beyond the file
    return b;
  })() });
  copyFileSync(join(demoDir, 'tokenizer.json'), join(uploads, 'tokenizer.json'));
  return {
    manifest: 'e2e/manifest.json',
    hubPath: 'e2e-hub',
    hubRepo: 'tiny/gpt2-e2e',
    png: join(uploads, 'picture.jsonl'),
    broken: join(uploads, 'broken.jsonl'),
    badModelFiles: Object.keys(modelFiles).map((n) => join(badModel, n)),
  };
}
