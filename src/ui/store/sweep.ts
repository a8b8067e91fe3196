// The built-in demo's sweeps: one short run per beta, or one per loss type at the same beta (compare
// methods), their reward-vs-KL curves on one chart.
import { DPO_LOSS_KINDS } from '../../gpu/reference/dpo_loss';
import type { TrainerArgs } from '../../dpo/trainer';
import { t } from '../i18n';
import { stop, train } from './run-control';
import { get, patch, say } from './state';

/** What each run of the current sweep changes, for its status line ("beta 0.1", "loss_type ipo"). */
let labels: string[] = [];
export function sweepLabel(index: number): string {
  return labels[index] ?? '';
}

/**
 * The trainers beside DPO a method sweep can place on the frontier, by name: SimPO (CPO's simpo loss with
 * cpo_alpha 0, as its paper), CPO, ORPO and KTO, each with TRL's defaults and the sweep's beta.
 */
export const SWEEP_METHODS: Record<string, Partial<TrainerArgs>> = {
  simpo: { trainer: 'cpo', loss_type: 'simpo', cpo_alpha: 0 },
  cpo: { trainer: 'cpo', loss_type: 'sigmoid' },
  orpo: { trainer: 'orpo', loss_type: 'sigmoid' },
  kto: { trainer: 'kto', loss_type: 'sigmoid' },
};

/** A sweep entry's run: a method by name (SWEEP_METHODS), else DPO with that loss_type list. */
export function sweepRunArgs(entry: string): Partial<TrainerArgs> {
  return SWEEP_METHODS[entry] ?? { trainer: 'dpo', loss_type: entry };
}

/**
 * Parses "sigmoid, ipo, simpo, orpo, kto" into TRL loss types (each may be a "+"-joined list, e.g.
 * sigmoid+sft) or the names of the trainers beside DPO (SWEEP_METHODS), or a sentence.
 */
export function parseLossTypes(text: string): string[] | string {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0) return t('sweep.noLossTypes');
  if (parts.length > 8) return t('sweep.tooManyLossTypes', { n: parts.length });
  for (const p of parts) {
    if (p in SWEEP_METHODS) continue;
    for (const k of p.split('+')) {
      if (!(DPO_LOSS_KINDS as readonly string[]).includes(k)) return t('sweep.notLossType', { kind: k, kinds: DPO_LOSS_KINDS.join(', '), methods: Object.keys(SWEEP_METHODS).join(', ') });
    }
  }
  return parts.map((p) => p.split('+').join(','));
}

/** Parses "0.05, 0.1, 0.3, 1" into betas, or returns a sentence saying what is wrong. */
export function parseBetas(text: string): number[] | string {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0) return t('sweep.noBetas');
  if (parts.length > 8) return t('sweep.tooManyBetas', { n: parts.length });
  const out: number[] = [];
  for (const p of parts) {
    const b = Number(p);
    if (!(Number.isFinite(b) && b > 0)) return t('sweep.badBeta', { value: p });
    out.push(b);
  }
  return out;
}

/**
 * Trains one short run per beta, one after another, with the demo's other settings; each run's
 * frontier points land on the same chart. Stop ends the sweep after the current run.
 */
export async function betaSweep(betas: number[], stepsPerRun: number): Promise<void> {
  labels = betas.map((b) => `beta ${b}`);
  await sweep(betas.map((beta) => ({ beta })), stepsPerRun);
}

/** Compare methods: one short run per loss type, all at the current beta, on the same frontier chart. */
export async function lossSweep(lossTypes: string[], stepsPerRun: number): Promise<void> {
  labels = lossTypes.map((t) => (t in SWEEP_METHODS ? t === 'simpo' ? 'SimPO' : `trainer ${t}` : `loss_type ${t}`));
  // a list ("sigmoid,sft") weighs its terms 1 each, as TRL does without loss_weights
  await sweep(lossTypes.map((t) => ({ ...sweepRunArgs(t), loss_weights: null }) as Partial<TrainerArgs>), stepsPerRun);
}

async function sweep(runs: Partial<TrainerArgs>[], stepsPerRun: number): Promise<void> {
  const s0 = get();
  const phase = s0.run.phase;
  if (phase === 'training' || phase === 'pausing' || phase === 'starting' || s0.sweep?.active) {
    patch({ statusLine: say('sweep.busy') });
    return;
  }
  if (!(Number.isInteger(stepsPerRun) && stepsPerRun >= 1)) {
    patch({ statusLine: say('sweep.badSteps', { steps: stepsPerRun }) });
    return;
  }
  const saved = s0.args;
  const betas = runs.map((r) => r.beta ?? saved.beta);
  patch({ sweep: { betas, stepsPerRun, index: 0, active: true, cancelled: false } });
  try {
    for (let i = 0; i < runs.length; i++) {
      if (get().sweep?.cancelled) break;
      patch((s) => ({ sweep: s.sweep && { ...s.sweep, index: i }, args: { ...saved, ...runs[i], max_steps: stepsPerRun } }));
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
