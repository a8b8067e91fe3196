// TRL's unpaired preference format, as TRL 1.13's KTOTrainer takes it: records {prompt, completion, label}
// with label a boolean (true = desirable), either text (standard) or lists of {role, content} messages
// (conversational). The format is decided from the first record that has "completion" and "label" (TRL's
// is_conversational looks at the first example); rows that do not fit are skipped with a reason, as the
// paired reader does. Only KTO trains on such data: DPO, CPO and ORPO need pairs (UnpairedDataError).
import { DatasetError } from './errors';
import { isObject, kindName, looksConversational, messagesProblem, present, recordColumns, SkipLog, textProblem } from './record-checks';
import type { RawRecord } from './read';
import type { Message, UnpairedFormat, UnpairedPreference, ValidationReport } from './types';

/** The file is in TRL's unpaired format but the run's trainer needs pairs. */
export class UnpairedDataError extends DatasetError {
  override name = 'UnpairedDataError';
  /** The page says it in the user's language by this code (src/worker/error-code.ts), with `params.who`. */
  readonly code = 'dataset.unpaired';
  readonly params: { who: string };
  /** `trainer`: the run's trainer (dpo, cpo, orpo, or sft for a run that begins with SFT); undefined when not known yet. */
  constructor(readonly trainer?: string) {
    const names = trainer === undefined ? 'DPO, CPO and ORPO' : trainer === 'sft' ? 'SFT before the run' : trainer.toUpperCase();
    const who = `${names} ${trainer === undefined ? 'need' : 'needs'}`;
    super(
      `This dataset is in TRL's unpaired format (prompt, completion, label), which only KTO trains on: ${who} pairs ` +
        '(prompt, chosen, rejected). Choose the KTO trainer (--trainer kto), or load a paired dataset.',
    );
    this.params = { who: trainer === undefined ? 'DPO, CPO, ORPO' : trainer.toUpperCase() };
  }
}

/** True when the records are unpaired: the first record with "completion" and "label" comes before any with chosen/rejected. */
export function isUnpairedRecords(records: readonly RawRecord[]): boolean {
  for (const r of records) {
    if (!isObject(r.value)) continue;
    const v = r.value;
    if (present(v.chosen) && present(v.rejected)) return false;
    if (present(v.completion) && 'label' in v) return true;
  }
  return false;
}

const kindOf = (v: unknown) => (Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'string' ? `the text ${JSON.stringify(v.slice(0, 20))}` : `${typeof v} ${JSON.stringify(v)?.slice(0, 20)}`);

export interface UnpairedSet {
  format: UnpairedFormat;
  examples: UnpairedPreference[];
  report: ValidationReport;
}

/**
 * Validates unpaired records. Skipped: invalid JSON, not an object, a missing prompt / completion / label,
 * a prompt or completion of the wrong kind, a label that is not true or false (TRL would sum it as a class
 * count and index batches with it), an empty completion. Throws DatasetError when nothing survives.
 */
export function unpairedFromRecords(
  records: readonly RawRecord[],
  opts: { fileKind?: ValidationReport['fileKind']; gzipped?: boolean; maxSkippedListed?: number } = {},
): UnpairedSet {
  const log = new SkipLog(opts.maxSkippedListed);
  const skip = log.skip.bind(log);
  const first = records.find((r) => isObject(r.value) && present(r.value.completion) && 'label' in r.value)?.value as Record<string, unknown> | undefined;
  if (!first) throw new DatasetError('No record of the file has "completion" and "label" columns, so it is not in TRL\'s unpaired format.', 'dataset.not-unpaired');
  const conversational = looksConversational(first.completion) || looksConversational(first.prompt);
  const format: UnpairedFormat = conversational ? 'unpaired-conversational' : 'unpaired';
  const examples: UnpairedPreference[] = [];
  let desirable = 0;
  for (const r of records) {
    const v = recordColumns(r, log, ['prompt', 'completion', 'label'], '"prompt", "completion" and "label"');
    if (!v) continue;
    if (typeof v.label !== 'boolean') {
      skip(r, 'bad-label', { text: `"label" is ${kindOf(v.label)}, but it must be true (desirable) or false (undesirable)`, code: 'bad-label', params: { kind: kindName(v.label), value: JSON.stringify(v.label)?.slice(0, 20) ?? String(v.label) } });
      continue;
    }
    if (conversational) {
      const problem = messagesProblem(v, ['prompt', 'completion']);
      if (problem) {
        skip(r, 'wrong-type', problem);
        continue;
      }
      if ((v.completion as Message[]).length === 0) {
        skip(r, 'empty', { text: '"completion" has no messages', code: 'empty.messages', params: { column: 'completion' } });
        continue;
      }
      examples.push({ kind: 'conversational', row: r.row, line: r.line, prompt: v.prompt as Message[], completion: v.completion as Message[], label: v.label });
    } else {
      const problem = textProblem(v, ['prompt', 'completion']);
      if (problem) {
        skip(r, 'wrong-type', problem);
        continue;
      }
      if ((v.completion as string).trim() === '') {
        skip(r, 'empty', { text: '"completion" is empty', code: 'empty.text', params: { column: 'completion' } });
        continue;
      }
      examples.push({ kind: 'standard', row: r.row, line: r.line, prompt: v.prompt as string, completion: v.completion as string, label: v.label });
    }
    if (v.label) desirable++;
  }
  const report: ValidationReport = {
    format,
    fileKind: opts.fileKind ?? 'jsonl',
    gzipped: opts.gzipped ?? false,
    totalRows: records.length,
    kept: examples.length,
    skippedCount: log.skippedCount,
    counts: log.counts,
    skipped: log.skipped,
    columns: Object.keys(first),
    labels: { desirable, undesirable: examples.length - desirable },
  };
  if (examples.length === 0) {
    throw new DatasetError(`No usable example in the file: all ${records.length} records were skipped (most often: ${log.mostOften()}).`, 'dataset.no-usable-examples', {
      records: records.length,
      reason: log.topReason(),
    });
  }
  return { format, examples, report };
}
