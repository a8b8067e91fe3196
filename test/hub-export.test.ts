// Sharded export (real-size checkpoints): exportHfFolder with maxShardBytes writes
// model-0000k-of-0000N.safetensors and model.safetensors.index.json as save_pretrained does; our loader
// reads it back bit for bit, and transformers loads the sharded folder with the same logits as the
// single-file one (one Python process).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { virtualCheckpoint } from '../e2e/hub-server.mjs';
import { exportHfFolder } from '../src/model/export';
import { loadCheckpoint, mapSource } from '../src/model/weights';
import { run, tempDir, venvPython } from './helpers/python';

const cfg = { model_type: 'qwen3', vocab_size: 256, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, max_position_embeddings: 128, tie_word_embeddings: true, rms_norm_eps: 1e-6 };

describe('sharded export', () => {
  it('writes shards + index that our loader and transformers read as the single file', async () => {
    const v = virtualCheckpoint(cfg, { seed: 3, shardBytes: 30_000, std: 0.2 });
    const files = new Map(Object.entries(v.files).map(([k, f]) => [k, new Uint8Array(Buffer.isBuffer(f) ? f : f.read(0, f.size))]));
    const ck = await loadCheckpoint(mapSource(files));
    const sharded = exportHfFolder(ck.config, ck.tensors, { maxShardBytes: 70_000 });
    const single = exportHfFolder(ck.config, ck.tensors);
    const names = [...sharded.keys()].filter((n) => n.endsWith('.safetensors'));
    expect(names.length).toBeGreaterThan(3);
    expect(names[0]).toBe(`model-00001-of-${String(names.length).padStart(5, '0')}.safetensors`);
    expect(sharded.has('model.safetensors')).toBe(false);
    const index = JSON.parse(new TextDecoder().decode(sharded.get('model.safetensors.index.json')));
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(names));
    expect(index.metadata.total_size).toBe([...ck.tensors.values()].reduce((a, t) => a + 4 * t.length, 0));
    for (const n of names) expect(sharded.get(n)!.length).toBeLessThanOrEqual(70_000 + 4096);
    const back = await loadCheckpoint(mapSource(sharded));
    for (const [k, t] of ck.tensors) expect(Buffer.from(back.tensors.get(k)!.buffer).equals(Buffer.from(t.buffer)), k).toBe(true);

    const dir = tempDir('shards');
    for (const [sub, folder] of [['sharded', sharded], ['single', single]] as const) {
      mkdirSync(join(dir, sub));
      for (const [n, b] of folder) writeFileSync(join(dir, sub, n), b);
    }
    const py = `
import json, sys, torch
from transformers import AutoModelForCausalLM
ids = torch.arange(40).reshape(2, 20) % 256
out = {}
for sub in ("sharded", "single"):
    m = AutoModelForCausalLM.from_pretrained(sys.argv[1] + "/" + sub, dtype=torch.float32).eval()
    with torch.no_grad():
        out[sub] = m(ids).logits
print(json.dumps({"max_abs_diff": (out["sharded"] - out["single"]).abs().max().item(), "scale": out["single"].abs().max().item()}))
`;
    writeFileSync(join(dir, 'check.py'), py);
    const r = await run(venvPython(), [join(dir, 'check.py'), dir], { timeoutMs: 120_000 });
    const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    console.log(`sharded export in transformers: ${names.length} shards, logits max |diff| vs the single file ${res.max_abs_diff} (logit scale ${res.scale.toFixed(3)})`);
    expect(res.scale).toBeGreaterThan(0.01);
    expect(res.max_abs_diff).toBe(0);
  }, 180_000);
});
