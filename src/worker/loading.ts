// Loading what a run trains on, in the worker: the model (a URL, the Hub, files from disk) with its
// tokenizer, the preference dataset with its train/eval split, and the split tokenized as TRL does
// (cached per max_length and truncation mode). No GPU here: the weights stay on the CPU until a run.
import { loadPreferenceDataset, splitTrainEval, DatasetError, type PreferenceDataset, type PreferencePair, type UnpairedPreference } from '../data/index';
import type { TrainerArgs } from '../dpo/trainer';
import { mergeTokenReports, tokenizeDataset, tokenizeUnpairedDataset, tokenReportNoteCodes, type TokenizedPair } from '../dpo/tokenize';
import { datasetLengths } from '../dpo/diagnosis';
import { pieceTable } from '../dpo/token-moves';
import { countParameters } from '../model/config';
import { loadTokenizer, type LoadedTokenizer } from '../model/tokenizer';
import { loadCheckpoint, type LoadedCheckpoint } from '../model/weights';
import type { AdapterLimits } from './memory';
import type { DatasetInfo, DatasetSpec, ModelInfo, ModelSpec, PreviewRow, SplitSpec, WorkerEvent } from './protocol';
import { filesSource, recording, urlSource, ModelSourceError, type DownloadProgress } from './sources';
import { hubRef, openHubModel, planHub, type HubModelSpec } from './hub-model';
import { loadHubDataset } from './hub-dataset';
import type { HubModelPlan } from './hub-plan';
import { SessionError } from './session-error';

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'generation_config.json'];

export interface LoadedModel {
  info: ModelInfo;
  ck: LoadedCheckpoint;
  tok: LoadedTokenizer;
  /** Tokenizer and config files passed through to the export. */
  extra: Map<string, Uint8Array>;
  /** What the TRL script starts from: a Hub repo id, or './base-model' (the export zip writes that folder). */
  trlModel: string;
  /** The Hub revision of trlModel (Hub models only). */
  revision?: string;
}

/** The loaded split: pairs, or examples of TRL's unpaired format (prompt, completion, label), which only KTO trains on. */
export type LoadedData =
  | { info: DatasetInfo; unpaired?: false; train: PreferencePair[]; eval: PreferencePair[] }
  | { info: DatasetInfo; unpaired: true; train: UnpairedPreference[]; eval: UnpairedPreference[] };

const text = (b: Uint8Array | null): string | undefined => (b ? new TextDecoder().decode(b) : undefined);

function pairText(p: PreferencePair | UnpairedPreference): PreviewRow {
  const fmt = (ms: string | { role: string; content: string }[]) => (typeof ms === 'string' ? ms : ms.map((m) => `${m.role}: ${m.content}`).join('\n'));
  // an unpaired example: its completion in the chosen (desirable) or rejected (undesirable) column, and its label
  if ('completion' in p) return { row: p.row, prompt: fmt(p.prompt), chosen: p.label ? fmt(p.completion) : '', rejected: p.label ? '' : fmt(p.completion), label: p.label };
  if (p.kind === 'standard') return { row: p.row, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected };
  return { row: p.row, prompt: fmt(p.prompt), chosen: fmt(p.chosen), rejected: fmt(p.rejected) };
}

/** What loading needs from the session. */
export interface LoadingHost {
  emit(e: WorkerEvent): void;
  limits(): AdapterLimits;
  /** True while a run goes: nothing is loaded then. */
  busy(): boolean;
  /** A new model was loaded: the run of the old one is dropped. */
  modelChanged(): void;
}

export class Loading {
  model: LoadedModel | null = null;
  data: LoadedData | null = null;
  private tokenized: { key: string; train: TokenizedPair[]; eval: TokenizedPair[] } | null = null;

  constructor(private readonly host: LoadingHost) {}

  needModel(): LoadedModel {
    if (!this.model) throw new SessionError('Load a model first.');
    return this.model;
  }

  needData(): LoadedData {
    if (!this.data) throw new SessionError('Load a dataset first.');
    return this.data;
  }

  /** The sequence length the memory estimate uses: the tokenized data's longest pair, else max_length. */
  seqLen(args: TrainerArgs): number {
    const m = this.needModel();
    return this.data && this.tokenized ? this.data.info.maxTokens : (args.max_length ?? m.ck.config.maxPositions);
  }

  async loadModel(spec: ModelSpec): Promise<ModelInfo> {
    if (this.host.busy()) throw new SessionError('Stop the current run before loading another model.');
    const progress: DownloadProgress = (file, loaded, total) => this.host.emit({ type: 'download', what: 'model', file, loaded, total });
    let base;
    let label: string;
    let unnamed = false;
    let trlModel: string;
    let revision: string | undefined;
    if (spec.kind === 'url') {
      base = urlSource(spec.baseUrl, progress);
      label = spec.label;
      trlModel = './base-model';
    } else if (spec.kind === 'hub') {
      base = await openHubModel(spec, this.host.limits(), this.host.emit); // plans and refuses before any weight is fetched
      label = spec.repo.trim();
      trlModel = spec.repo.trim();
      revision = spec.revision?.trim() || 'main';
    } else {
      if (spec.files.length === 0) throw new ModelSourceError('No files were picked: choose config.json, model.safetensors and tokenizer.json (or their folder).', 'source.no-files');
      base = (await filesSource(spec.files)).source;
      const dir = spec.files[0].webkitRelativePath?.split('/')[0];
      label = dir || 'files from disk';
      unnamed = !dir; // the page names picked files without a folder in its own language
      trlModel = './base-model';
    }
    const rec = recording(base);
    if (spec.kind === 'hub' && !(await rec.source('config.json'))) {
      throw new ModelSourceError(`${spec.hubUrl.replace(/\/$/, '')} has no config.json for '${label}': check the repo id (owner/name) and the Hub address.`, 'source.no-config', { hub: spec.hubUrl.replace(/\/$/, ''), repo: label });
    }
    const ck = await loadCheckpoint(rec.source);
    const tokJson = text(await rec.source('tokenizer.json'));
    if (!tokJson) throw new ModelSourceError(`${label} has no tokenizer.json; the page needs the fast-tokenizer file (save it with tokenizer.save_pretrained).`, 'source.no-tokenizer', unnamed ? { label, unnamed: 1 } : { label });
    const extra = new Map<string, Uint8Array>();
    extra.set('tokenizer.json', new TextEncoder().encode(tokJson));
    for (const f of TOKENIZER_FILES.slice(1)) {
      const b = await rec.source(f);
      if (b) extra.set(f, b);
    }
    const tok = loadTokenizer({
      tokenizerJson: tokJson,
      tokenizerConfig: text(extra.get('tokenizer_config.json') ?? null),
      chatTemplate: text(extra.get('chat_template.jinja') ?? null),
    });
    if (tok.vocabSize > ck.config.vocabSize) {
      throw new ModelSourceError(`The tokenizer has ${tok.vocabSize} tokens but the model only ${ck.config.vocabSize} embeddings: they do not belong together.`, 'source.vocab', { tokens: tok.vocabSize, embeddings: ck.config.vocabSize });
    }
    const c = ck.config;
    const info: ModelInfo = {
      label,
      modelType: c.modelType,
      arch: c.arch,
      layers: c.layers,
      hidden: c.hidden,
      heads: c.heads,
      kvHeads: c.kvHeads,
      vocabSize: c.vocabSize,
      maxPositions: c.maxPositions,
      parameters: countParameters(c),
      dtype: ck.dtype,
      hasChatTemplate: tok.chatTemplate !== null,
      files: [...rec.read].map(([name, bytes]) => ({ name, bytes })),
    };
    this.host.modelChanged();
    this.model = { info, ck, tok, extra, trlModel, revision };
    this.tokenized = null;
    return info;
  }

  /** A Hub model's size, memory estimate and the settings that fit, before any weight is downloaded. */
  planHub(spec: HubModelSpec, args: Partial<TrainerArgs>): Promise<HubModelPlan> {
    return planHub(spec, args, this.host.limits());
  }

  async loadDataset(spec: DatasetSpec, split: SplitSpec, maxLength: number | null): Promise<DatasetInfo> {
    if (this.host.busy()) throw new SessionError('Stop the current run before loading another dataset.');
    const onProgress = (what: string) => (p: { bytesRead: number; totalBytes?: number }) =>
      this.host.emit({ type: 'download', what: 'dataset', file: what, loaded: p.bytesRead, total: p.totalBytes ?? null });
    let label: string;
    let ds: PreferenceDataset;
    let evalDs: PreferenceDataset | null = null;
    // TRL's unpaired format is accepted here; a run whose trainer is not KTO refuses it (UnpairedDataError)
    const opts = { allowUnpaired: true };
    if (spec.kind === 'url') {
      label = spec.label;
      ds = await loadPreferenceDataset(await fetchBytes(spec.url), { ...opts, fileName: spec.url, onProgress: onProgress(spec.url) });
      if (spec.evalUrl) {
        evalDs = await loadPreferenceDataset(await fetchBytes(spec.evalUrl), { ...opts, fileName: spec.evalUrl });
        if (!evalDs.unpaired !== !ds.unpaired) {
          throw new DatasetError(
            `The eval file is ${evalDs.unpaired ? 'unpaired (prompt, completion, label)' : 'paired'} but the training file is ${ds.unpaired ? 'unpaired' : 'paired'}: give both in one format.`,
            evalDs.unpaired ? 'dataset.eval-unpaired' : 'dataset.eval-paired',
          );
        }
      }
    } else if (spec.kind === 'hub') {
      label = `${spec.repo.trim()} (${spec.config}/${spec.split})`;
      ds = await loadHubDataset({ ...hubRef(spec, 'dataset'), config: spec.config, split: spec.split }, (p) =>
        this.host.emit({ type: 'download', what: 'dataset', file: p.file, loaded: p.loaded, total: p.total, fileIndex: p.fileIndex, fileCount: p.fileCount }),
      );
    } else {
      const name = spec.kind === 'file' ? spec.file.name : spec.name;
      label = name;
      const src = spec.kind === 'file' ? spec.file : spec.bytes;
      ds = await loadPreferenceDataset(src, { ...opts, fileName: name, onProgress: onProgress(name) });
    }
    const part = <T,>(rows: T[], evalRows: T[] | undefined): { train: T[]; eval: T[] } =>
      evalRows ? { train: rows, eval: evalRows.slice(0, split.maxEval) } : this.split(rows, split);
    const rows = ds.unpaired ?? ds.pairs;
    const base = { label, format: ds.format, report: ds.report, preview: rows.slice(0, 50).map(pairText), maxTokens: 0, meanTokens: 0, tooLong: 0, evalRows: [] };
    if (ds.unpaired) {
      const { train, eval: evalRows } = part(ds.unpaired, evalDs?.unpaired);
      if (train.length === 0)
        throw new DatasetError(`The file has ${ds.unpaired.length} usable example(s), none left for training after the eval split: lower the eval fraction.`, 'dataset.none-left', { usable: ds.unpaired.length });
      this.data = { info: { ...base, trainPairs: train.length, evalPairs: evalRows.length }, unpaired: true, train, eval: evalRows };
    } else {
      const { train, eval: evalRows } = part(ds.pairs, evalDs?.pairs);
      if (train.length === 0)
        throw new DatasetError(`The file has ${ds.pairs.length} usable pair(s), none left for training after the eval split: lower the eval fraction.`, 'dataset.none-left', { usable: ds.pairs.length });
      this.data = { info: { ...base, trainPairs: train.length, evalPairs: evalRows.length }, train, eval: evalRows };
    }
    this.tokenized = null;
    if (this.model) this.tokenize(maxLength, 'keep_start');
    return this.data.info;
  }

  private split<T>(pairs: T[], s: SplitSpec): { train: T[]; eval: T[] } {
    if (!(s.evalFraction >= 0 && s.evalFraction < 1))
      throw new DatasetError(`The eval fraction must be at least 0 and below 1 (got ${s.evalFraction}).`, 'dataset.eval-fraction', { given: String(s.evalFraction) });
    const r = splitTrainEval(pairs, { evalFraction: s.evalFraction, seed: s.seed });
    return { train: r.train, eval: r.eval.slice(0, s.maxEval) };
  }

  /** Tokenizes the split as TRL does (cached per max_length / truncation mode). */
  tokenize(maxLength: number | null, mode: TrainerArgs['truncation_mode']): { train: TokenizedPair[]; eval: TokenizedPair[] } {
    const m = this.needModel();
    const d = this.needData();
    const key = `${maxLength}|${mode}`;
    if (this.tokenized?.key === key) return this.tokenized;
    const opts = { maxLength, truncationMode: mode };
    const tr = d.unpaired ? tokenizeUnpairedDataset(m.tok, d.train, opts) : tokenizeDataset(m.tok, d.train, opts);
    const ev = d.unpaired ? tokenizeUnpairedDataset(m.tok, d.eval, opts) : tokenizeDataset(m.tok, d.eval, opts);
    if (tr.examples.length === 0) {
      throw new DatasetError(`Every training pair has a prompt of max_length (${maxLength}) tokens or more, so nothing is left to train on: raise max_length.`, 'dataset.all-too-long', {
        maxLength: String(maxLength),
      });
    }
    let max = 0;
    let sum = 0;
    for (const p of tr.examples) {
      const n = p.promptIds.length + Math.max(p.chosenIds.length, p.rejectedIds.length);
      max = Math.max(max, n);
      sum += n;
    }
    const byRow = new Map<number, PreferencePair | UnpairedPreference>(d.eval.map((p: PreferencePair | UnpairedPreference) => [p.row, p]));
    const evalRows = ev.examples.map((e) => byRow.get(e.row!)).filter((p) => p !== undefined).map(pairText);
    d.info = { ...d.info, evalRows, maxTokens: max, meanTokens: sum / tr.examples.length, tooLong: tr.skipped.length + ev.skipped.length, trainPairs: tr.examples.length, evalPairs: ev.examples.length };
    // the page's explainer: token texts of the eval completions, token lengths for the dataset diagnosis
    d.info.tokenPieces = pieceTable((ids) => m.tok.decode(ids), ev.examples.flatMap((e) => [e.chosenIds, e.rejectedIds]));
    // (unpaired examples have no rejected side: the diagnosis's pair-length rules do not apply to them)
    d.info.lengths = d.unpaired ? undefined : datasetLengths(tr.examples);
    // the dataset panel's token report: unknown tokens and prompt/completion mismatches, with what to do
    d.info.tokens = mergeTokenReports(tr.report, ev.report);
    d.info.tokenNoteCodes = tokenReportNoteCodes(d.info.tokens, m.tok.vocabSize);
    d.info.tokenNotes = d.info.tokenNoteCodes.map((x) => x.text);
    this.tokenized = { key, train: tr.examples, eval: ev.examples };
    return this.tokenized;
  }
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new DatasetError(`Could not fetch ${url} (${(e as Error).message}).`, 'dataset.fetch', { url });
  }
  if (!res.ok) throw new DatasetError(`Could not fetch ${url}: the server answered ${res.status}.`, 'dataset.fetch-status', { url, status: String(res.status) });
  return new Uint8Array(await res.arrayBuffer());
}
