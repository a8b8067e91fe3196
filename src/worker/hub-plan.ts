// What a Hub model will cost, before any weight is downloaded: config.json, then the weight index
// (model.safetensors.index.json) or, for a single file, its safetensors header read with a Range request.
// From those: the parameter count, the files and their sizes, the dtype, a check that every tensor the
// config needs is there with its shape, the memory estimate for the current settings against the
// adapter's limits, and the settings that would fit. A repo with only pytorch_model.bin, or of an
// architecture the engine does not run, is refused here, with a sentence, before its weights are fetched.
import { countParameters, parameterSpecs, parseConfig, type ModelConfig } from '../model/config';
import type { TrainerArgs } from '../dpo/trainer';
import { checkRef, fetchHead, fetchRepoJson, headFile, HubError, type HubRef } from './hub';
import { DEFAULT_BUDGET_BYTES, estimateMemory, fitOptions, fmtBytes, type AdapterLimits, type FitOption } from './memory';
import type { MemoryEstimate } from './protocol';

export interface HubWeightFile {
  path: string;
  /** Size from the Hub (HEAD / X-Linked-Size), null when the server did not say. */
  bytes: number | null;
  etag: string | null;
}

export interface HubModelPlan {
  repo: string;
  revision: string;
  modelType: string;
  parameters: number;
  /** Storage dtype of the weights ('BF16', 'F32', ...), from the safetensors header. */
  dtype: string;
  files: HubWeightFile[];
  /** Bytes to download for the weights (sum of files), null when a size is unknown. */
  downloadBytes: number | null;
  estimate: MemoryEstimate;
  /** Settings that would fit, cheapest first ([] when none does); the first is the current settings when they fit. */
  fits: FitOption[];
  /** Why this model cannot be trained here even with the settings above; null when it can. */
  refusal: string | null;
  /** The refusal's code and numbers, for the page's sentence in its language (error.hub.no-fit). */
  refusalCode?: { code: string; params: Record<string, string | number> };
  /** The parsed config (for the page's model card). */
  config: Pick<ModelConfig, 'layers' | 'hidden' | 'heads' | 'kvHeads' | 'vocabSize' | 'maxPositions'>;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
}

/** Reads the safetensors header of a Hub file with two Range requests (length, then the JSON). */
export async function fetchSafetensorsHeader(ref: HubRef, path: string, fileBytes: number | null): Promise<Map<string, HeaderEntry>> {
  const len = await fetchHead(ref, path, 8);
  if (!len || len.length < 8) throw new HubError(`${path} of '${ref.repo}' is shorter than a safetensors header: the file is cut short or not safetensors.`, 'hub.header-short', { path, repo: ref.repo });
  const n = Number(new DataView(len.buffer, len.byteOffset, 8).getBigUint64(0, true));
  if (!(n >= 2 && n <= 100_000_000) || (fileBytes !== null && 8 + n > fileBytes)) {
    throw new HubError(`${path} of '${ref.repo}' is not a safetensors file (its header length ${n} does not fit the file).`, 'hub.header-length', { path, repo: ref.repo, length: n });
  }
  const body = await fetchHead(ref, path, n, 8);
  if (!body || body.length < n) throw new HubError(`${path} of '${ref.repo}' ends inside its safetensors header: the file is cut short.`, 'hub.header-cut', { path, repo: ref.repo });
  let json: Record<string, { dtype?: unknown; shape?: unknown; data_offsets?: unknown }>;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch (e) {
    throw new HubError(`The safetensors header of ${path} is not valid JSON (${(e as Error).message}).`, 'hub.header-json', { path, detail: (e as Error).message });
  }
  const out = new Map<string, HeaderEntry>();
  const data = fileBytes === null ? null : fileBytes - 8 - n;
  for (const [name, v] of Object.entries(json)) {
    if (name === '__metadata__') continue;
    const offs = v?.data_offsets;
    if (typeof v?.dtype !== 'string' || !Array.isArray(v.shape) || !Array.isArray(offs)) {
      throw new HubError(`The safetensors header of ${path} has a malformed entry '${name}'.`, 'hub.header-entry', { path, tensor: name });
    }
    if (data !== null && Number(offs[1]) > data) throw new HubError(`${path} of '${ref.repo}' is shorter than its header says (tensor '${name}' ends past the file): the file is cut short.`, 'hub.header-past-end', { path, repo: ref.repo, tensor: name });
    out.set(name, { dtype: v.dtype, shape: v.shape.map(Number) });
  }
  return out;
}

function canonical(cfg: ModelConfig, name: string): string {
  if (cfg.arch === 'gpt2') return name.startsWith('transformer.') ? name.slice('transformer.'.length) : name;
  if (name.startsWith('model.') || name === 'lm_head.weight') return name;
  return `model.${name}`;
}

/** Config, index or header, sizes, estimate and fit: everything before the weights. */
export async function planHubModel(refIn: HubRef, args: TrainerArgs, limits: AdapterLimits, budgetBytes = DEFAULT_BUDGET_BYTES): Promise<HubModelPlan> {
  const ref = checkRef(refIn);
  const raw = await fetchRepoJson(ref, 'config.json');
  if (raw === null) {
    throw new HubError(`${ref.hubUrl.replace(/\/$/, '')} has no config.json for '${ref.repo}' at revision '${ref.revision}': check the repo id (owner/name), the revision and the Hub address.`, 'hub.no-config', { hub: ref.hubUrl.replace(/\/$/, ''), repo: ref.repo, revision: ref.revision });
  }
  let cfg: ModelConfig;
  try {
    cfg = parseConfig(raw);
  } catch (e) {
    // the config's own code and numbers, with the repo: the page says both in its language
    const x = e as Error & { code?: string; params?: Record<string, string | number> };
    throw new HubError(`'${ref.repo}' cannot be trained here: ${x.message}`, x.code, x.code ? { ...x.params, cannotTrain: ref.repo } : undefined);
  }

  let shardNames: string[];
  const index = (await fetchRepoJson(ref, 'model.safetensors.index.json')) as { weight_map?: Record<string, unknown> } | null;
  if (index) {
    const wm = index.weight_map;
    if (!wm || typeof wm !== 'object') throw new HubError(`model.safetensors.index.json of '${ref.repo}' has no "weight_map" object.`, 'hub.no-weight-map', { repo: ref.repo });
    shardNames = [...new Set(Object.values(wm).map(String))];
    for (const s of shardNames) {
      if (s === '' || s.startsWith('/') || s.split(/[\\/]/).includes('..')) throw new HubError(`model.safetensors.index.json names a shard '${s}' that is not a plain file name.`, 'hub.shard-path', { shard: s });
    }
  } else {
    shardNames = ['model.safetensors'];
  }
  const files: HubWeightFile[] = [];
  for (const path of shardNames) {
    const h = await headFile(ref, path);
    if (!h) {
      if (!index) {
        const bin = (await headFile(ref, 'pytorch_model.bin')) ?? (await headFile(ref, 'pytorch_model.bin.index.json'));
        throw new HubError(
          bin
            ? `'${ref.repo}' has only pytorch_model.bin (PyTorch pickle), which the page does not read and did not download: pick a revision with model.safetensors, or convert it (model.save_pretrained(dir, safe_serialization=True)) and load the folder from disk.`
            : `'${ref.repo}' has neither model.safetensors nor model.safetensors.index.json at revision '${ref.revision}'.`,
          bin ? 'hub.pytorch-bin' : 'hub.no-weights',
          { repo: ref.repo, revision: ref.revision },
        );
      }
      throw new HubError(`The shard ${path} listed in model.safetensors.index.json of '${ref.repo}' is missing on the Hub.`, 'hub.missing-shard', { path, repo: ref.repo });
    }
    files.push({ path, bytes: h.bytes, etag: h.etag });
  }

  // headers of every weight file (a few KB each): dtype, and every parameter present with its shape
  const where = new Map<string, HeaderEntry>();
  for (const f of files) for (const [n, e] of await fetchSafetensorsHeader(ref, f.path, f.bytes)) where.set(canonical(cfg, n), e);
  const missing: string[] = [];
  const wrong: string[] = [];
  const wrongShown: string[] = []; // the same cases without English words, for the page's sentence
  const dtypes = new Map<string, number>();
  const floats = new Set(['F32', 'F16', 'BF16', 'F64']);
  for (const s of parameterSpecs(cfg)) {
    const e = where.get(s.name);
    if (!e) {
      missing.push(s.name);
      continue;
    }
    if (e.shape.length !== s.shape.length || e.shape.some((d, i) => d !== s.shape[i])) {
      wrong.push(`${s.name} is [${e.shape.join(', ')}], expected [${s.shape.join(', ')}]`);
      wrongShown.push(`${s.name} [${e.shape.join(', ')}] ≠ [${s.shape.join(', ')}]`);
    }
    if (!floats.has(e.dtype)) {
      wrong.push(`${s.name} is stored as ${e.dtype}, not a float type (quantized checkpoints are not supported)`);
      wrongShown.push(`${s.name}: ${e.dtype}`);
    }
    dtypes.set(e.dtype, (dtypes.get(e.dtype) ?? 0) + s.shape.reduce((a, b) => a * b, 1));
  }
  if (missing.length || wrong.length) {
    const parts = [];
    if (missing.length) parts.push(`missing ${missing.length} tensor(s): ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}`);
    if (wrong.length) parts.push(wrong.slice(0, 4).join('; '));
    throw new HubError(`The weights of '${ref.repo}' do not match its config.json (nothing was downloaded): ${parts.join('; ')}.`, 'hub.mismatch', {
      repo: ref.repo,
      missing: missing.length,
      missingNames: missing.slice(0, 6).join(', '),
      wrong: wrong.length,
      wrongNames: wrongShown.slice(0, 4).join('; '),
    });
  }
  const dtype = [...dtypes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';

  const seq = args.max_length ?? cfg.maxPositions;
  const estimate = estimateMemory(cfg, args, seq, limits, budgetBytes);
  const fits = fitOptions(cfg, args, seq, limits, budgetBytes);
  const sizes = files.map((f) => f.bytes);
  const downloadBytes = sizes.every((b): b is number => b !== null) ? sizes.reduce((a, b) => a + b, 0) : null;
  const refusal =
    fits.length === 0
      ? `'${ref.repo}' (${(countParameters(cfg) / 1e6).toFixed(0)}M parameters) does not fit this GPU even with LoRA, gradient_checkpointing and max_length 128 (${estimate.refusal ?? fmtBytes(estimate.totalBytes)}); nothing was downloaded.`
      : null;
  const refusalCode = refusal ? { code: 'hub.no-fit', params: { repo: ref.repo, millions: Math.round(countParameters(cfg) / 1e6), needBytes: estimate.totalBytes } } : undefined;
  return {
    ...(refusalCode ? { refusalCode } : {}),
    repo: ref.repo,
    revision: ref.revision,
    modelType: cfg.modelType,
    parameters: countParameters(cfg),
    dtype,
    files,
    downloadBytes,
    estimate,
    fits,
    refusal,
    config: { layers: cfg.layers, hidden: cfg.hidden, heads: cfg.heads, kvHeads: cfg.kvHeads, vocabSize: cfg.vocabSize, maxPositions: cfg.maxPositions },
  };
}
