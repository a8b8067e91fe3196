// Shared types of the dataset layer.

/** A chat message as TRL's conversational format holds it; extra keys (name, tool_calls...) pass through to the template. */
export interface Message {
  role: string;
  content: string;
  [key: string]: unknown;
}

/**
 * How the file holds its pairs (TRL's vocabulary):
 * - standard: {prompt, chosen, rejected} strings
 * - conversational: {prompt, chosen, rejected} lists of {role, content}
 * - implicit: only chosen/rejected strings holding prompt + answer (HH-RLHF); the prompt is extracted
 * - implicit-conversational: only chosen/rejected conversations; the shared leading turns are the prompt
 */
export type DatasetFormat = 'standard' | 'conversational' | 'implicit' | 'implicit-conversational' | UnpairedFormat;

/**
 * TRL's unpaired preference format (what KTOTrainer takes as it is): {prompt, completion, label} with label a
 * boolean (true = desirable). 'unpaired' holds text, 'unpaired-conversational' lists of {role, content}.
 */
export type UnpairedFormat = 'unpaired' | 'unpaired-conversational';

export interface PairSource {
  /** 1-based record index in the file. */
  row: number;
  /** 1-based line number (JSONL only). */
  line?: number;
}

export interface StandardPair extends PairSource {
  kind: 'standard';
  prompt: string;
  chosen: string;
  rejected: string;
}

export interface ConversationalPair extends PairSource {
  kind: 'conversational';
  prompt: Message[];
  chosen: Message[];
  rejected: Message[];
}

/** One preference pair after prompt extraction: what TRL's DPOTrainer tokenizes. */
export type PreferencePair = StandardPair | ConversationalPair;

export interface StandardUnpaired extends PairSource {
  kind: 'standard';
  prompt: string;
  completion: string;
  /** true: a desirable completion; false: an undesirable one. */
  label: boolean;
}

export interface ConversationalUnpaired extends PairSource {
  kind: 'conversational';
  prompt: Message[];
  completion: Message[];
  label: boolean;
}

/** One example of TRL's unpaired format: what KTOTrainer tokenizes. */
export type UnpairedPreference = StandardUnpaired | ConversationalUnpaired;

export type SkipReason =
  | 'invalid-json' // a JSONL line that does not parse
  | 'not-an-object' // a record that is not a {column: value} object
  | 'missing-column' // no prompt / chosen / rejected where the format needs one
  | 'wrong-type' // e.g. a number where text is expected, or a string where messages are expected
  | 'empty' // chosen or rejected empty (or whitespace only)
  | 'identical' // chosen identical to rejected: no preference to learn
  | 'bad-label' // unpaired format: "label" is not a boolean (true = desirable, false = undesirable)
  | 'too-long'; // the prompt alone fills max_length (TRL drops these under keep_start)

/** A skipped row's numbers and names (columns, value kinds, token counts) for the page's sentence. */
export type SkipParams = Record<string, string | number>;

export interface SkippedRow extends PairSource {
  reason: SkipReason;
  /** One sentence, e.g. 'line 7: not valid JSON (Unexpected token...)' (English: tests and the CLI print it). */
  message: string;
  /** The page's code for the sentence without its place (skip.<code>, e.g. 'missing-column', 'wrong-type.text'). */
  code: string;
  /** The code's params (columns, kinds, counts); the place is the row's own `line` / `row`. */
  params: SkipParams;
}

export interface ValidationReport {
  format: DatasetFormat;
  fileKind: 'jsonl' | 'json' | 'parquet';
  gzipped: boolean;
  /** Records in the file (valid or not). */
  totalRows: number;
  kept: number;
  skippedCount: number;
  /** Skipped rows by reason (all of them). */
  counts: Record<SkipReason, number>;
  /** The first `maxSkippedListed` skipped rows with their reasons (the counts cover all). */
  skipped: SkippedRow[];
  /** Column names of the first record that has chosen and rejected (unpaired: completion and label). */
  columns: string[];
  /** Unpaired format only: kept examples by label (KTO's desirable / undesirable classes). */
  labels?: { desirable: number; undesirable: number };
}
