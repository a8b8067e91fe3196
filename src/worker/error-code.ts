// A code for the typed errors the page shows most, so the page can say them in the user's language
// (src/ui/i18n/errors.ts) while the worker, the engine and the CLI keep their English sentence. The code
// names the error and its case; `params` carries the numbers and names the sentence needs. An error that
// carries its own `code` where it is thrown (SessionError, a run's GPU fault: 'gpu.run', memory
// refusals, DatasetError's file-level cases) keeps it; the rest are given one here by their class and
// fields. The model side (SafetensorsError, CheckpointError, ConfigError, UnsupportedModelError,
// TokenizerError, LoraConfigError, ModelSourceError, the Hub's header errors) carries safetensors.*,
// checkpoint.*, config.*, tokenizer.*, lora.*, source.* and hub.* codes where thrown; the class cases
// below are for the few thrown without one. Errors without a code are shown in English.
import type { ErrorInfo } from './protocol';

type Params = Record<string, string | number>;

/** The code (and its parameters) of a typed error; undefined when the page has no sentence of its own for it. */
export function errorCode(e: Error): { code: string; params?: Params } | undefined {
  const x = e as Error & { kind?: string; reason?: string; format?: string; recordsRead?: number; code?: unknown; params?: Params };
  // our own codes are namespaced ('session.no-model'); a Node or DOM error's code (ENOENT, 22) is not one
  if (typeof x.code === 'string' && x.code.includes('.')) return { code: x.code, ...(x.params ? { params: x.params } : {}) };
  switch (e.name) {
    case 'GpuFaultError':
      return x.kind ? { code: `gpu.${x.kind}`, params: { detail: e.message } } : undefined;
    case 'CorruptFileError':
      return { code: `dataset.${x.reason === 'truncated' ? 'truncated' : 'corrupt'}`, params: { format: x.format === 'parquet' ? 'Parquet' : String(x.format), records: x.recordsRead ?? 0 } };
    case 'DatasetError': // one thrown without a code of its own (src/data/read.ts gives the file-level ones theirs)
      return { code: 'dataset.other', params: { detail: e.message } };
    case 'CheckpointError':
    case 'SafetensorsError':
      return { code: 'model.checkpoint', params: { detail: e.message } };
    case 'ModelSourceError':
      return { code: 'model.source', params: { detail: e.message } };
    case 'UnsupportedModelError':
    case 'ConfigError':
      return { code: 'model.config', params: { detail: e.message } };
    case 'TokenizerError':
      return { code: 'model.tokenizer', params: { detail: e.message } };
    case 'LoraConfigError':
      return { code: 'memory.lora', params: { detail: e.message } };
    case 'GpuUnavailableError': // thrown in one place only (src/gpu/device.ts: no adapter)
      return { code: 'gpu.no-adapter' };
    case 'SessionError':
      return { code: 'session', params: { detail: e.message } };
    default:
      return undefined;
  }
}

/** The reply's error: name and English message as before, plus the code where there is one. */
export function errorInfo(e: Error): ErrorInfo {
  const c = errorCode(e);
  return c ? { name: e.name, message: e.message, code: c.code, ...(c.params ? { params: c.params } : {}) } : { name: e.name, message: e.message };
}
