// What the trainer takes and gives: its inputs (TrainerInit), the records it logs and evaluates, its events.
import type { ModelConfig } from '../model/config';
import type { Metrics } from './metrics';
import type { TokenizedPair } from './tokenize';
import type { PairTokens } from './token-moves';
import type { TrainerArgs } from './trainer-args';

export interface LogRecord extends Metrics {
  step: number;
  epoch: number;
}

export interface PairRecord {
  index: number;
  policyChosen: number;
  policyRejected: number;
  referenceChosen: number;
  referenceRejected: number;
  rewardChosen: number;
  rewardRejected: number;
  margin: number;
  /** The weight the run's loss gives this pair's margin (sigma(r_l - r_w) for sigmoid; metrics.ts gradientWeights). */
  weight: number;
  /** Per completion token log-probs of policy and reference (the page's "which tokens moved"). */
  tokens?: PairTokens;
}

export interface TrainerEvents {
  onLog?(r: LogRecord): void;
  onEval?(r: LogRecord, pairs: PairRecord[]): void;
  onStatus?(message: string): void;
}

export interface TrainerInit {
  config: ModelConfig;
  /** Hugging Face tensors of the starting policy. */
  policy: Map<string, Float32Array>;
  /** Reference weights; the starting policy when absent (TRL's default). */
  reference?: Map<string, Float32Array>;
  train: TokenizedPair[];
  eval?: TokenizedPair[];
  padId: number;
  args?: Partial<TrainerArgs>;
  /** Asked between chunks of the reference precompute (a pause or stop pressed while starting): true stops create(). */
  interrupted?: () => boolean;
}

/** Where a run is: the step, the epoch and the position in its order, the RNG (all in a saved state). */
export interface Progress {
  step: number;
  epoch: number;
  /** Position (in micro-batches) inside the current epoch's order. */
  cursor: number;
  order: number[];
  rngState: number;
  /** TRL's num_tokens: attended (non-padding) tokens of every training batch so far. */
  numTokens?: number;
}
