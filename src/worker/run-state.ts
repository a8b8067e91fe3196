// What the worker keeps of the current run to continue it after a GPU fault, without the page: the
// last saved state (DpoTrainer.saveState: the trained weights, AdamW moments, step, data order and RNG,
// precomputed reference log-probs), the metric history up to that step, and the weights the DPO phase
// starts from (the loaded model, or the SFT result, which is also the reference). It is taken at every
// pause, stop, finish, saveState request (the page autosaves) and every few minutes while training.
import { parseSafetensorsHeader } from '../model/safetensors';
import type { LogRecord } from '../dpo/trainer';
import type { StartOptions } from './protocol';

/** How often the run loop saves the state in memory while training (besides pauses, stops and requests). */
export const SNAPSHOT_EVERY_MS = 3 * 60_000;

export interface RunSnapshot {
  /** The DPO optimizer step of the state (0: the DPO phase's start, nothing trained yet). */
  step: number;
  /** DpoTrainer.saveState bytes; null at the DPO phase's start (rebuilt from `dpoStart`). */
  state: Uint8Array | null;
  /** The metric records up to `step` (the page drops any it got after it). */
  history: LogRecord[];
  /** performance.now() when it was taken. */
  takenAt: number;
}

/** The step a saved state was taken at (its trainer_state metadata), without loading it. */
export function stateStep(bytes: Uint8Array): number {
  const meta = JSON.parse(parseSafetensorsHeader(bytes).metadata.trainer_state ?? 'null');
  const step = meta?.progress?.step;
  return typeof step === 'number' ? step : 0;
}

export class RunState {
  /** What the run was started with (SFT steps, frontier, a state saved by an earlier page). */
  options: StartOptions | null = null;
  /** The weights the DPO phase starts from; null while SFT has not produced them yet. */
  dpoStart: Map<string, Float32Array> | null = null;
  /** Metric records of the DPO phase, in step order. */
  history: LogRecord[] = [];
  /** The last saved state; with SFT still running, null (continuing starts the run again). */
  snapshot: RunSnapshot | null = null;

  constructor(private readonly everyMs = SNAPSHOT_EVERY_MS) {}

  /** A new run: forgets the previous one. */
  begin(options: StartOptions, loaded: Map<string, Float32Array>): void {
    this.options = options;
    this.history = [];
    const sftFirst = options.sftSteps > 0 && !options.state;
    this.dpoStart = sftFirst ? null : loaded;
    this.snapshot = sftFirst ? null : { step: options.state ? stateStep(options.state) : 0, state: options.state ?? null, history: [], takenAt: performance.now() };
  }

  /** SFT is done: DPO starts from its weights, at step 0. */
  sftDone(weights: Map<string, Float32Array>): void {
    this.dpoStart = weights;
    this.history = [];
    this.record(0, null);
  }

  record(step: number, state: Uint8Array | null): RunSnapshot {
    this.snapshot = { step, state, history: this.history.filter((r) => r.step <= step), takenAt: performance.now() };
    return this.snapshot;
  }

  /** Back to the snapshot's step (after a fault): the records after it are dropped. */
  rewind(): void {
    if (this.snapshot) this.history = this.snapshot.history.slice();
  }

  /** True when the periodic in-memory save is due. */
  due(now = performance.now()): boolean {
    return this.snapshot !== null && now - this.snapshot.takenAt >= this.everyMs;
  }

  /** The step a continue goes on from: the snapshot's, 0 when SFT has to run again, null without a run. */
  get savedStep(): number | null {
    if (this.snapshot) return this.snapshot.step;
    return this.options ? 0 : null;
  }

  clear(): void {
    this.options = null;
    this.dpoStart = null;
    this.history = [];
    this.snapshot = null;
  }
}
