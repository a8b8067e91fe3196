// The export zip: the trained policy as a Hugging Face folder (plus PEFT adapters for a LoRA run), the
// TRL script that repeats the run, the training pairs and the metric history.
import { zipSync, strToU8 } from 'fflate';
import type { DpoTrainer } from '../dpo/trainer';
import { trlScript } from '../dpo/trl-script';
import { exportHfFolder } from '../model/export';
import { exportPeftAdapter } from '../model/lora';
import type { ExportResult } from './protocol';
import type { LoadedData, LoadedModel } from './session';

export interface ExportInput {
  trainer: DpoTrainer;
  model: LoadedModel;
  data: LoadedData;
  /** Extra text files (the metric history), by name. */
  extra: Record<string, string>;
}

export async function buildExportZip({ trainer: t, model: m, data: d, extra }: ExportInput): Promise<ExportResult> {
  const weights = await t.policyWeights();
  const folder = exportHfFolder(m.ck.config, weights, { extraFiles: m.extra });
  const files: Record<string, Uint8Array> = {};
  for (const [name, bytes] of folder) files[`model/${name}`] = bytes;
  // a LoRA run: model/ holds the merged weights (W + scaling * B A); adapter/ the adapters alone, PEFT's format
  if (t.lora) for (const [name, bytes] of exportPeftAdapter(m.ck.config, t.lora.config, await t.adapterWeights(), m.trlModel)) files[`adapter/${name}`] = bytes;
  files['train_trl.py'] = strToU8(trlScript(t.args, { model: m.trlModel, dataFile: 'train.jsonl' }));
  files['train.jsonl'] = strToU8(d.train.map((p) => JSON.stringify({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected })).join('\n') + '\n');
  if (d.eval.length) files['eval.jsonl'] = strToU8(d.eval.map((p) => JSON.stringify({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected })).join('\n') + '\n');
  for (const [name, body] of Object.entries(extra)) files[name] = strToU8(body);
  files['README.txt'] = strToU8(
    [
      `DPO Playground export: ${m.info.label}, step ${t.step} of ${t.totalSteps}.`,
      'model/          the trained policy as a Hugging Face folder (AutoModelForCausalLM.from_pretrained("model"))',
      ...(t.lora ? ['adapter/        the LoRA adapters alone (PeftModel.from_pretrained(base_model, "adapter")); model/ has them merged'] : []),
      'train_trl.py    the same run with TRL at scale (edit the model path at the top if needed)',
      'train.jsonl     the training pairs in TRL format; eval.jsonl the held-out pairs',
      ...Object.keys(extra).map((n) => `${n.padEnd(16)}the metric history`),
      '',
    ].join('\n'),
  );
  return { zip: zipSync(files, { level: 1 }), files: Object.keys(files) };
}
