// The live diagnosis's data: what a rule found (rule id, severity, evidence as codes with their numbers,
// what to try as codes), and what the rules read (metric history, trainer arguments, dataset facts). No
// sentences here: the page says each code in its language (src/ui/explain/diagnosis-text.ts).
import type { LogRecord } from './trainer';
import type { EvidenceCode, TryCode } from './diagnosis-codes';

/** The charts a piece of evidence points at (Charts.tsx ids, plus the dataset panel and the demo's frontier). */
export type ChartId = 'loss' | 'rewards' | 'margins' | 'accuracies' | 'logps' | 'kl' | 'optim' | 'dataset' | 'frontier';

export const RULE_IDS = [
  'non-finite',
  'no-learning',
  'reference-mismatch',
  'over-optimisation',
  'likelihood-displacement',
  'length-shortcut',
  'truncation',
  'pairs-dropped',
  'always-clipped',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/**
 * alarm: the run is wasting its time or its numbers are wrong; warning: it works but is drifting into a
 * known trap; note: a known DPO behaviour is showing that is not by itself a fault (the page explains it).
 */
export type Severity = 'alarm' | 'warning' | 'note';

/** A code's numbers and names (kinds in diagnosis-codes.ts: metric values, counts, shares, TRL names). */
export type Params = Readonly<Record<string, number | string>>;

export interface Evidence {
  chart: ChartId;
  /** First and last step the evidence covers (null for dataset facts). */
  steps: [number, number] | null;
  /** What the numbers show (EVIDENCE_PARAMS in diagnosis-codes.ts lists each code's params). */
  code: EvidenceCode;
  params: Params;
}

/** One thing to try (TRY_PARAMS in diagnosis-codes.ts). */
export interface TryItem {
  code: TryCode;
  params: Params;
}

/** A finding: its title and why are the rule's own (said by rule id); evidence and what to try are codes. */
export interface Diagnosis {
  rule: RuleId;
  severity: Severity;
  evidence: Evidence[];
  tryThis: TryItem[];
}

/** Token lengths of the training pairs (before truncation), as tokenized for the run. */
export interface DatasetLengths {
  prompt: ArrayLike<number>;
  chosen: ArrayLike<number>;
  rejected: ArrayLike<number>;
}

/** What the dataset rules read: counts from the loader and shares computed from the token lengths. */
export interface DatasetFacts {
  /** Records in the file(s). */
  totalRows: number;
  /** Records dropped by the loader (invalid, empty, identical) plus pairs dropped by tokenization (prompt fills max_length). */
  dropped: number;
  droppedTooLong: number;
  /** Training pairs the lengths cover. */
  pairs: number;
  /** Share of pairs whose chosen completion has more tokens than the rejected one. */
  chosenLonger: number;
  meanChosen: number;
  meanRejected: number;
  /** Share of completions (chosen and rejected) that max_length cuts. */
  truncated: number;
  /** Share of pairs where both completions are cut. */
  bothTruncated: number;
  maxLength: number | null;
}

/** One measurement of sampled completion lengths (mean words or tokens), policy against reference. */
export interface SampleLengths {
  step: number;
  policy: number;
  reference: number;
}

/** The trainer arguments the rules read (TRL's names; loss_type may be a comma-separated list with loss_weights). */
export interface DiagnosisArgs {
  beta: number;
  loss_type: string;
  loss_weights?: readonly number[] | null;
  label_smoothing: number;
  max_grad_norm: number;
  learning_rate: number;
  reference_free: boolean;
  logging_steps: number;
}

export interface DiagnosisInput {
  history: readonly LogRecord[];
  evalHistory: readonly LogRecord[];
  args: DiagnosisArgs;
  dataset?: DatasetFacts | null;
  /** Samples of the policy and the reference on the same prompts over the run (the demo's frontier probe). */
  samples?: readonly SampleLengths[];
  /** The run stopped with an error (e.g. the trainer's NonFiniteGradientError sentence). */
  failure?: { message: string; step: number } | null;
}

/** A rule: its finding on this run, or null. l0 is the loss at h = 0 for the run's loss type(s). */
export type Rule = (inp: DiagnosisInput, l0: number) => Diagnosis | null;
