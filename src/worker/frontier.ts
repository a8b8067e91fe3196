// The training worker's side of the demo's reward-vs-KL frontier: builds a FrontierProbe
// (src/demo/frontier.ts: CPU float64 sampler with a KV cache, exact sequence KL) for the run's
// reference and turns its measurements into protocol messages. The probe's reference samples are
// cached, so the runs of a beta sweep (same model, same prompts) sample the reference only once.
import { DemoVocab, FrontierProbe, type FrontierPoint } from '../demo/frontier';
import type { ModelConfig } from '../model/config';
import type { FrontierMeasurement, FrontierSpec } from './protocol';

/** Samples sent to the page with each measurement (the page shows a few side by side). */
export const FRONTIER_SAMPLES_SENT = 6;

export class FrontierSpecError extends Error {
  override name = 'FrontierSpecError';
}

export function checkFrontierSpec(s: FrontierSpec): void {
  if (!Array.isArray(s.prompts) || s.prompts.length === 0) throw new FrontierSpecError('The reward-vs-KL frontier needs at least one held-out prompt.');
  if (!(Number.isInteger(s.everySteps) && s.everySteps >= 1)) throw new FrontierSpecError(`The frontier is measured every N steps with N a positive whole number, not ${s.everySteps}.`);
  if (!(Number.isInteger(s.maxNewTokens) && s.maxNewTokens >= 1)) throw new FrontierSpecError(`The frontier's samples need at least one new token (got ${s.maxNewTokens}).`);
}

const keyOf = (s: FrontierSpec) => JSON.stringify([s.prompts, s.samplesPerPrompt, s.maxNewTokens, s.temperature, s.seed]);

/** Probes of the demo model, reused while the reference weights (by identity) and settings stay the same. */
export class FrontierProbes {
  private cached: { weights: Map<string, Float32Array>; key: string; probe: FrontierProbe } | null = null;

  /** A probe whose reference is `referenceWeights`; throws DemoModelError when the model is not the demo's kind. */
  get(cfg: ModelConfig, referenceWeights: Map<string, Float32Array>, tokenizerJson: string, spec: FrontierSpec): FrontierProbe {
    checkFrontierSpec(spec);
    const key = keyOf(spec);
    if (this.cached && this.cached.weights === referenceWeights && this.cached.key === key) return this.cached.probe;
    const probe = new FrontierProbe(cfg, referenceWeights, DemoVocab.fromTokenizerJson(tokenizerJson), {
      prompts: spec.prompts,
      samplesPerPrompt: spec.samplesPerPrompt,
      maxNewTokens: spec.maxNewTokens,
      temperature: spec.temperature,
      seed: spec.seed,
    });
    this.cached = { weights: referenceWeights, key, probe };
    return probe;
  }

  clear(): void {
    this.cached = null;
  }
}

export function toMeasurement(step: number, p: FrontierPoint, ms: number): FrontierMeasurement {
  return { ...p, samples: p.samples.slice(0, FRONTIER_SAMPLES_SENT), step, ms };
}
