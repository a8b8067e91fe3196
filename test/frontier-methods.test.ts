// The demo's reward-vs-KL frontier with a SimPO, an ORPO and a KTO run beside DPO (issue 17): the built-in demo
// model and pairs, the page's worker session in Node, one short run per method with the demo's recommended
// settings (4 steps of 4 pairs and 3 probe prompts, to stay small for CI; 20 steps of 16 take ~16 min here). Every run gets its points (KL 0 at step 0,
// the same reference reward, KL > 0 at the end), and the table of points per method is printed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Session } from '../src/worker/session';
import type { FrontierMeasurement, FrontierSpec, WorkerEvent } from '../src/worker/protocol';
import { pageDefaultArgs } from '../src/ui/params';
import { sweepRunArgs } from '../src/ui/store/sweep';

const demo = join(__dirname, '..', 'public', 'demo');
const file = (p: string) => new File([readFileSync(join(demo, p))], p.split('/').pop()!);
const manifest = JSON.parse(readFileSync(join(demo, 'manifest.json'), 'utf8'));
const rec = manifest.recommended;
const prompts: string[] = JSON.parse(readFileSync(join(demo, 'prompts-heldout.json'), 'utf8'));
const STEPS = 4;
const spec: FrontierSpec = { prompts: prompts.slice(0, 3), everySteps: 2, samplesPerPrompt: 1, maxNewTokens: 12, temperature: rec.frontier.temperature, seed: rec.frontier.seed };
const args = {
  ...pageDefaultArgs,
  beta: rec.beta,
  learning_rate: rec.learning_rate,
  lr_scheduler_type: rec.lr_scheduler_type,
  per_device_train_batch_size: 4,
  max_grad_norm: rec.max_grad_norm,
  max_length: rec.max_length,
  seed: rec.seed,
  max_steps: STEPS,
  eval_steps: 0,
};
const METHODS = ['sigmoid', 'simpo', 'orpo', 'kto'];

const points = (events: WorkerEvent[]): FrontierMeasurement[] => events.filter((e): e is Extract<WorkerEvent, { type: 'frontier' }> => e.type === 'frontier').map((e) => e.point);

describe('demo frontier: SimPO, ORPO and KTO beside DPO', () => {
  it('each method places its points on the reward-vs-KL frontier', async () => {
    const events: WorkerEvent[] = [];
    const s = new Session((e) => events.push(e));
    await s.init();
    await s.loadModel({ kind: 'files', files: ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => file(`model/${f}`)) });
    await s.loadDataset({ kind: 'bytes', name: 'pairs-train.jsonl', bytes: new Uint8Array(readFileSync(join(demo, 'pairs-train.jsonl'))) }, { evalFraction: 0, seed: 1, maxEval: 0 }, 64);
    const rows: string[] = [];
    let ref: number | null = null;
    for (const m of METHODS) {
      events.length = 0;
      const r = await s.start({ args: { ...args, ...sweepRunArgs(m) }, sftSteps: 0, frontier: spec });
      expect(r.end, m).toBe('finished');
      const ps = points(events);
      expect(ps.map((p) => p.step), m).toEqual([0, 2, 4]);
      expect(ps[0].kl, m).toBe(0);
      ref ??= ps[0].referenceReward;
      for (const p of ps) expect(p.referenceReward, m).toBe(ref);
      expect(ps.at(-1)!.kl, m).toBeGreaterThan(0);
      for (const p of ps) rows.push(`${m.padEnd(8)} step ${String(p.step).padStart(3)}  reward ${p.reward.toFixed(4)}  KL ${p.kl.toFixed(4)} nats  (reference reward ${p.referenceReward.toFixed(4)})`);
    }
    console.log(`\ndemo frontier, one run per method (${STEPS} steps, beta ${args.beta}, lr ${args.learning_rate}, ${spec.prompts.length} prompts x ${spec.maxNewTokens} tokens):\n${rows.join('\n')}`);
  }, 1_200_000);
});
