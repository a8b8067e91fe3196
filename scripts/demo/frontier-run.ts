// Trains the shipped demo (public/demo/) with its recommended settings for each beta given and prints the
// reward-vs-KL frontier measured on the held-out prompts every `every_steps` steps (the numbers the page's
// frontier chart draws), plus reward accuracy and margins from the trainer's log.
//
//   npx tsx --import ./scripts/register-raw.mjs scripts/demo/frontier-run.ts [--betas 0.1,0.5] [--steps 60]
//        [--learning_rate 1e-3] [--prompts 32]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_DIR, loadDemoModel, RECOMMENDED } from './build-demo';
import { loadPreferenceDataset } from '../../src/data/index';
import { DemoVocab, FrontierProbe } from '../../src/demo/frontier';
import { DpoTrainer, type TrainerArgs } from '../../src/dpo/trainer';
import { tokenizeDataset } from '../../src/dpo/tokenize';
import { Gpu } from '../../src/gpu/context';
import { loadTokenizer } from '../../src/model/tokenizer';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
};

async function main(): Promise<void> {
  const read = (f: string) => readFileSync(join(DEMO_DIR, f), 'utf8');
  const betas = arg('betas', '0.1,1').split(',').map(Number);
  const steps = Number(arg('steps', String(RECOMMENDED.max_steps)));
  const lr = Number(arg('learning_rate', String(RECOMMENDED.learning_rate)));
  const F = RECOMMENDED.frontier;
  const every = Number(arg('every', String(F.every_steps)));
  const demo = loadDemoModel();
  const vocab = DemoVocab.fromTokenizerJson(read('tokenizer.json'));
  const tok = loadTokenizer({ tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json') });
  const ds = await loadPreferenceDataset(new TextEncoder().encode(read('pairs-train.jsonl')));
  const train = tokenizeDataset(tok, ds.pairs, { maxLength: RECOMMENDED.max_length }).examples;
  const heldOut = (JSON.parse(read('prompts-heldout.json')) as string[]).slice(0, Number(arg('prompts', String(F.prompts))));
  const probe = new FrontierProbe(demo.cfg, demo.weights, vocab, { prompts: heldOut, samplesPerPrompt: 1, maxNewTokens: F.max_new_tokens, temperature: F.temperature, seed: F.seed });
  const gpu = await Gpu.create();
  console.log(`adapter: ${gpu.info.adapterName}; ${train.length} pairs; ${heldOut.length} held-out prompts; lr ${lr}, ${steps} steps, batch ${RECOMMENDED.per_device_train_batch_size}`);
  console.log(`reference r* ${probe.referenceReward().toFixed(4)}`);
  for (const beta of betas) {
    const trainer = await DpoTrainer.create(gpu, {
      config: demo.cfg,
      policy: demo.weights,
      train,
      padId: tok.padId,
      args: { ...RECOMMENDED, beta, learning_rate: lr, max_steps: steps, logging_steps: every } as Partial<TrainerArgs>,
    });
    const t0 = performance.now();
    let log: Record<string, number> = {};
    for (;;) {
      // pause after every `every` steps, measure between two steps (as the page's worker does)
      const finished = await trainer.train({
        onLog: (r) => {
          log = r as unknown as Record<string, number>;
          if (r.step % every === 0 && r.step < steps) trainer.requestPause();
        },
      });
      const p = await probe.measureTrainer(trainer);
      const pos = p.samples.filter((s) => s.policyReward > s.referenceReward).length;
      console.log(`beta ${beta} step ${trainer.step}: loss ${log.loss.toFixed(4)} acc ${log['rewards/accuracies'].toFixed(3)} margin ${log['rewards/margins'].toFixed(3)} | r* ${p.reward.toFixed(4)} +- ${p.rewardStderr.toFixed(4)} KL ${p.kl.toFixed(2)} nats; ${pos}/${p.n} samples above the reference's (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      if (finished) break;
    }
    const last = await probe.measureTrainer(trainer);
    console.log(`beta ${beta} sample: ${last.samples[0].prompt} |${last.samples[0].policy}`);
    trainer.release();
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
