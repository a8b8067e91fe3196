// The training worker's side of the demo's reward-vs-KL frontier: builds a FrontierProbe
// (src/demo/frontier.ts: CPU float64 sampler with a KV cache, exact sequence KL) for the run's
// reference and turns its measurements into protocol messages. The probe's reference samples are
// cached, so the runs of a beta sweep (same model, same prompts) sample the reference only once.
import { DemoVocab, FrontierProbe, type FrontierPoint } from '../demo/frontier';
import type { DpoTrainer } from '../dpo/trainer';
import { GpuFaultError } from '../gpu/context';
import type { ModelConfig } from '../model/config';
import type { LoadedModel } from './loading';
import type { FrontierMeasurement, FrontierSpec, WorkerEvent } from './protocol';

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

/** The probe of the current run: asked for at start, built when its DPO trainer is, measured between steps. */
export class RunFrontier {
  private spec: FrontierSpec | null = null;
  private current: { probe: FrontierProbe; spec: FrontierSpec; lastStep: number } | null = null;
  private readonly probes = new FrontierProbes();

  constructor(private readonly emit: (e: WorkerEvent) => void) {}

  /** A new run: measured when `spec` is given, not at all otherwise. */
  begin(spec: FrontierSpec | null): void {
    this.spec = spec;
    this.current = null;
  }

  clear(): void {
    this.begin(null);
    this.probes.clear();
  }

  /** Builds the probe once the run's DPO trainer exists; its reference is the model DPO starts from (the loaded one, or the SFT result). */
  attach(m: LoadedModel, referenceWeights: Map<string, Float32Array>): void {
    if (!this.spec || this.current) return;
    try {
      const tokJson = new TextDecoder().decode(m.extra.get('tokenizer.json')!);
      this.current = { probe: this.probes.get(m.ck.config, referenceWeights, tokJson, this.spec), spec: this.spec, lastStep: -1 };
    } catch (e) {
      this.spec = null;
      this.emit({ type: 'status', message: `The reward-vs-KL frontier is off for this run: ${(e as Error).message}` });
    }
  }

  dueAt(step: number): boolean {
    return this.current !== null && step % this.current.spec.everySteps === 0;
  }

  /** Measures the policy on the held-out prompts (CPU, between two steps) unless this step already was. */
  async measure(t: DpoTrainer | null): Promise<void> {
    const f = this.current;
    if (!f || !t || f.lastStep === t.step) return;
    const t0 = performance.now();
    try {
      const point = f.probe.measure(await t.policyWeights());
      f.lastStep = t.step;
      this.emit({ type: 'frontier', point: toMeasurement(t.step, point, performance.now() - t0) });
    } catch (e) {
      if (e instanceof GpuFaultError) throw e;
      this.current = null;
      this.emit({ type: 'status', message: `The reward-vs-KL frontier stopped: ${(e as Error).message}` });
    }
  }
}
