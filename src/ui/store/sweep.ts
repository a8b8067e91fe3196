// The built-in demo's beta sweep: one short run per beta, their reward-vs-KL curves on one chart.
import { stop, train } from './run-control';
import { get, patch } from './state';

/** Parses "0.05, 0.1, 0.3, 1" into betas, or returns a sentence saying what is wrong. */
export function parseBetas(text: string): number[] | string {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0) return 'List at least one beta, e.g. 0.05, 0.1, 0.3, 1.';
  if (parts.length > 8) return `A sweep runs at most 8 betas one after another (got ${parts.length}).`;
  const out: number[] = [];
  for (const p of parts) {
    const b = Number(p);
    if (!(Number.isFinite(b) && b > 0)) return `Each beta must be a positive number; "${p}" is not.`;
    out.push(b);
  }
  return out;
}

/**
 * Trains one short run per beta, one after another, with the demo's other settings; each run's
 * frontier points land on the same chart. Stop ends the sweep after the current run.
 */
export async function betaSweep(betas: number[], stepsPerRun: number): Promise<void> {
  const s0 = get();
  const phase = s0.run.phase;
  if (phase === 'training' || phase === 'pausing' || phase === 'starting' || s0.sweep?.active) {
    patch({ statusLine: 'Pause or stop the current run before starting a sweep.' });
    return;
  }
  if (!(Number.isInteger(stepsPerRun) && stepsPerRun >= 1)) {
    patch({ statusLine: `Steps per sweep run must be a positive whole number (got ${stepsPerRun}).` });
    return;
  }
  const saved = s0.args;
  patch({ sweep: { betas, stepsPerRun, index: 0, active: true, cancelled: false } });
  try {
    for (let i = 0; i < betas.length; i++) {
      if (get().sweep?.cancelled) break;
      patch((s) => ({ sweep: s.sweep && { ...s.sweep, index: i }, args: { ...saved, beta: betas[i], max_steps: stepsPerRun } }));
      await train();
      if (get().run.phase !== 'finished') break;
    }
  } finally {
    patch((s) => ({ args: saved, sweep: s.sweep && { ...s.sweep, active: false } }));
  }
}

export function cancelSweep(): void {
  patch((s) => ({ sweep: s.sweep && { ...s.sweep, cancelled: true } }));
  stop();
}

export function clearFrontier(): void {
  patch({ frontierRuns: [] });
}
