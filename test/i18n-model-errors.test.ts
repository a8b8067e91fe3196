// Issue 18: the model side's errors on the Korean page. Real faults (the shared gpt2-tiny checkpoint cut
// short, its header rewritten to lie, a config.json of an unsupported model_type, a LoRA target that
// matches no layer, a tokenizer without a chat template) give a typed error whose English sentence stays
// as the worker and the CLI print it, and whose code + params make a whole Korean sentence on the page:
// Hangul, no run of three English words, and the same numbers as the English sentence.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '../e2e/hub-server.mjs';
import { planHubModel } from '../src/worker/hub-plan';
import { parseConfig } from '../src/model/config';
import { countLoraParameters } from '../src/model/lora';
import { writeSafetensors } from '../src/model/safetensors';
import { loadTokenizer } from '../src/model/tokenizer';
import { loadError } from './helpers/checkpoint';
import { defaultTrainerArgs } from '../src/dpo/trainer';
import { WorkerError } from '../src/ui/client';
import { i18n } from '../src/ui/i18n';
import { errorSentence, refusalSentence } from '../src/ui/i18n/errors';
import { ko } from '../src/ui/i18n/ko';
import { errorInfo } from '../src/worker/error-code';
import { estimateMemory } from '../src/worker/memory';
import { ModelSourceError } from '../src/worker/sources';
import { englishRuns } from '../e2e/scenarios/korean.mjs';

const FIX = '/work/shared/fixtures/gpt2-tiny/policy';
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const folder = (): Map<string, Uint8Array> => new Map(['config.json', 'model.safetensors'].map((f) => [f, new Uint8Array(readFileSync(`${FIX}/${f}`))]));
const real = folder().get('model.safetensors')!;
const n = Number(new DataView(real.buffer, real.byteOffset).getBigUint64(0, true));
const header = JSON.parse(new TextDecoder().decode(real.subarray(8, 8 + n)));
const names = Object.keys(header).filter((k) => k !== '__metadata__').sort((a, b) => header[a].data_offsets[0] - header[b].data_offsets[0]);
/** The real file with its header rewritten, padded with spaces to the same length as the format allows. */
function withHeader(h: unknown): Uint8Array {
  const text = JSON.stringify(h);
  expect(text.length).toBeLessThanOrEqual(n);
  const out = real.slice();
  out.set(new TextEncoder().encode(text.padEnd(n, ' ')), 8);
  return out;
}

const withWeights = (b: Uint8Array) => new Map([...folder(), ['model.safetensors', b]]);

const hangul = /[\uac00-\ud7a3]/;
/** Every number of a sentence, digit groups joined (ko-KR and en-US write 12,345), sorted. */
const numbers = (s: string) => [...s.replace(/(\d),(?=\d{3}\b)/g, '$1').matchAll(/\d+(?:\.\d+)?/g)].map((m) => m[0]).sort();

/** The page's Korean for an error as it comes from the worker (and in-process): whole Korean, the English's numbers. */
async function korean(e: Error, code: string): Promise<string> {
  const info = errorInfo(e);
  expect(info.code).toBe(code);
  expect(info.message).toBe(e.message); // the worker and the CLI keep the engine's English
  expect(`error.${code}` in ko).toBe(true);
  await i18n.changeLanguage('en');
  expect(errorSentence(new WorkerError(info))).toBe(e.message);
  await i18n.changeLanguage('ko');
  const k = errorSentence(new WorkerError(info));
  expect(errorSentence(e)).toBe(k);
  console.log(`${code}\n  en: ${e.message}\n  ko: ${k}`);
  expect(hangul.test(k)).toBe(true);
  expect(englishRuns(k)).toEqual([]);
  expect(numbers(k)).toEqual(numbers(e.message));
  return k;
}

afterAll(() => {
  void i18n.changeLanguage('en');
});

describe('model errors in Korean by code, on real faults', () => {
  it('a safetensors file cut in half, and cut inside its header: the file, the tensor and the byte counts', async () => {
    const half = real.subarray(0, real.length >> 1);
    const e = await loadError(withWeights(half));
    expect(e.message).toMatch(/^model\.safetensors: The safetensors header is invalid: tensor '.*' lies outside the file: its data ends at byte \d+ of a data section of \d+ bytes/);
    const info = errorInfo(e);
    expect(info.params).toMatchObject({ file: 'model.safetensors', data: half.length - 8 - n });
    const k = await korean(e, 'safetensors.entry.outside');
    expect(k).toMatch(/^model\.safetensors: safetensors 헤더가 잘못되었습니다\. 텐서 '.+'이\(가\) 파일 밖에 있습니다\./);
    expect(k).toContain(`데이터 영역은 ${(half.length - 8 - n).toLocaleString('ko-KR')}바이트뿐입니다`);
    // cut inside the header: its length field says more than the file holds
    const inHeader = real.subarray(0, 8 + (n >> 1));
    const k2 = await korean(await loadError(withWeights(inHeader)), 'safetensors.header-past-end');
    expect(k2).toBe(`model.safetensors: 이 파일은 safetensors 파일이 아닙니다. 헤더 길이(${n.toLocaleString('ko-KR')})가 파일 크기(${inHeader.length.toLocaleString('ko-KR')}바이트)보다 큽니다. 파일이 중간에 끊겼거나 다른 형식일 수 있습니다.`);
    await korean(await loadError(withWeights(real.subarray(0, 5))), 'safetensors.too-short');
  });

  it('a header that lies: a hole between tensors, bytes after the last one, a float parameter claimed as I32', async () => {
    const moved = structuredClone(header);
    const mid = names[Math.floor(names.length / 2)];
    moved[mid].data_offsets = moved[mid].data_offsets.map((o: number) => o + 4);
    const gap = await korean(await loadError(withWeights(withHeader(moved))), 'safetensors.gap');
    expect(gap).toContain(`'${mid}'(바이트 ${(header[mid].data_offsets[0] + 4).toLocaleString('ko-KR')}에서 시작) 사이의 4바이트가 어느 텐서에도 속하지 않습니다`);

    const short = structuredClone(header);
    const last = names.at(-1)!;
    const t = short[last];
    short[last] = { ...t, shape: [t.shape.reduce((a: number, b: number) => a * b, 1) - 1], data_offsets: [t.data_offsets[0], t.data_offsets[1] - 4] };
    const lastEnd = await korean(await loadError(withWeights(withHeader(short))), 'safetensors.last-end');
    expect(lastEnd).toContain(`마지막 텐서 '${last}'은(는) 바이트 ${(t.data_offsets[1] - 4).toLocaleString('ko-KR')}에서 끝나는데 데이터 영역은 ${(real.length - 8 - n).toLocaleString('ko-KR')}바이트입니다`);

    // the bytes are the real float32 weights; the header says I32 (same size) for two parameters
    const asInt = structuredClone(header);
    const fc = names.filter((k) => k.endsWith('mlp.c_fc.weight'));
    for (const k of fc) asInt[k].dtype = 'I32';
    const e = await loadError(withWeights(withHeader(asInt)));
    expect(e.message).toBe(`model.safetensors: the parameter tensor '${fc[0]}' is stored as I32 (and 1 more parameter tensor), which is not a floating-point type: model weights must be F32, F16 or BF16. The file is damaged or was written with the wrong dtype; save the model again (save_pretrained).`);
    const k = await korean(e, 'checkpoint.not-float');
    expect(k).toBe(`model.safetensors: 파라미터 텐서 '${fc[0]}'이(가) (그 밖의 파라미터 텐서 1개도) I32(으)로 저장되어 있는데, 이는 부동소수점 형식이 아닙니다. 모델 가중치는 F32, F16 또는 BF16이어야 합니다. 파일이 손상되었거나 잘못된 dtype으로 저장되었으니 모델을 다시 저장하세요 (save_pretrained).`);
  });

  it('config.json: an unsupported model_type, and weights of 2 layers under a config of 3', async () => {
    const mistral = new Map([...folder(), ['config.json', enc({ model_type: 'mistral' })]]);
    const k = await korean(await loadError(mistral), 'config.model-type');
    expect(k).toBe("model_type 'mistral'은(는) 지원되지 않습니다. 지원하는 종류: gpt2, llama, qwen2, qwen3.");

    const cfg = JSON.parse(new TextDecoder().decode(folder().get('config.json')!));
    const deeper = new Map([...folder(), ['config.json', enc({ ...cfg, n_layer: cfg.n_layer + 1 })]]);
    const e = await loadError(deeper);
    expect(e.message).toMatch(/^The weights do not match config.json \(gpt2, 3 layers, hidden 32\): missing 12 tensor\(s\): h\.2\.ln_1\.weight, .* and 4 more\.$/);
    const km = await korean(e, 'checkpoint.mismatch');
    expect(km).toMatch(/^가중치가 config\.json과 맞지 않습니다 \(gpt2, 층 3개, hidden 32\): 텐서 12개가 없습니다: h\.2\.ln_1\.weight, .* 외 4개\.$/);

    // a bad value's key and value as written, the minimum through Intl
    const e2 = (() => { try { parseConfig({ model_type: 'gpt2', n_head: 0 }); } catch (x) { return x as Error; } throw new Error('no error'); })();
    expect(await korean(e2, 'config.int')).toBe("config.json: 'n_head'은(는) 1 이상의 정수여야 하는데 0입니다.");
  });

  it('a LoRA target that matches no layer: the memory refusal and the error itself', async () => {
    const cfg = parseConfig(JSON.parse(new TextDecoder().decode(folder().get('config.json')!)));
    const lora = { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] };
    const e = (() => { try { countLoraParameters(cfg, lora); } catch (x) { return x as Error; } throw new Error('no error'); })();
    expect(e.message).toBe('target_modules ["q_proj","v_proj"] matches no linear layer of this gpt2 model; its linear layers are c_attn, c_proj, c_fc.');
    const k = await korean(e, 'lora.no-match');
    expect(k).toBe('target_modules ["q_proj","v_proj"]에 맞는 선형 층이 이 gpt2 모델에 없습니다. 이 모델의 선형 층은 c_attn, c_proj, c_fc입니다.');
    const est = estimateMemory(cfg, { ...defaultTrainerArgs, lora }, 64, { maxBindingBytes: 2 ** 31, maxBufferBytes: 2 ** 31 });
    expect(est.refusal).toBe(e.message);
    expect(est.refusalCode?.code).toBe('lora.no-match');
    await i18n.changeLanguage('ko');
    expect(refusalSentence(est)).toBe(k);
    const r0 = (() => { try { countLoraParameters(cfg, { ...lora, r: 0 }); } catch (x) { return x as Error; } throw new Error('no error'); })();
    expect(await korean(r0, 'lora.r')).toBe('LoRA r은 양의 정수여야 합니다 (입력: 0). 흔히 8이나 16을 씁니다.');
  });

  it("GPT-2's tokenizer: no chat template for conversational data, a special token not in the vocabulary", async () => {
    const tokenizerJson = readFileSync('/work/shared/data/gpt2-tokenizer/tokenizer.json', 'utf8');
    const tok = loadTokenizer({ tokenizerJson });
    const e = (() => { try { tok.applyChatTemplate([{ role: 'user', content: 'hi' }]); } catch (x) { return x as Error; } throw new Error('no error'); })();
    expect(await korean(e, 'tokenizer.no-chat-template')).toBe('이 토크나이저에는 채팅 템플릿(chat template)이 없어 대화형 데이터를 형식화할 수 없습니다. 채팅 모델을 쓰거나 표준(텍스트) 데이터셋을 쓰세요.');
    const e2 = (() => { try { loadTokenizer({ tokenizerJson, tokenizerConfig: JSON.stringify({ eos_token: '<|im_end|>' }) }); } catch (x) { return x as Error; } throw new Error('no error'); })();
    expect(await korean(e2, 'tokenizer.unknown-token')).toMatch(/^tokenizer_config\.json이 eos_token\(으\)로 "<\|im_end\|>"을\(를\) 지정하지만, 이 토큰은 어휘에 없습니다\.$/);
  });

  it('files picked without a folder and without tokenizer.json (the error as loading.ts throws it): the picked files named in Korean', async () => {
    const e = new ModelSourceError('files from disk has no tokenizer.json; the page needs the fast-tokenizer file (save it with tokenizer.save_pretrained).', 'source.no-tokenizer', { label: 'files from disk', unnamed: 1 });
    expect(await korean(e, 'source.no-tokenizer')).toBe('고른 파일에 tokenizer.json이 없습니다. 이 페이지에는 fast tokenizer 파일이 필요합니다 (tokenizer.save_pretrained로 저장하세요).');
  });

  it('an export asked to write a tensor whose values do not fill its shape', async () => {
    const e = (() => { try { writeSafetensors([{ name: 'wte.weight', shape: [101, 32], data: new Float32Array(3200) }]); } catch (x) { return x as Error; } throw new Error('no error'); })();
    expect(await korean(e, 'safetensors.write-count')).toBe("텐서 'wte.weight'의 값은 3,200개인데, shape [101, 32]에는 3,232개가 필요합니다.");
  });

  it('every model-side code thrown in src/model and the model sources has its Korean entry', () => {
    const src = ['src/model/safetensors.ts', 'src/model/weights.ts', 'src/model/config.ts', 'src/model/tokenizer.ts', 'src/model/lora.ts', 'src/worker/sources.ts', 'src/worker/loading.ts', 'src/worker/hub-plan.ts', 'src/worker/hub-download.ts']
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const codes = new Set([...src.matchAll(/'((?:safetensors|checkpoint|config|tokenizer|lora|source|hub)\.[a-z0-9-]+)'/g)].map((m) => m[1]).filter((c) => !c.endsWith('.json'))); // not file names
    for (const c of ['not-object', 'no-dtype', 'unknown-dtype', 'shape', 'offsets', 'reversed', 'outside', 'huge', 'size']) codes.add(`safetensors.entry.${c}`); // bad(what, code)
    expect(codes.size).toBeGreaterThan(60);
    expect([...codes].filter((c) => !(`error.${c}` in ko))).toEqual([]);
    // each Korean placeholder is a param given where the code is thrown (within the throw's next lines;
    // `x` may come as `xBytes`, a size through Intl); parts, more and reason are put together by src/ui/i18n/model-errors.ts
    const built = new Set(['parts', 'more', 'reason']);
    const unfed: string[] = [];
    for (const c of codes) {
      // a parseEntry case is thrown as bad(what, '<case>', params): the wrapper gives `tensor`
      const entry = c.startsWith('safetensors.entry.') ? c.slice('safetensors.entry.'.length) : null;
      const literal = entry ? `, '${entry}'` : `'${c}'`;
      const at = [...src.matchAll(new RegExp(literal.replace(/[.()]/g, '\\$&'), 'g'))].map((m) => (entry ? 'tensor ' : '') + src.slice(m.index, m.index + 400));
      const windows = at;
      for (const ph of [...ko[`error.${c}`].matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1])) {
        if (!built.has(ph) && !windows.some((w) => new RegExp(`\\b${ph}(Bytes)?\\b`).test(w))) unfed.push(`${c}: {{${ph}}}`);
      }
    }
    expect(unfed).toEqual([]);
    console.log(`${codes.size} model-side codes, each with its Korean entry and its params`);
  });
});

// The Hub's side against a real local server that answers like the Hub (e2e/hub-server.mjs): the plan
// reads config.json and the safetensors headers with Range requests before any weight is downloaded.
describe("the Hub's weight files in Korean by code", () => {
  let hub: HubServer;
  const cfgBytes = Buffer.from(folder().get('config.json')!);
  beforeAll(async () => {
    hub = await startHubServer({
      'test/mistral': { files: { 'config.json': Buffer.from(JSON.stringify({ model_type: 'mistral' })) } },
      'test/cut': { files: { 'config.json': cfgBytes, 'model.safetensors': Buffer.from(real.subarray(0, real.length >> 1)) } },
      'test/bin-only': { files: { 'config.json': cfgBytes, 'pytorch_model.bin': Buffer.alloc(1000, 7) } },
    });
  });
  afterAll(() => hub?.close());
  const plan = (repo: string) =>
    planHubModel({ hubUrl: hub.url, repo, revision: 'main' }, defaultTrainerArgs, { maxBindingBytes: 2 ** 30, maxBufferBytes: 2 ** 30 }).then(
      () => { throw new Error('no error'); },
      (e: Error) => e,
    );

  it('a config.json of an unsupported model_type, a weight file cut in half, a repo with only pytorch_model.bin', async () => {
    const e = await plan('test/mistral');
    expect(e.message).toBe("'test/mistral' cannot be trained here: model_type 'mistral' is not supported; supported: gpt2, llama, qwen2, qwen3.");
    expect(await korean(e, 'config.model-type')).toBe("'test/mistral'은(는) 여기서 학습할 수 없습니다. model_type 'mistral'은(는) 지원되지 않습니다. 지원하는 종류: gpt2, llama, qwen2, qwen3.");
    const cut = await plan('test/cut');
    expect(cut.message).toMatch(/^model\.safetensors of 'test\/cut' is shorter than its header says \(tensor '.+' ends past the file\): the file is cut short\.$/);
    expect(await korean(cut, 'hub.header-past-end')).toMatch(/^'test\/cut'의 model\.safetensors은\(는\) 헤더가 말하는 것보다 짧습니다 \(텐서 '.+'이\(가\) 파일 끝을 넘어섭니다\)\. 파일이 중간에 끊겼습니다\.$/);
    const bin = await plan('test/bin-only');
    expect(await korean(bin, 'hub.pytorch-bin')).toMatch(/^'test\/bin-only'에는 pytorch_model\.bin\(PyTorch pickle\)만 있어/);
  });
});
