// A local server that answers like the Hugging Face Hub, for the e2e and the Node tests: model repos at
// /{repo}/resolve/{revision}/{file} (GET with Range, HEAD with X-Linked-Size/ETag, CORS for a page on
// another port, Bearer tokens for gated repos), dataset repos at /datasets/{repo}/resolve/..., and the
// dataset viewer's Parquet listing at /api/datasets/{repo}/parquet/{config}/{split}.
//
// Checkpoints of real size are virtual: real config.json, a real safetensors header per shard and an
// index, and BF16 weights generated on the fly from (seed, tensor, element) by a fast hash, so any byte
// range can be served without writing gigabytes to disk and every download of a file is the same.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

/** config.json of HuggingFaceTB/SmolLM2-135M-Instruct (as published). */
export const SMOLLM2_135M_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 576,
  initializer_range: 0.041666666666666664,
  intermediate_size: 1536,
  is_llama_config: true,
  max_position_embeddings: 8192,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  pad_token_id: 2,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_interleaved: false,
  rope_scaling: null,
  rope_theta: 100000,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.42.3',
  use_cache: true,
  vocab_size: 49152,
};

/** config.json of Qwen/Qwen3-0.6B (as published). */
export const QWEN3_06B_CONFIG = {
  architectures: ['Qwen3ForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  head_dim: 128,
  hidden_act: 'silu',
  hidden_size: 1024,
  initializer_range: 0.02,
  intermediate_size: 3072,
  max_position_embeddings: 40960,
  max_window_layers: 28,
  model_type: 'qwen3',
  num_attention_heads: 16,
  num_hidden_layers: 28,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: null,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.51.0',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

/** SmolLM2-Instruct's chat template (tokenizer_config.json of HuggingFaceTB/SmolLM2-135M-Instruct). */
export const SMOLLM2_CHAT_TEMPLATE =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/** Parameter names and shapes of a Llama-family config (llama, qwen2, qwen3), as transformers names them. */
export function llamaParams(cfg) {
  const C = cfg.hidden_size;
  const H = cfg.num_attention_heads;
  const KV = cfg.num_key_value_heads ?? H;
  const D = cfg.head_dim ?? C / H;
  const I = cfg.intermediate_size;
  const qwen3 = cfg.model_type === 'qwen3';
  const bias = cfg.model_type === 'qwen2' || cfg.attention_bias === true;
  const out = [{ name: 'model.embed_tokens.weight', shape: [cfg.vocab_size, C], kind: 'w' }];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    out.push({ name: `${p}input_layernorm.weight`, shape: [C], kind: 'norm' });
    out.push({ name: `${p}self_attn.q_proj.weight`, shape: [H * D, C], kind: 'w' });
    out.push({ name: `${p}self_attn.k_proj.weight`, shape: [KV * D, C], kind: 'w' });
    out.push({ name: `${p}self_attn.v_proj.weight`, shape: [KV * D, C], kind: 'w' });
    if (bias) for (const [n, d] of [['q', H * D], ['k', KV * D], ['v', KV * D]]) out.push({ name: `${p}self_attn.${n}_proj.bias`, shape: [d], kind: 'bias' });
    out.push({ name: `${p}self_attn.o_proj.weight`, shape: [C, H * D], kind: 'w' });
    if (qwen3) {
      out.push({ name: `${p}self_attn.q_norm.weight`, shape: [D], kind: 'norm' });
      out.push({ name: `${p}self_attn.k_norm.weight`, shape: [D], kind: 'norm' });
    }
    out.push({ name: `${p}post_attention_layernorm.weight`, shape: [C], kind: 'norm' });
    out.push({ name: `${p}mlp.gate_proj.weight`, shape: [I, C], kind: 'w' });
    out.push({ name: `${p}mlp.up_proj.weight`, shape: [I, C], kind: 'w' });
    out.push({ name: `${p}mlp.down_proj.weight`, shape: [C, I], kind: 'w' });
  }
  out.push({ name: 'model.norm.weight', shape: [C], kind: 'norm' });
  if (!cfg.tie_word_embeddings) out.push({ name: 'lm_head.weight', shape: [cfg.vocab_size, C], kind: 'w' });
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** BF16 bytes of elements [from, to) of tensor `t` (index `ti`): norms 1, biases 0, weights uniform with std `std`. */
function tensorBytes(t, ti, seed, std, from, to, out, at) {
  const a = Math.sqrt(3) * std;
  for (let i = from; i < to; i++) {
    let bits;
    if (t.kind === 'norm') bits = 0x3f80;
    else if (t.kind === 'bias') bits = 0;
    else {
      let h = Math.imul(i ^ Math.imul(ti + 1, 0x85ebca77), 0x9e3779b1) ^ seed;
      h ^= h >>> 16;
      h = Math.imul(h, 0x7feb352d);
      h ^= h >>> 15;
      h = Math.imul(h, 0x846ca68b);
      h ^= h >>> 16;
      f32[0] = ((h >>> 0) / 4294967296 - 0.5) * 2 * a;
      bits = (u32[0] + 0x8000) >>> 16; // round to nearest
    }
    out[at++] = bits & 0xff;
    out[at++] = bits >>> 8;
  }
}

/**
 * A sharded BF16 checkpoint of `config` with seeded random weights: { files: {name: VirtualFile | Buffer} }.
 * A VirtualFile is { size, read(start, end) -> Buffer } (end exclusive).
 */
export function virtualCheckpoint(config, { seed = 1234, shardBytes = 100 * 2 ** 20, std = 0.02 } = {}) {
  const params = llamaParams(config);
  const shards = [];
  let cur = null;
  params.forEach((p, ti) => {
    const bytes = 2 * p.shape.reduce((a, b) => a * b, 1);
    if (!cur || (cur.bytes + bytes > shardBytes && cur.tensors.length)) {
      cur = { tensors: [], bytes: 0 };
      shards.push(cur);
    }
    cur.tensors.push({ ...p, ti, begin: cur.bytes, end: cur.bytes + bytes });
    cur.bytes += bytes;
  });
  const files = {};
  const weightMap = {};
  let total = 0;
  shards.forEach((s, k) => {
    const name = `model-${String(k + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    const header = { __metadata__: { format: 'pt' } };
    for (const t of s.tensors) {
      header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [t.begin, t.end] };
      weightMap[t.name] = name;
    }
    let json = JSON.stringify(header);
    while ((8 + json.length) % 8) json += ' ';
    const hb = Buffer.from(json);
    const head = Buffer.alloc(8 + hb.length);
    head.writeBigUInt64LE(BigInt(hb.length), 0);
    hb.copy(head, 8);
    const dataStart = head.length;
    total += s.bytes;
    files[name] = {
      size: dataStart + s.bytes,
      read(start, end) {
        const out = Buffer.alloc(end - start);
        if (start < dataStart) head.copy(out, 0, start, Math.min(end, dataStart));
        for (const t of s.tensors) {
          const b = Math.max(start, dataStart + t.begin);
          const e = Math.min(end, dataStart + t.end);
          if (b >= e) continue;
          // whole elements covering [b, e), then cut to the byte range
          const e0 = Math.floor((b - dataStart - t.begin) / 2);
          const e1 = Math.ceil((e - dataStart - t.begin) / 2);
          const tmp = Buffer.alloc((e1 - e0) * 2);
          tensorBytes(t, t.ti, seed, std, e0, e1, tmp, 0);
          const skip = b - (dataStart + t.begin + e0 * 2);
          tmp.copy(out, b - start, skip, skip + (e - b));
        }
        return out;
      },
    };
  });
  files['model.safetensors.index.json'] = Buffer.from(JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  files['config.json'] = Buffer.from(JSON.stringify(config, null, 2));
  return { files, shards: shards.length, totalBytes: total, params };
}

/**
 * A byte-level BPE tokenizer of exactly `vocabSize` tokens with ChatML special tokens, cut from GPT-2's
 * (ids below vocabSize - 3 kept, merges whose parts and result are kept): the shape of SmolLM2's.
 */
export function chatmlTokenizer(gpt2TokenizerPath, vocabSize, { chatTemplate = SMOLLM2_CHAT_TEMPLATE } = {}) {
  const tok = JSON.parse(readFileSync(gpt2TokenizerPath, 'utf8'));
  const keep = vocabSize - 3;
  const vocab = {};
  for (const [t, id] of Object.entries(tok.model.vocab)) if (id < keep) vocab[t] = id;
  tok.model.vocab = vocab;
  tok.model.merges = tok.model.merges.filter((m) => {
    const [a, b] = Array.isArray(m) ? m : m.split(' ');
    return a in vocab && b in vocab && a + b in vocab;
  });
  const special = ['<|im_start|>', '<|im_end|>', '<|endoftext|>'];
  tok.added_tokens = special.map((content, k) => ({ id: keep + k, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  tok.post_processor = null;
  const config = {
    add_prefix_space: false,
    bos_token: '<|im_start|>',
    eos_token: '<|im_end|>',
    pad_token: '<|im_end|>',
    unk_token: '<|endoftext|>',
    model_max_length: 8192,
    tokenizer_class: 'GPT2Tokenizer',
    chat_template: chatTemplate,
  };
  return { 'tokenizer.json': Buffer.from(JSON.stringify(tok)), 'tokenizer_config.json': Buffer.from(JSON.stringify(config, null, 2)) };
}

/**
 * Starts the server. repos: { 'owner/name': { files: {path: Buffer | VirtualFile}, token?: string, type?: 'model' | 'dataset',
 * parquet?: { [config]: { [split]: [path, ...] } } } }. Returns { url, log, cutOnce(path, afterBytes), setRangeSupport(on), setThrottle(bytesPerSec), close() }.
 */
export function startHubServer(repos, { port = 0 } = {}) {
  const log = [];
  const cuts = new Map();
  let rangeSupport = true;
  let throttle = 0;
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': 'Authorization, Range, Content-Type',
    'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
    'Access-Control-Expose-Headers': 'Content-Length, Content-Range, ETag, X-Linked-Size, X-Linked-ETag, Accept-Ranges',
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const path = decodeURIComponent(url.pathname);
    log.push({ method: req.method, path, range: req.headers.range ?? null, auth: req.headers.authorization ?? null });
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return res.end();
    }
    const fail = (code, msg) => {
      res.writeHead(code, { ...cors, 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: msg }));
    };
    let m = /^\/api\/datasets\/(.+?)\/parquet\/([^/]+)\/([^/]+)$/.exec(path);
    if (m) {
      const repo = repos[m[1]];
      if (!repo || repo.type !== 'dataset' || repo.noListing) return fail(404, 'Repository not found');
      if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) return fail(401, 'Unauthorized');
      const files = repo.parquet?.[m[2]]?.[m[3]];
      if (!files) return fail(404, `config/split not found`);
      const base = `http://${req.headers.host}`;
      res.writeHead(200, { ...cors, 'content-type': 'application/json' });
      return res.end(JSON.stringify(files.map((f) => `${base}/datasets/${m[1]}/resolve/refs%2Fconvert%2Fparquet/${f}`)));
    }
    m = /^\/(datasets\/)?(.+?)\/resolve\/(refs\/convert\/parquet|refs\/pr\/\d+|[^/]+)\/(.+)$/.exec(path);
    if (!m) return fail(404, 'Not found');
    const repo = repos[m[2]];
    if (!repo || (repo.type === 'dataset') !== Boolean(m[1])) return fail(404, 'Repository not found');
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) return fail(401, 'Invalid credentials');
    const file = repo.files[m[4]];
    if (!file) {
      res.writeHead(404, { ...cors, 'x-error-code': 'EntryNotFound' });
      return res.end();
    }
    const size = Buffer.isBuffer(file) ? file.length : file.size;
    const etag = `"${m[2]}:${m[4]}:${size}"`;
    let start = 0;
    let end = size;
    let status = 200;
    const r = rangeSupport ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '') : null;
    if (r) {
      start = Number(r[1]);
      end = r[2] ? Math.min(size, Number(r[2]) + 1) : size;
      if (start >= size) {
        res.writeHead(416, { ...cors, 'content-range': `bytes */${size}` });
        return res.end();
      }
      status = 206;
    }
    const headers = { ...cors, 'content-type': 'application/octet-stream', 'content-length': String(end - start), etag, 'x-linked-size': String(size), 'accept-ranges': rangeSupport ? 'bytes' : 'none' };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end - 1}/${size}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return res.end();
    // a cut applies to the first response longer than it (not to the header reads of a plan)
    const cut = cuts.get(m[4]) !== undefined && end - start > cuts.get(m[4]) ? cuts.get(m[4]) : undefined;
    if (cut !== undefined) cuts.delete(m[4]);
    const stop = cut !== undefined ? start + cut : end;
    // stream in 1 MiB pieces, honouring back-pressure
    let at = start;
    const piece = 2 ** 20;
    const t0 = Date.now();
    const sent0 = at;
    res.on('error', () => undefined); // the client went away (a reload mid-download)
    const pump = () => {
      while (at < stop) {
        if (res.destroyed) return;
        if (throttle > 0) {
          // at most `throttle` bytes a second (so a test can reload the page mid-download)
          const due = t0 + ((at - sent0) / throttle) * 1000;
          if (due > Date.now()) return void setTimeout(pump, due - Date.now());
        }
        const n = Math.min(piece, stop - at);
        const chunk = Buffer.isBuffer(file) ? file.subarray(at, at + n) : file.read(at, at + n);
        at += n;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (stop < end) {
        // a real cut connection, mid-body: what was written reaches the client, then the socket dies
        res.write('', () => setTimeout(() => res.socket?.destroy(), 100));
      } else res.end();
    };
    pump();
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({
        url,
        log,
        /** The next GET of `path` stops after `afterBytes` bytes of body and the socket is destroyed. */
        cutOnce: (path, afterBytes) => cuts.set(path, afterBytes),
        setRangeSupport: (on) => (rangeSupport = on),
        /** Bytes a second per response (0 = as fast as possible). */
        setThrottle: (bytesPerSec) => (throttle = bytesPerSec),
        close: () => new Promise((r2) => { server.closeAllConnections?.(); server.close(() => r2()); }),
      });
    });
  });
}
