// The run's trainers, built from what the session loaded and the run's saved state: the SFT trainer
// of a run that begins with SFT, and the DPO trainer (from the saved state's starting weights, then its
// bytes, so a paused, reloaded or faulted run goes on from its last saved step).
import { DpoTrainer, StartInterrupted, type TrainerArgs } from '../dpo/trainer';
import type { Gpu } from '../gpu/context';
import type { RunHost } from './run-loop';
import type { RunState } from './run-state';

export async function buildSftTrainer(gpu: Gpu, host: RunHost, args: TrainerArgs, sftSteps: number): Promise<DpoTrainer> {
  const m = host.model();
  const { train, eval: evalSet } = host.tokenize(args.max_length, args.truncation_mode);
  return DpoTrainer.create(gpu, { config: m.ck.config, train, eval: evalSet, padId: m.tok.padId, policy: m.ck.tensors, args: { ...args, mode: 'sft', max_steps: sftSteps, eval_steps: 0 } });
}

/** The DPO trainer of the saved state; null when `interrupted` said so while it was starting (the loop sees the pause or stop next). */
export async function buildDpoTrainer(gpu: Gpu, host: RunHost, state: RunState, args: TrainerArgs, interrupted?: () => boolean): Promise<DpoTrainer | null> {
  const m = host.model();
  const snap = state.snapshot!;
  const { train, eval: evalSet } = host.tokenize(args.max_length, args.truncation_mode);
  if (args.precompute_ref_log_probs && !args.reference_free) host.emit({ type: 'status', message: 'Computing the reference log-probs of every pair once...' });
  let t: DpoTrainer;
  try {
    t = await DpoTrainer.create(gpu, { config: m.ck.config, policy: state.dpoStart!, train, eval: evalSet, padId: m.tok.padId, args, interrupted });
  } catch (e) {
    if (e instanceof StartInterrupted) return null;
    throw e;
  }
  if (snap.state) {
    try {
      await t.loadState(snap.state);
    } catch (e) {
      t.release();
      throw e;
    }
    host.emit({ type: 'status', message: `Continuing the saved run from step ${t.step}.` });
  }
  return t;
}
