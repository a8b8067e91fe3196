// Writing a trained model back as a Hugging Face folder that transformers loads unchanged:
// config.json (the original, with the dtype updated), model.safetensors with HF names (or shards and
// their index above a size), and any extra files (tokenizer) passed through.
import { parameterSpecs, type ModelConfig } from './config';
import { writeSafetensors, type WriteDtype } from './safetensors';
import { CheckpointError } from './weights';

export interface ExportOptions {
  /** Storage dtype of the weights (default F32). */
  dtype?: WriteDtype;
  /** Files copied as they are (tokenizer.json, tokenizer_config.json, generation_config.json...). */
  extraFiles?: Map<string, Uint8Array>;
  /**
   * Above this many bytes of weights, write model-0000k-of-0000N.safetensors shards and
   * model.safetensors.index.json as save_pretrained(max_shard_size=...) does (default: one file).
   */
  maxShardBytes?: number;
}

const BYTES: Record<WriteDtype, number> = { F32: 4, F16: 2, BF16: 2 };

const TORCH_DTYPE: Record<WriteDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/**
 * Build the files of a Hugging Face checkpoint folder. `tensors` is keyed by parameterSpecs(cfg)
 * names (GPT-2 unprefixed, as the Hub stores it); a tied lm_head is not written.
 */
export function exportHfFolder(
  cfg: ModelConfig,
  tensors: Map<string, Float32Array>,
  opts: ExportOptions = {},
): Map<string, Uint8Array> {
  const dtype = opts.dtype ?? 'F32';
  if (!(dtype in TORCH_DTYPE)) throw new CheckpointError(`Cannot export weights as ${String(dtype)}; use F32, F16 or BF16.`);
  const toWrite = parameterSpecs(cfg).map((s) => {
    const data = tensors.get(s.name);
    const want = s.shape.reduce((a, b) => a * b, 1);
    if (!data) throw new CheckpointError(`Cannot export: the weights have no tensor '${s.name}'.`);
    if (data.length !== want) {
      throw new CheckpointError(
        `Cannot export: tensor '${s.name}' has ${data.length} values, but its shape [${s.shape.join(', ')}] needs ${want}.`,
      );
    }
    return { name: s.name, shape: s.shape, data, dtype };
  });

  // transformers <5 reads torch_dtype, transformers 5 prefers dtype: update whichever the original has.
  const config: Record<string, unknown> = { ...cfg.raw };
  const td = TORCH_DTYPE[dtype];
  if ('dtype' in config) config.dtype = td;
  if ('torch_dtype' in config || !('dtype' in config)) config.torch_dtype = td;
  if (config.model_type === undefined) config.model_type = cfg.modelType;

  const files = new Map<string, Uint8Array>();
  for (const [name, bytes] of opts.extraFiles ?? []) files.set(name, bytes);
  files.set('config.json', new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n'));
  // transformers refuses safetensors files whose metadata format is not "pt".
  const total = toWrite.reduce((a, t) => a + t.data.length * BYTES[dtype], 0);
  const max = opts.maxShardBytes ?? Infinity;
  if (total <= max) {
    files.set('model.safetensors', writeSafetensors(toWrite, { format: 'pt' }));
    return files;
  }
  // tensors in order, a new shard when the next one would pass the limit (a tensor is never split)
  const shards: (typeof toWrite)[] = [[]];
  let size = 0;
  for (const t of toWrite) {
    const b = t.data.length * BYTES[dtype];
    if (size + b > max && shards[shards.length - 1].length) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(t);
    size += b;
  }
  const weightMap: Record<string, string> = {};
  const pad = (n: number) => String(n).padStart(5, '0');
  shards.forEach((sh, k) => {
    const name = `model-${pad(k + 1)}-of-${pad(shards.length)}.safetensors`;
    files.set(name, writeSafetensors(sh, { format: 'pt' }));
    for (const t of sh) weightMap[t.name] = name;
  });
  files.set('model.safetensors.index.json', new TextEncoder().encode(JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n'));
  return files;
}
