// The export zip: the trained policy as a Hugging Face folder (plus PEFT adapters for a LoRA run), and
// everything the TRL script that repeats the run needs, so that `python train_trl.py` runs from the
// unzipped folder as it is: the model the run started from (base-model/, or the Hub repo id and
// revision), the training pairs, a DeepSpeed ZeRO-2 config, and a README saying how to launch it on
// one process or several.
import { zipSync, strToU8 } from 'fflate';
import { trlRecord, unpairedRecord, type PreferencePair, type UnpairedPreference } from '../data/index';
import { ktoTrainRecords } from '../dpo/kto-data';
import type { DpoTrainer } from '../dpo/trainer';
import { trlScript } from '../dpo/trl-script';
import { exportHfFolder } from '../model/export';
import { exportPeftAdapter } from '../model/lora';
import { exportReadme, type ReadmeFacts, type ReadmeLanguage } from './export-readme';
import type { WriteDtype } from '../model/safetensors';
import type { ExportResult } from './protocol';
import type { LoadedData, LoadedModel } from './session';

export interface ExportInput {
  trainer: DpoTrainer;
  model: LoadedModel;
  data: LoadedData;
  /** Extra text files (the metric history), by name. */
  extra: Record<string, string>;
  /** The README's language (the page's; the CLI's is English). */
  language?: ReadmeLanguage;
}

/**
 * DeepSpeed ZeRO-2 for the HF Trainer: "auto" values are filled in from the script's DPOConfig (batch
 * sizes, accumulation, clipping, precision), so the run keeps the playground's hyperparameters.
 */
export const DS_ZERO2 = {
  zero_optimization: { stage: 2, overlap_comm: true, contiguous_gradients: true, reduce_scatter: true, allgather_partitions: true, reduce_bucket_size: 'auto' },
  bf16: { enabled: 'auto' },
  fp16: { enabled: 'auto' },
  gradient_clipping: 'auto',
  train_batch_size: 'auto',
  train_micro_batch_size_per_gpu: 'auto',
  gradient_accumulation_steps: 'auto',
  wall_clock_breakdown: false,
};

const WRITABLE: WriteDtype[] = ['F32', 'F16', 'BF16'];

export async function buildExportZip({ trainer: t, model: m, data: d, extra, language = 'en' }: ExportInput): Promise<ExportResult> {
  const weights = await t.policyWeights();
  // shards of at most 400 MiB, as save_pretrained(max_shard_size=...) writes them: no file near browsers' per-buffer limits
  const folder = exportHfFolder(m.ck.config, weights, { extraFiles: m.extra, maxShardBytes: 400 * 2 ** 20 });
  const files: Record<string, Uint8Array> = {};
  for (const [name, bytes] of folder) files[`model/${name}`] = bytes;

  // The model DPO started from: the loaded one, or the SFT result when the run began with SFT (then
  // also the reference). A Hub model the run did not change is named by repo id and revision; anything
  // else goes into base-model/ (in the file's own dtype when the weights are the loaded ones: lossless).
  const start = t.startWeights;
  const fromLoaded = start === m.ck.tensors;
  const hub = fromLoaded && m.revision !== undefined;
  const baseRef = hub ? m.trlModel : 'base-model';
  if (!hub) {
    const dtype = fromLoaded && (WRITABLE as string[]).includes(m.ck.dtype) ? (m.ck.dtype as WriteDtype) : 'F32';
    for (const [name, bytes] of exportHfFolder(m.ck.config, start, { extraFiles: m.extra, dtype })) files[`base-model/${name}`] = bytes;
  }
  // a LoRA run: model/ holds the merged weights (W + scaling * B A); adapter/ the adapters alone, PEFT's format
  if (t.lora) for (const [name, bytes] of exportPeftAdapter(m.ck.config, t.lora.config, await t.adapterWeights(), baseRef)) files[`adapter/${name}`] = bytes;
  files['train_trl.py'] = strToU8(trlScript(t.args, { model: hub ? m.trlModel : './base-model', revision: hub ? m.revision : undefined, dataFile: 'train.jsonl' }));
  files['ds_zero2.json'] = strToU8(JSON.stringify(DS_ZERO2, null, 2) + '\n');
  // pairs as {prompt, chosen, rejected}; an unpaired dataset (KTO) as TRL's {prompt, completion, label}
  const rows = (xs: readonly (PreferencePair | UnpairedPreference)[]) => strToU8(xs.map((p) => JSON.stringify(trlRecord(p))).join('\n') + '\n');
  // a KTO run that shuffled its examples trained them in its own order: the file holds them in that order, so
  // KTOTrainer's sequential sampler sees the same batches (and KL completions)
  const ktoOrder = t.args.shuffle ? t.ktoOrder : null;
  files['train.jsonl'] = ktoOrder ? strToU8(ktoTrainRecords(ktoOrder, d.train as readonly (PreferencePair | UnpairedPreference)[], unpairedRecord).map((r) => JSON.stringify(r)).join('\n') + '\n') : rows(d.train);
  if (d.eval.length) files['eval.jsonl'] = rows(d.eval);
  for (const [name, body] of Object.entries(extra)) files[name] = strToU8(body);

  const a = t.args;
  const facts: ReadmeFacts = {
    label: m.info.label,
    step: t.step,
    totalSteps: t.totalSteps,
    lora: Boolean(t.lora),
    hub: hub ? { repo: m.trlModel, revision: m.revision! } : null,
    fromLoaded,
    hasEval: d.eval.length > 0,
    extra: Object.keys(extra),
    perDeviceBatch: a.per_device_train_batch_size,
    accumulation: a.gradient_accumulation_steps,
  };
  // the README in the page's language; a Korean one comes with the English beside it (README.en.txt)
  files['README.txt'] = strToU8(exportReadme(facts, language));
  if (language !== 'en') files['README.en.txt'] = strToU8(exportReadme(facts, 'en'));
  // weights are stored, not deflated: float bytes barely compress and deflating 0.5-2.5 GB takes minutes in a tab
  const entries = Object.fromEntries(Object.entries(files).map(([n, b]) => [n, n.endsWith('.safetensors') ? ([b, { level: 0 }] as [Uint8Array, { level: 0 }]) : b]));
  return { zip: zipSync(entries, { level: 1 }), files: Object.keys(files) };
}
