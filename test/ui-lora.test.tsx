// The LoRA part of the hyperparameter form: PEFT's LoraConfig names, parsed into args.lora (null = full
// fine-tuning), a sentence for a bad value, and the controls rendered with labels; a LoRA run in the
// worker's session samples the reference (adapters off) and exports merged weights plus PEFT's adapter.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { renderToString } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { tinyGpt2 } from '../e2e/fixture.mjs';
import { parseSafetensorsHeader } from '../src/model/safetensors';
import { loadCheckpoint, mapSource } from '../src/model/weights';
import { Session } from '../src/worker/session';
import type { WorkerEvent } from '../src/worker/protocol';
import { HyperParams } from '../src/ui/components/HyperParams';
import { LORA_FORM_DEFAULT, loraFormOf, pageDefaultArgs, parseLoraForm } from '../src/ui/params';
import { setLoraField, storeApi, useStore } from '../src/ui/store';

const initial = useStore.getState();
storeApi.getInitialState = storeApi.getState;
beforeEach(() => useStore.setState(initial, true));

describe('LoRA form', () => {
  it('parses into PEFT\'s LoraConfig, or says what is wrong', () => {
    expect(parseLoraForm(LORA_FORM_DEFAULT)).toEqual({ value: null });
    expect(parseLoraForm({ ...LORA_FORM_DEFAULT, enabled: 'true' })).toEqual({ value: { r: 16, lora_alpha: 32, target_modules: 'all-linear' } });
    expect(parseLoraForm({ enabled: 'true', r: '8', lora_alpha: '16', target_modules: 'q_proj, v_proj  o_proj' })).toEqual({ value: { r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj', 'o_proj'] } });
    expect(parseLoraForm({ ...LORA_FORM_DEFAULT, enabled: 'true', r: '2.5' })).toMatchObject({ error: expect.stringContaining('r must be a positive whole number'), code: 'lora-r' });
    expect(parseLoraForm({ ...LORA_FORM_DEFAULT, enabled: 'true', lora_alpha: '' })).toMatchObject({ error: expect.stringContaining('lora_alpha'), code: 'lora-alpha' });
    expect(parseLoraForm({ ...LORA_FORM_DEFAULT, enabled: 'true', target_modules: ' ' })).toMatchObject({ error: expect.stringContaining('target_modules'), code: 'lora-targets' });
    expect(loraFormOf({ r: 4, lora_alpha: 8, target_modules: ['c_attn', 'c_fc'] }, {})).toEqual({ enabled: 'true', r: '4', lora_alpha: '8', target_modules: 'c_attn, c_fc' });
  });

  it('setLoraField sets args.lora, keeps the last valid config on a bad value, and turns off', () => {
    expect(useStore.getState().args.lora).toBeNull();
    setLoraField('enabled', true);
    expect(useStore.getState().args.lora).toEqual({ r: 16, lora_alpha: 32, target_modules: 'all-linear' });
    setLoraField('r', '8');
    setLoraField('target_modules', 'q_proj,v_proj');
    expect(useStore.getState().args.lora).toEqual({ r: 8, lora_alpha: 32, target_modules: ['q_proj', 'v_proj'] });
    setLoraField('r', '0');
    expect(useStore.getState().argErrors.lora).toMatch(/positive whole number/);
    expect(useStore.getState().args.lora!.r).toBe(8);
    const html = renderToString(<HyperParams />);
    expect(html).toContain('id="arg-lora-r"');
    expect(html).toContain('value="0"');
    expect(html).toContain('role="alert"');
    setLoraField('enabled', false);
    expect(useStore.getState().args.lora).toBeNull();
    expect(useStore.getState().argErrors.lora).toBeUndefined();
    const off = renderToString(<HyperParams />);
    expect(off).toContain('<label for="arg-lora"><code>peft_config</code>');
    expect(off).not.toContain('id="arg-lora-r"');
    expect(off).toContain('id="arg-gradient_checkpointing"');
  });
});

describe('LoRA run in the worker session', { timeout: 300_000 }, () => {
  it('trains, samples policy and reference, exports model/ (merged) and adapter/ (PEFT)', async () => {
    const demo = join(__dirname, '..', 'public', 'demo');
    const tokJson = readFileSync(join(demo, 'tokenizer.json'), 'utf8');
    const vocab = Object.keys(JSON.parse(tokJson).model.vocab).length;
    const { config, weights } = tinyGpt2(vocab, { n_embd: 16, n_layer: 1, n_head: 2, n_positions: 32, seed: 3 });
    const files = [
      new File([JSON.stringify(config)], 'config.json'),
      new File([weights.slice()], 'model.safetensors'),
      new File([tokJson], 'tokenizer.json'),
      new File([readFileSync(join(demo, 'tokenizer_config.json'))], 'tokenizer_config.json'),
    ];
    const prompts: string[] = JSON.parse(readFileSync(join(demo, 'prompts-heldout.json'), 'utf8')).slice(0, 8);
    const pairs = prompts.map((p) => ({ prompt: p, chosen: ' i loved it.', rejected: ' it was awful.' }));
    const events: WorkerEvent[] = [];
    const s = new Session((e) => events.push(e));
    await s.init();
    await s.loadModel({ kind: 'files', files });
    await s.loadDataset({ kind: 'bytes', name: 'pairs.jsonl', bytes: new TextEncoder().encode(pairs.map((p) => JSON.stringify(p)).join('\n') + '\n') }, { evalFraction: 0.25, seed: 1, maxEval: 4 }, 24);
    const lora = { r: 2, lora_alpha: 4, target_modules: ['c_attn', 'c_fc'] };
    const args = { ...pageDefaultArgs, max_steps: 3, per_device_train_batch_size: 3, per_device_eval_batch_size: 4, learning_rate: 0.05, eval_steps: 0, max_length: 24, lora, gradient_checkpointing: true };
    const r = await s.start({ args, sftSteps: 0 });
    expect(r.end).toBe('finished');
    const logs = events.filter((e): e is Extract<WorkerEvent, { type: 'logs' }> => e.type === 'logs').flatMap((e) => e.records);
    expect(logs[0].loss).toBeCloseTo(Math.LN2, 5);
    const smp = await s.sample([prompts[0]], { maxNewTokens: 3, temperature: 0, topK: 0, topP: 1, seed: 2 });
    expect(typeof smp[0].reference).toBe('string');
    const exp = await s.exportZip({});
    const zip = unzipSync(exp.zip);
    expect(Object.keys(zip)).toEqual(expect.arrayContaining(['model/model.safetensors', 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'train_trl.py']));
    expect(new TextDecoder().decode(zip['README.txt'])).toContain('adapter/');
    expect(new TextDecoder().decode(zip['train_trl.py'])).toContain('peft_config=peft_config');
    const header = parseSafetensorsHeader(zip['adapter/adapter_model.safetensors']);
    expect([...header.tensors.keys()].sort()).toEqual(['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight', 'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight', 'base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight', 'base_model.model.transformer.h.0.mlp.c_fc.lora_B.weight']);
    const folder = new Map(Object.entries(zip).filter(([n]) => n.startsWith('model/')).map(([n, b]) => [n.slice(6), b]));
    const ck = await loadCheckpoint(mapSource(folder));
    const merged = await s.trainer!.policyWeights();
    const base = await s.trainer!.baseWeights();
    for (const [name, w] of merged) expect(Array.from(ck.tensors.get(name)!), name).toEqual(Array.from(w));
    // the adapters moved the targeted weights and nothing else
    expect(merged.get('h.0.attn.c_attn.weight')!.some((x, i) => x !== base.get('h.0.attn.c_attn.weight')![i])).toBe(true);
    expect(Array.from(merged.get('h.0.mlp.c_proj.weight')!)).toEqual(Array.from(base.get('h.0.mlp.c_proj.weight')!));
  });
});
