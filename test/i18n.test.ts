// The page's two languages: every key the page uses (t('...'), i18nKey="...", and the keys built from
// params.ts, the run phases, the error codes and the diagnosis rules) has an English and a Korean entry,
// both languages have the same keys and the same {{placeholders}}, and the page renders in Korean.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { afterAll, describe, expect, it } from 'vitest';
import { DPO_LOSS_KINDS } from '../src/gpu/reference/dpo_loss';
import { CHARTS } from '../src/ui/components/Charts';
import { Explainer } from '../src/ui/components/Explainer';
import { FaultNotice } from '../src/ui/components/FaultNotice';
import { storeApi, useStore } from '../src/ui/store';
import { HyperParams } from '../src/ui/components/HyperParams';
import { TrainBar } from '../src/ui/components/TrainBar';
import { fmtBytes, fmtDuration, fmtInt } from '../src/ui/format';
import { detectLanguage, i18n, setLanguage } from '../src/ui/i18n';
import { en } from '../src/ui/i18n/en';
import { ko } from '../src/ui/i18n/ko';
import { PARAM_FIELDS } from '../src/ui/params';
import { gzipSync } from 'fflate';
import { readRecords } from '../src/data/read';
import { WorkerError } from '../src/ui/client';
import { errorSentence } from '../src/ui/i18n/errors';
import { errorInfo } from '../src/worker/error-code';
import { faultSentence, refusalSentence } from '../src/ui/i18n/errors';
import { SessionError } from '../src/worker/session-error';
import { estimateMemory } from '../src/worker/memory';
import { adviceSentence, memoryAdvice, runFault } from '../src/worker/faults';
import { GpuFaultError } from '../src/gpu/context';
import { GpuUnavailableError } from '../src/gpu/device';
import { checkRef } from '../src/worker/hub';
import { parseConfig } from '../src/model/config';
import { defaultTrainerArgs } from '../src/dpo/trainer';
import { englishRuns } from '../e2e/scenarios/korean.mjs';
import { storageSentence } from '../src/ui/runs';
import { noRoomSentence } from '../src/ui/store/persistence';
import { readStateFile } from '../src/ui/state-file';
import { setArg } from '../src/ui/store/args';
import { message } from '../src/ui/store/state';
import { DatasetError } from '../src/data/errors';
import { exportReadme, type ReadmeFacts } from '../src/worker/export-readme';
import { diagnosisKeys } from '../src/ui/explain/diagnosis-text';

const root = join(__dirname, '..', 'src', 'ui');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(f) ? [p] : [];
  });

/** Literal keys used in the page's source: t('k'), tr('k'), t("k"), i18nKey="k". */
function usedKeys(): Map<string, string> {
  const keys = new Map<string, string>();
  const re = /\b(?:t|tr|line|say)\(\s*(['"])([A-Za-z0-9_.\-/]+)\1|i18nKey=(['"])([A-Za-z0-9_.\-/]+)\3/g;
  for (const f of files(root).filter((f) => !/i18n[\\/](en|ko)\.ts$/.test(f))) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(re)) keys.set(m[2] ?? m[4], f.slice(root.length + 1));
  }
  return keys;
}

const placeholders = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();
/** Korean-only keys: their English is the engine's own sentence (the error codes). */
const KO_ONLY = /^error\./;

const PHASES = ['idle', 'starting', 'training', 'pausing', 'paused', 'stopped', 'finished', 'error'];

afterAll(() => {
  void i18n.changeLanguage('en');
});

describe('i18n resources', () => {
  it('every key used in src/ui has an English and a Korean entry', () => {
    const used = usedKeys();
    expect(used.size).toBeGreaterThan(300); // the scanner still finds the page's keys
    // error.* sentences are Korean only: in English the page shows the engine's own sentence
    const missing = [...used].filter(([k]) => !(k in ko) || (!(k in en) && !KO_ONLY.test(k))).map(([k, f]) => `${k} (${f}: ${k in en ? '' : 'en '}${k in ko ? '' : 'ko'})`);
    expect(missing).toEqual([]);
    console.log(`${used.size} literal keys used in src/ui; ${Object.keys(en).length} keys in en and ko`);
  });

  it('the keys built at run time exist: hyperparameters, loss kinds, run phases', () => {
    const built = [
      ...PARAM_FIELDS.flatMap((f) => [`param.${f.name}.hint`, `param.${f.name}.help`]),
      ...DPO_LOSS_KINDS.map((k) => `loss.${k}.what`),
      ...PHASES.map((p) => `phase.${p}`),
      ...['paused', 'finished', 'stopped'].map((e) => `status.${e}`),
      ...CHARTS.flatMap((c) => [`chart.${c.id}.title`, `chart.${c.id}.explain`, ...c.series.filter((s) => !s.label.includes('_') && s.label !== 'loss').map((s) => `chart.label.${s.label}`)]),
      ...['alarm', 'warning', 'note'].map((s) => `diag.severity.${s}`),
      ...['loss', 'rewards', 'margins', 'accuracies', 'logps', 'kl', 'optim', 'dataset', 'frontier'].map((c) => `diag.chart.${c}`),
    ];
    expect(built.filter((k) => !(k in en) || !(k in ko))).toEqual([]);
    // every diagnosis code the engine can emit (rule titles and whys, evidence, what to try) has both
    // languages; test/diagnosis.test.ts also checks their placeholders against each code's params
    const diag = diagnosisKeys().map((k) => k.key);
    expect(diag.length).toBeGreaterThanOrEqual(9 * 2);
    expect(diag.filter((k) => !(k in en) || !(k in ko))).toEqual([]);
  });

  it('English and Korean have the same keys, non-empty values and the same placeholders', () => {
    expect(Object.keys(ko).filter((k) => !(k in en) && !KO_ONLY.test(k))).toEqual([]);
    expect(Object.keys(en).filter((k) => !(k in ko))).toEqual([]);
    expect(Object.entries({ ...en, ...ko }).filter(([, v]) => !v.trim())).toEqual([]);
    const differ = Object.keys(en).filter((k) => placeholders(en[k]).join() !== placeholders(ko[k]).join());
    expect(differ).toEqual([]);
  });

  it('Korean entries are Korean (Hangul) except names kept as in TRL and numbers', () => {
    const hangul = /[\uac00-\ud7a3]/;
    // without Hangul only when the English is the same (a range, a TRL name) or it has no words at all
    const notKorean = Object.entries(ko).filter(([k, v]) => !hangul.test(v) && v !== en[k] && /[A-Za-z]{3,}/.test(v.replace(/\{\{\w+\}\}/g, '')));
    expect(notKorean).toEqual([]);
    const share = Object.values(ko).filter((v) => hangul.test(v)).length / Object.keys(ko).length;
    expect(share).toBeGreaterThan(0.75);
  });
});

describe('language choice and formats', () => {
  it('follows the saved choice, else the browser languages, else English', () => {
    expect(detectLanguage(null, ['ko-KR', 'en-US'])).toBe('ko');
    expect(detectLanguage(null, ['fr-FR', 'ko'])).toBe('ko');
    expect(detectLanguage('en', ['ko-KR'])).toBe('en');
    expect(detectLanguage(null, ['fr-FR', 'de'])).toBe('en');
    expect(detectLanguage(null, [])).toBe('en');
  });

  it('numbers, sizes and durations follow the active locale', async () => {
    await i18n.changeLanguage('en');
    expect([fmtInt(12345), fmtBytes(3.5 * 2 ** 20), fmtDuration(75), fmtDuration(3900)]).toEqual(['12,345', '3.5 MiB', '1 min 15 s', '1 h 5 min']);
    await i18n.changeLanguage('ko');
    expect([fmtInt(12345), fmtBytes(3.5 * 2 ** 20), fmtDuration(75), fmtDuration(3900)]).toEqual(['12,345', '3.5 MiB', '1분 15초', '1시간 5분']);
  });
});

describe('engine errors by code', () => {
  const fail = (p: Promise<unknown>) => p.then(() => { throw new Error('no error'); }, (e: Error) => e);

  it('a PNG named .jsonl and a cut gzip: English in the worker, Korean on the page by code', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3, 4]);
    const e1 = await fail(readRecords(png, { fileName: 'picture.jsonl' }));
    const i1 = errorInfo(e1);
    expect(i1).toMatchObject({ name: 'DatasetError', code: 'dataset.not-a-dataset' });
    expect(i1.message).toMatch(/^The file is not JSONL, JSON or Parquet/);
    const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify({ prompt: `p${i}`, chosen: `good ${i} `.repeat(20), rejected: `bad ${i}` })).join('\n');
    const gz = gzipSync(new TextEncoder().encode(lines));
    const e2 = await fail(readRecords(gz.subarray(0, gz.length >> 1), { fileName: 'cut.jsonl.gz' }));
    const i2 = errorInfo(e2);
    expect(i2).toMatchObject({ name: 'CorruptFileError', code: 'dataset.truncated', params: { format: 'gzip' } });
    const records = Number(i2.params!.records);
    expect(records).toBeGreaterThan(0);
    await i18n.changeLanguage('en');
    expect(errorSentence(new WorkerError(i1))).toBe(i1.message);
    await i18n.changeLanguage('ko');
    expect(errorSentence(new WorkerError(i1))).toMatch(/^이 파일은 JSONL, JSON, Parquet 중 어느 것도 아닙니다/);
    expect(errorSentence(new WorkerError(i2))).toContain(`레코드 ${records}개를 읽었지만`);
    expect(errorSentence(e2)).toBe(errorSentence(new WorkerError(i2))); // in-process errors too
    // an error without a code keeps its English sentence
    expect(errorSentence(new WorkerError({ name: 'TrainerConfigError', message: 'beta must be positive.' }))).toBe('beta must be positive.');
    await i18n.changeLanguage('en');
  });

  // GPT-2 124M, 8 pairs of 512 tokens: ~7.4 GiB by the estimate, above the page's 6 GiB; the GPU refused after 4 GiB
  const cfg = parseConfig({ model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 });
  const args = { ...defaultTrainerArgs, per_device_train_batch_size: 8, max_length: 512 };
  const limits = { maxBindingBytes: 2 ** 31, maxBufferBytes: 2 ** 31 };
  const hangul = /[\uac00-\ud7a3]/;

  it('typed where thrown: a session refusal, a memory refusal and a GPU fault carry their code and numbers; Korean is whole Korean', async () => {
    const s = new SessionError('no-model');
    expect([s.message, errorInfo(s).code]).toEqual(['Load a model first.', 'session.no-model']); // the worker and the CLI keep English
    expect(errorInfo(new SessionError('The GPU is not ready yet.')).code).toBe('session.no-gpu'); // a catalog sentence thrown as text
    expect(errorInfo(new GpuUnavailableError('No WebGPU adapter was found.')).code).toBe('gpu.no-adapter'); // by its class
    const badRepo = (() => { try { checkRef({ hubUrl: 'https://huggingface.co', repo: 'not a repo', revision: 'main' }); } catch (e) { return e as Error; } throw new Error('no error'); })();
    expect(errorInfo(badRepo)).toMatchObject({ name: 'HubError', code: 'hub.repo-id', params: { repo: 'not a repo' } });
    const needsRun = new SessionError('needs-run', undefined, { what: 'Sampling' });
    expect([needsRun.message, errorInfo(needsRun).params]).toEqual(['Sampling needs a run: press Train first (at step 0 the policy equals the reference).', { what: 'Sampling' }]);
    const est = estimateMemory(cfg, args, 512, limits);
    expect(est.refusal).toMatch(/^This run needs about 7\.42 GiB of GPU memory, more than the 6\.00 GiB/);
    expect(est.refusalCode).toEqual({ code: 'memory.budget', params: { needBytes: est.totalBytes, budgetBytes: 6 * 2 ** 30 } });
    const lost = runFault(new GpuFaultError('device-lost', 'lost', 'A valid external Instance reference no longer exists'), { where: 'step 7', savedStep: 6 });
    expect(lost.params).toEqual({ kind: 'device-lost', where: 'step', step: 7, detail: '', savedStep: 6 });
    expect(errorInfo(lost)).toMatchObject({ name: 'GpuFaultError', code: 'gpu.run', message: lost.message });
    const advice = memoryAdvice(cfg, args, 512, limits, 4 * 2 ** 30);
    const oom = runFault(new GpuFaultError('out-of-memory', 'oom', 'Out of memory'), { where: 'the start (computing the reference log-probs)', savedStep: null, memory: adviceSentence(advice) });
    expect(oom.message).toContain('It would fit with per_device_train_batch_size 2 with gradient_accumulation_steps 4 to keep the batch');
    expect(oom.params).toMatchObject({ where: 'start-reference', savedStep: -1, needBytes: advice.totalBytes, gaveBytes: 4 * 2 ** 30 });
    await i18n.changeLanguage('en');
    expect([errorSentence(s), refusalSentence(est), errorSentence(new WorkerError(errorInfo(oom)))]).toEqual([s.message, est.refusal, oom.message]);
    await i18n.changeLanguage('ko');
    const ko = [errorSentence(new WorkerError(errorInfo(s))), refusalSentence(est), errorSentence(new WorkerError(errorInfo(lost))), faultSentence(oom.params)];
    console.log(ko.join('\n'));
    expect(ko[0]).toBe('먼저 모델을 불러오세요.');
    expect(errorSentence(new WorkerError(errorInfo(badRepo)))).toBe("'not a repo'은(는) Hugging Face 저장소 ID가 아닙니다. \"owner/name\" 형식이어야 합니다 (예: \"HuggingFaceTB/SmolLM2-135M-Instruct\").");
    expect(errorSentence(new WorkerError(errorInfo(needsRun)))).toBe('샘플링에는 학습한 실행이 필요합니다. 먼저 학습 시작을 누르세요 (스텝 0에서는 정책이 참조 모델과 같습니다).');
    expect(ko[1]).toMatch(/^이 실행에는 GPU 메모리가 약 7\.42 GiB 필요해, 페이지가 스스로 허용하는 6\.00 GiB보다 많습니다/);
    expect(ko[2]).toBe('스텝 7 중에 GPU 장치를 잃었습니다. 브라우저는 GPU 프로세스가 다시 시작되거나, 드라이버가 업데이트되거나, 컴퓨터가 잠자기에 들어가면 장치를 잃습니다. 실패한 스텝의 지표는 기록되지 않았고, 실행은 스텝 6에 저장되어 있습니다. "스텝 6부터 계속"을 눌러 새 GPU 장치에서 이어 가거나, 지금 상태 그대로 내보내세요.');
    expect(ko[3]).toContain('추정으로는 이 실행에 약 7.42 GiB가 필요합니다. GPU는 4.00 GiB를 내준 뒤 더 주기를 거부했습니다.');
    expect(ko[3]).toContain('per_device_train_batch_size 2(배치 크기를 유지하도록 gradient_accumulation_steps 4), max_length 128 또는 gradient_checkpointing(으)로 바꾸면 들어갑니다 (LoRA 또는 precompute_ref_log_probs 하나만으로는 들어가지 않습니다)');
    for (const k of ko) expect([hangul.test(k), englishRuns(k)]).toEqual([true, []]); // no English sentence inside the Korean one
    await i18n.changeLanguage('en');
  });

  it('the page\'s own sentences: storage, a state file, a hyperparameter, in Korean and again in English after the switch', async () => {
    const quota = storageSentence(new DOMException('', 'QuotaExceededError'), 'save-run');
    const file = Object.assign(new Blob(['{"not": "a state"}']), { name: 'x.json' });
    const bad = await fail(readStateFile(file));
    const use = { usage: 2 ** 20, quota: 1.25 * 2 ** 20 };
    await i18n.changeLanguage('ko');
    setArg('beta', 'abc');
    const ko = [errorSentence(quota), noRoomSentence(9, 510_362, use), errorSentence(bad), useStore.getState().argErrors.beta];
    console.log(ko.join('\n'));
    expect(ko).toEqual([
      '브라우저가 이 페이지에 준 저장 공간이 가득 차서 실행 저장에 실패했습니다 (브라우저의 메시지: QuotaExceededError). 더는 필요 없는 저장된 실행을 지우거나, 상태를 내려받아 이 실행을 보관하세요.',
      '스텝 9의 실행 상태 (498.4 KiB)가 이 브라우저가 페이지에 준 저장 공간에 들어가지 않아 (1.3 MiB 중 256.0 KiB 남음) 여기에 저장하지 않았습니다. 실행을 보관하려면 상태를 내려받으세요. 그 파일을 다시 불러오면 스텝 9부터 이어 갑니다.',
      '선택한 파일 "x.json"은(는) 이 페이지가 저장한 실행 상태가 아닙니다("학습 상태 내려받기"로 받은 .dpostate 파일이어야 합니다).',
      'beta에는 숫자가 필요합니다. "abc"는 숫자가 아닙니다.',
    ]);
    for (const k of ko) expect(englishRuns(k)).toEqual([]);
    await i18n.changeLanguage('en'); // the form's error is said again in English
    expect(useStore.getState().argErrors.beta).toBe('beta needs a number, not "abc".');
    expect([errorSentence(quota), errorSentence(bad)]).toEqual([quota.message, '"x.json" is not a run state saved by this page (a .dpostate file from "Download the state").']);
    setArg('beta', '0.1');
    expect(useStore.getState().argErrors.beta).toBeUndefined();
    // an error already on the page (the dataset's) is said again after a switch
    await i18n.changeLanguage('ko');
    const before = useStore.getState().dataset;
    useStore.setState({ dataset: { status: 'error', error: message(new DatasetError('The dataset file is empty.', 'dataset.empty')) } });
    expect(useStore.getState().dataset.error).toBe('데이터셋 파일이 비어 있습니다. 선호 쌍이 들어 있는 파일을 고르세요.');
    await i18n.changeLanguage('en');
    expect(useStore.getState().dataset.error).toBe('The dataset file is empty.');
    useStore.setState({ dataset: before });
  });
});

describe("the export's README", () => {
  it('in Korean for the Korean page: the same commands, paths and TRL names, Korean sentences around them', () => {
    const facts = (over: Partial<ReadmeFacts>): ReadmeFacts => ({ label: 'tiny-gpt2', step: 60, totalSteps: 60, lora: true, hub: null, fromLoaded: false, hasEval: true, extra: ['metrics.jsonl', 'metrics.csv'], perDeviceBatch: 4, accumulation: 2, ...over });
    for (const f of [facts({}), facts({ lora: false, hub: { repo: 'owner/tiny-llama', revision: 'abc123' }, fromLoaded: true, hasEval: false })]) {
      const en = exportReadme(f, 'en');
      const ko = exportReadme(f, 'ko');
      expect(exportReadme(f)).toBe(en); // the CLI and the English page keep English
      // what a reader types or opens: commands, files and folders, option names, the numbers
      const names = (s: string) => [...s.matchAll(/(?:pip|python|torchrun|accelerate) [^\n(]*?(?=\s{2}|\n|$)|[\w-]+\.(?:py|jsonl|json|csv)|[\w-]+\/(?![\w/])|\b[a-z]+(?:_[a-z]+)+\b|\b\d+\b/gm)].map((m) => m[0].trim()).sort();
      expect(names(ko)).toEqual(names(en));
      expect(names(en)).toEqual(expect.arrayContaining(['python train_trl.py', 'torchrun --nproc_per_node N train_trl.py', 'ds_zero2.json', 'train.jsonl', 'dpo-playground-run/', 'per_device_train_batch_size', '8']));
      const sentences = ko.split('\n').filter((l) => /[A-Za-z\uac00-\ud7a3]/.test(l));
      expect(sentences.filter((l) => !/[\uac00-\ud7a3]/.test(l) && !/^\s+(model\/|DeepSpeed|GPU|python|pip|torchrun|accelerate)/.test(l))).toEqual([]); // every line but a command row has Korean
      for (const l of sentences) expect(englishRuns(l.replace(/(?:pip|python|torchrun|accelerate launch) .*/, '')), l).toEqual([]); // the commands aside
      if (f.hub) expect(ko).toContain('Hub의 owner/tiny-llama, 리비전 abc123: train_trl.py가 내려받음');
    }
    console.log(exportReadme(facts({}), 'ko'));
  });
});

describe('the page in ko-KR', () => {
  const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/<!-- -->/g, '').replace(/\s+/g, ' ');

  it('renders Korean, and English after the switch', () => {
    setLanguage('ko');
    expect(i18n.language).toBe('ko');
    const bar = text(renderToString(createElement(TrainBar)));
    expect(bar).toContain('학습 시작');
    expect(bar).toContain('모델 + 스크립트 내보내기');
    expect(bar).toContain('스텝 0 / ?');
    const hp = text(renderToString(createElement(HyperParams)));
    expect(hp).toContain('하이퍼파라미터');
    expect(hp).toContain('TRL 기본값');
    expect(hp).toContain('beta'); // TRL's names stay
    expect(hp).toContain('선택된 응답');
    const ex = renderToString(createElement(Explainer));
    expect(text(ex)).toContain('암묵적 보상');
    expect(ex).toContain('class="katex'); // the formulas stay typeset inside the Korean sentence
    expect(ex).toContain('<span class="chosen">선호한</span>');
    // a GPU fault: the worker's English sentence, led by its kind in Korean, and the continue button
    const initial = useStore.getState();
    storeApi.getInitialState = storeApi.getState; // server rendering reads zustand's initial state
    useStore.setState({ fault: { kind: 'device-lost', message: 'The GPU device was lost at step 3.', savedStep: 3 } });
    const fault = text(renderToString(createElement(FaultNotice)));
    expect(fault).toContain('GPU 장치를 잃었습니다');
    expect(fault).toContain('The GPU device was lost at step 3.');
    expect(fault).toContain('스텝 3부터 계속');
    setLanguage('en');
    expect(text(renderToString(createElement(FaultNotice))).trim()).toBe('The GPU device was lost at step 3. Continue from step 3');
    useStore.setState(initial, true);
    expect(i18n.language).toBe('en');
    const exEn = renderToString(createElement(Explainer));
    expect(text(exEn)).toContain('Each training example is a prompt with two answers: one people preferred and one they rejected');
    expect(exEn).toContain('<span class="rejected">rejected</span>');
    const barEn = text(renderToString(createElement(TrainBar)));
    expect(barEn).toContain('Train');
    expect(barEn).toContain('Export model + script');
    expect(barEn).not.toContain('학습');
  });
});
