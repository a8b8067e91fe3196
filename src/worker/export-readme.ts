// The export's README in the page's language (English for the CLI and the English page, Korean for the
// Korean one): the files of the zip, how to launch train_trl.py, and how the batch is kept. Commands,
// paths and TRL's option names are the same in both languages; only the sentences around them change.

export type ReadmeLanguage = 'en' | 'ko';

/** What the README says about this export (src/worker/export.ts gathers it). */
export interface ReadmeFacts {
  label: string;
  step: number;
  totalSteps: number;
  lora: boolean;
  /** The Hub repo id and revision the run started from, or null when base-model/ holds it. */
  hub: { repo: string; revision: string } | null;
  /** The base model is the loaded one (false: the SFT result of the run). */
  fromLoaded: boolean;
  hasEval: boolean;
  /** Extra files (the metric history), by name. */
  extra: string[];
  perDeviceBatch: number;
  accumulation: number;
}

/** Columns a label takes in a monospace font: Hangul and other wide characters take two. */
const width = (s: string) => [...s].reduce((n, c) => n + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]/.test(c) ? 2 : 1), 0);

/** Rows "name   description" with the descriptions in one column. */
function table(rows: [string, string][], indent = '  '): string[] {
  const w = Math.max(...rows.map(([k]) => width(k))) + 2;
  return rows.map(([k, v]) => `${indent}${k}${' '.repeat(w - width(k))}${v}`);
}

const TEXT = {
  en: {
    title: (f: ReadmeFacts) => `DPO Playground export: ${f.label}, step ${f.step} of ${f.totalSteps}.`,
    files: 'Files',
    model: 'the trained policy as a Hugging Face folder (AutoModelForCausalLM.from_pretrained("model"))',
    adapter: 'the LoRA adapters alone (PeftModel.from_pretrained(base, "adapter")); model/ has them merged',
    hubLabel: '(base model)',
    hub: (repo: string, rev: string) => `${repo} at revision ${rev} on the Hub: train_trl.py downloads it`,
    baseLoaded: 'the model the run started from (and its reference): train_trl.py starts here',
    baseSft: 'the SFT model DPO started from (and its reference): train_trl.py starts here',
    script: 'the same run with TRL (pip install "trl>=1,<2" "transformers>=5" datasets torch)',
    train: "the training pairs in TRL's format, in the order the run used them",
    eval: 'the held-out pairs',
    ds: 'a DeepSpeed ZeRO-2 config for train_trl.py --deepspeed (batch and precision come from the script)',
    extra: 'the metric history of the run in the playground',
    runIt: 'Run it (from any folder: the script finds its files beside itself)',
    launch: ['one process', 'N GPUs, torchrun', 'N GPUs, accelerate', 'DeepSpeed ZeRO-2', 'first steps only', 'elsewhere'],
    firstSteps: '(same learning-rate schedule as the full run)',
    batch: (f: ReadmeFacts, b: number) => [
      `Each optimizer step sees ${b} pairs, as in the playground (per_device_train_batch_size ${f.perDeviceBatch} x`,
      `gradient_accumulation_steps ${f.accumulation}). With N processes the script divides the per-device batch (or else the`,
      'accumulation) by N, so the global batch and the logged loss stay the same; it stops with a sentence when',
      `N does not divide ${b}. The trained model and log_history.jsonl (TRL's metric names, one line per`,
      'logged step) go to dpo-playground-run/ beside the script.',
    ],
  },
  ko: {
    title: (f: ReadmeFacts) => `DPO 플레이그라운드 내보내기: ${f.label}, 스텝 ${f.step} / ${f.totalSteps}.`,
    files: '파일',
    model: '학습된 정책 모델, Hugging Face 폴더 형식 (AutoModelForCausalLM.from_pretrained("model"))',
    adapter: 'LoRA 어댑터만 따로 (PeftModel.from_pretrained(base, "adapter")); model/에는 병합되어 들어 있음',
    hubLabel: '(기본 모델)',
    hub: (repo: string, rev: string) => `Hub의 ${repo}, 리비전 ${rev}: train_trl.py가 내려받음`,
    baseLoaded: '실행이 시작한 모델 (참조 모델이기도 함): train_trl.py가 여기서 시작',
    baseSft: 'DPO가 시작한 SFT 모델 (참조 모델이기도 함): train_trl.py가 여기서 시작',
    script: 'TRL로 같은 실행을 다시 하는 스크립트 (pip install "trl>=1,<2" "transformers>=5" datasets torch)',
    train: 'TRL 형식의 학습용 선호 쌍, 실행이 쓴 순서 그대로',
    eval: '평가용으로 떼어 둔 선호 쌍',
    ds: 'train_trl.py --deepspeed 에 쓰는 DeepSpeed ZeRO-2 설정 (배치와 정밀도는 스크립트에서 정함)',
    extra: '플레이그라운드에서 기록한 이 실행의 지표',
    runIt: '실행하기 (어느 폴더에서든: 스크립트가 자기 옆의 파일을 찾습니다)',
    launch: ['프로세스 하나', 'GPU N개, torchrun', 'GPU N개, accelerate', 'DeepSpeed ZeRO-2', '처음 몇 스텝만', '다른 곳에 저장'],
    firstSteps: '(전체 실행과 같은 학습률 스케줄)',
    batch: (f: ReadmeFacts, b: number) => [
      `옵티마이저 스텝마다 플레이그라운드와 같이 선호 쌍 ${b}개를 봅니다 (per_device_train_batch_size ${f.perDeviceBatch} x`,
      `gradient_accumulation_steps ${f.accumulation}). 프로세스가 N개이면 스크립트가 장치당 배치를 (나눠지지 않으면 누적 스텝을)`,
      `N으로 나누므로 전역 배치와 기록되는 loss가 그대로입니다. ${b}개가 N으로 나누어떨어지지 않으면 이유를 말하고 멈춥니다.`,
      "학습된 모델과 log_history.jsonl (TRL의 지표 이름, 기록한 스텝마다 한 줄)은 스크립트 옆의",
      'dpo-playground-run/ 에 저장됩니다.',
    ],
  },
} as const;

/** The README.txt of the export in `language`. */
export function exportReadme(f: ReadmeFacts, language: ReadmeLanguage = 'en'): string {
  const x = TEXT[language];
  const listing: [string, string][] = [
    ['model/', x.model],
    ...(f.lora ? [['adapter/', x.adapter] as [string, string]] : []),
    f.hub ? [x.hubLabel, x.hub(f.hub.repo, f.hub.revision)] : ['base-model/', f.fromLoaded ? x.baseLoaded : x.baseSft],
    ['train_trl.py', x.script],
    ['train.jsonl', x.train],
    ...(f.hasEval ? [['eval.jsonl', x.eval] as [string, string]] : []),
    ['ds_zero2.json', x.ds],
    ...f.extra.map((n) => [n, x.extra] as [string, string]),
  ];
  const commands = [
    'python train_trl.py',
    'torchrun --nproc_per_node N train_trl.py',
    'accelerate launch --num_processes N train_trl.py',
    'pip install deepspeed && torchrun --nproc_per_node N train_trl.py --deepspeed ds_zero2.json',
    `python train_trl.py --stop_after_steps 2   ${x.firstSteps}`,
    'python train_trl.py --output_dir /path/to/run',
  ];
  const launch = x.launch.map((l, i) => [l, commands[i]] as [string, string]);
  const batch = f.perDeviceBatch * f.accumulation;
  return [x.title(f), '', x.files, ...table(listing), '', x.runIt, ...table(launch), '', ...x.batch(f, batch), ''].join('\n');
}
