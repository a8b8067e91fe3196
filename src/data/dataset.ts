// From raw records to preference pairs: format detection (TRL standard, conversational, implicit prompt),
// per-row validation with reasons, and prompt extraction as TRL's DPOTrainer does it.
import { DatasetError } from './errors';
import { isObject, looksConversational, messagesProblem, present, recordColumns, SkipLog, textProblem } from './record-checks';
import { extractPromptLastAssistant, extractPromptTrl, deepEqual } from './prompt';
import { readRecords, type DatasetSource, type RawRecord, type ReadOptions } from './read';
import { isUnpairedRecords, UnpairedDataError, unpairedFromRecords } from './unpaired';
import type {
  DatasetFormat,
  UnpairedPreference,
  Message,
  PreferencePair,
  SkippedRow,
  ValidationReport,
} from './types';

export interface PairsOptions {
  /**
   * How an implicit prompt is cut out of chosen/rejected. 'trl' (default) is TRL 1.13's extract_prompt:
   * the longest shared prefix (minus a trailing space). 'last-assistant' (ours, strings only) cuts after the
   * last "\n\nAssistant:" of the shared prefix.
   */
  implicitPrompt?: 'trl' | 'last-assistant';
  /** How many skipped rows to list individually in the report (all are counted). Default 1000. */
  maxSkippedListed?: number;
  /**
   * Accept TRL's unpaired format (prompt, completion, label; KTO only): the dataset then has `unpaired` and no
   * pairs. Default false: an unpaired file throws UnpairedDataError, which says that only KTO trains on it.
   */
  allowUnpaired?: boolean;
}

export interface LoadOptions extends ReadOptions, PairsOptions {}

export interface PreferenceDataset {
  format: DatasetFormat;
  /** The pairs (empty for an unpaired dataset). */
  pairs: PreferencePair[];
  report: ValidationReport;
  /** TRL's unpaired format (format 'unpaired' / 'unpaired-conversational'): its examples, for KTO. */
  unpaired?: UnpairedPreference[];
}

/**
 * Turns parsed records into pairs. The format is decided from the first record that has both "chosen"
 * and "rejected" (as TRL decides from the first example); rows that do not fit are skipped with a reason.
 * Throws DatasetError when no record looks like a preference pair or when none survives validation.
 */
export function pairsFromRecords(
  records: RawRecord[],
  opts: PairsOptions & { fileKind?: ValidationReport['fileKind']; gzipped?: boolean } = {},
): PreferenceDataset {
  const log = new SkipLog(opts.maxSkippedListed);
  const skip = log.skip.bind(log);

  if (records.length === 0) throw new DatasetError('The dataset file has no records.', 'dataset.no-records');
  if (isUnpairedRecords(records)) {
    if (!opts.allowUnpaired) throw new UnpairedDataError();
    const u = unpairedFromRecords(records, opts);
    return { format: u.format, pairs: [], unpaired: u.examples, report: u.report };
  }
  const firstPair = records.find((r) => isObject(r.value) && present(r.value.chosen) && present(r.value.rejected));
  if (!firstPair) {
    const firstObj = records.find((r) => isObject(r.value));
    if (!firstObj) {
      throw new DatasetError(
        records.every((r) => r.error !== undefined)
          ? 'No line of the file is valid JSON, so it is not a JSONL preference dataset.'
          : 'The records in this file are not objects with "chosen" and "rejected" columns, so it is not a preference dataset.',
        records.every((r) => r.error !== undefined) ? 'dataset.no-valid-line' : 'dataset.not-objects',
      );
    }
    const cols = Object.keys(firstObj.value as object);
    throw new DatasetError(
      `This is not a preference dataset: it needs "chosen" and "rejected" columns (and optionally "prompt"), or for KTO "prompt", "completion" and "label", ` +
        `but its records have ${cols.length ? cols.slice(0, 10).map((c) => `"${c}"`).join(', ') : 'no columns'}.`,
      cols.length ? 'dataset.no-pair-columns' : 'dataset.no-columns',
      cols.length ? { columns: cols.slice(0, 10).map((c) => `"${c}"`).join(', ') } : undefined,
    );
  }
  const first = firstPair.value as Record<string, unknown>;
  const columns = Object.keys(first);
  const conversational = looksConversational(first.chosen);
  // TRL: a "prompt" column is used as is when it is of the same kind as chosen (maybe_extract_prompt);
  // otherwise the prompt is extracted from chosen/rejected.
  const hasPrompt = present(first.prompt) && looksConversational(first.prompt) === conversational;
  const format: DatasetFormat = conversational
    ? hasPrompt
      ? 'conversational'
      : 'implicit-conversational'
    : hasPrompt
      ? 'standard'
      : 'implicit';
  if (opts.implicitPrompt === 'last-assistant' && format === 'implicit-conversational') {
    throw new DatasetError('The "last-assistant" prompt rule applies to text datasets; this one holds conversations.', 'dataset.last-assistant-conversations');
  }

  const pairs: PreferencePair[] = [];
  for (const r of records) {
    const v = recordColumns(r, log, ['chosen', 'rejected', ...(hasPrompt ? ['prompt'] : [])], '"chosen" and "rejected"');
    if (!v) continue;
    const cols = hasPrompt ? ['prompt', 'chosen', 'rejected'] : ['chosen', 'rejected'];
    if (conversational) {
      const problem = messagesProblem(v, cols);
      if (problem) {
        skip(r, 'wrong-type', problem);
        continue;
      }
      const chosen = v.chosen as Message[];
      const rejected = v.rejected as Message[];
      if (chosen.length === 0 || rejected.length === 0) {
        const column = chosen.length === 0 ? 'chosen' : 'rejected';
        skip(r, 'empty', { text: `"${column}" has no messages`, code: 'empty.messages', params: { column } });
        continue;
      }
      if (deepEqual(chosen, rejected)) {
        skip(r, 'identical', '"chosen" is identical to "rejected"');
        continue;
      }
      if (hasPrompt) {
        pairs.push({ kind: 'conversational', row: r.row, line: r.line, prompt: v.prompt as Message[], chosen, rejected });
      } else {
        const s = extractPromptTrl(chosen, rejected)!;
        pairs.push({ kind: 'conversational', row: r.row, line: r.line, ...s });
      }
    } else {
      const problem = textProblem(v, cols);
      if (problem) {
        skip(r, 'wrong-type', problem);
        continue;
      }
      const chosen = v.chosen as string;
      const rejected = v.rejected as string;
      if (chosen.trim() === '' || rejected.trim() === '') {
        const column = chosen.trim() === '' ? 'chosen' : 'rejected';
        skip(r, 'empty', { text: `"${column}" is empty`, code: 'empty.text', params: { column } });
        continue;
      }
      if (chosen === rejected) {
        skip(r, 'identical', '"chosen" is identical to "rejected"');
        continue;
      }
      if (hasPrompt) {
        pairs.push({ kind: 'standard', row: r.row, line: r.line, prompt: v.prompt as string, chosen, rejected });
      } else {
        const s =
          opts.implicitPrompt === 'last-assistant'
            ? extractPromptLastAssistant(chosen, rejected)!
            : extractPromptTrl(chosen, rejected)!;
        pairs.push({ kind: 'standard', row: r.row, line: r.line, ...s });
      }
    }
  }

  const report: ValidationReport = {
    format,
    fileKind: opts.fileKind ?? 'jsonl',
    gzipped: opts.gzipped ?? false,
    totalRows: records.length,
    kept: pairs.length,
    skippedCount: log.skippedCount,
    counts: log.counts,
    skipped: log.skipped,
    columns,
  };
  if (pairs.length === 0) {
    throw new DatasetError(`No usable preference pair in the file: all ${records.length} records were skipped (most often: ${log.mostOften()}).`, 'dataset.no-usable-pairs', {
      records: records.length,
      reason: log.topReason(),
    });
  }
  return { format, pairs, report };
}

/** Reads a file (JSONL, JSON, Parquet, optionally gzipped) and returns its preference pairs with a validation report. */
export async function loadPreferenceDataset(source: DatasetSource, opts: LoadOptions = {}): Promise<PreferenceDataset> {
  const read = await readRecords(source, opts);
  return pairsFromRecords(read.records, { ...opts, fileKind: read.kind, gzipped: read.gzipped });
}

/** Adds rows dropped later (e.g. 'too-long' after tokenization) to a report, returning a new report. */
export function withSkipped(report: ValidationReport, more: SkippedRow[], maxSkippedListed = 1000): ValidationReport {
  const counts = { ...report.counts };
  for (const s of more) counts[s.reason] = (counts[s.reason] ?? 0) + 1;
  return {
    ...report,
    kept: report.kept - more.length,
    skippedCount: report.skippedCount + more.length,
    counts,
    skipped: [...report.skipped, ...more].slice(0, maxSkippedListed),
  };
}

/** A pair or unpaired example as a record of TRL's own format, as the exported TRL script loads it. */
export function trlRecord(p: PreferencePair | UnpairedPreference): Record<string, unknown> {
  return 'completion' in p ? { prompt: p.prompt, completion: p.completion, label: p.label } : { prompt: p.prompt, chosen: p.chosen, rejected: p.rejected };
}

/** One side of a record in TRL's unpaired format: a pair's chosen (label true) or rejected answer, as unpair_preference_dataset writes it; an unpaired record as it is. */
export function unpairedRecord(p: PreferencePair | UnpairedPreference, label: boolean): Record<string, unknown> {
  if ('completion' in p) return trlRecord(p);
  return { prompt: p.prompt, completion: label ? p.chosen : p.rejected, label };
}
