// Records the metric history of a run of the shipped demo (public/demo/) with the page's settings (the
// manifest's recommended arguments, the first 64 eval pairs, evaluation every eval_steps), so tests of
// the live diagnosis (test/diagnosis.test.ts) can read a real run that is too slow to train in CI.
//
//   npx tsx --import ./scripts/register-raw.mjs scripts/demo/record-run.ts --out test/fixtures/diagnosis/demo-default.json
//        [--learning_rate 0.05] [--max_steps 20] [--eval_steps 5] [--per_device_train_batch_size 16] [--train_pairs 32]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_DIR, loadDemoModel, RECOMMENDED } from './build-demo';
import { loadPreferenceDataset } from '../../src/data/index';
import { DpoTrainer, type LogRecord, type PairRecord, type TrainerArgs } from '../../src/dpo/trainer';
import { tokenizeDataset } from '../../src/dpo/tokenize';
import { Gpu } from '../../src/gpu/context';
import { loadTokenizer } from '../../src/model/tokenizer';

const NUMERIC = ['learning_rate', 'max_steps', 'eval_steps', 'per_device_train_batch_size', 'beta', 'max_grad_norm', 'max_length'] as const;

async function main(): Promise<void> {
  const argv = process.argv;
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const out = opt('out');
  if (!out) throw new Error('--out <file.json> is required');
  const read = (f: string) => readFileSync(join(DEMO_DIR, f), 'utf8');
  const { frontier: _f, ...rec } = RECOMMENDED;
  const args: Partial<TrainerArgs> = { ...(rec as Partial<TrainerArgs>) };
  for (const k of NUMERIC) if (opt(k) !== undefined) (args as Record<string, number>)[k] = Number(opt(k));
  if (opt('loss_type')) args.loss_type = opt('loss_type') as TrainerArgs['loss_type'];
  const demo = loadDemoModel();
  const tok = loadTokenizer({ tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json') });
  const tk = async (f: string) => tokenizeDataset(tok, (await loadPreferenceDataset(new TextEncoder().encode(read(f)))).pairs, { maxLength: args.max_length ?? null }).examples;
  // --train_pairs N: train on the first N pairs only (repeated over epochs: the run can memorise them)
  const train = (await tk('pairs-train.jsonl')).slice(0, Number(opt('train_pairs') ?? Infinity));
  const evalPairs = (await tk('pairs-eval.jsonl')).slice(0, 64); // the page's default maxEval
  const gpu = await Gpu.create();
  const trainer = await DpoTrainer.create(gpu, { config: demo.cfg, policy: demo.weights, train, eval: evalPairs, padId: tok.padId, args });
  const history: LogRecord[] = [];
  const evalHistory: LogRecord[] = [];
  let pairs: PairRecord[] = [];
  const t0 = performance.now();
  await trainer.train({
    onLog: (r) => {
      history.push(r);
      console.log(`step ${r.step} loss ${r.loss.toFixed(4)} acc ${r['rewards/accuracies'].toFixed(3)} margin ${r['rewards/margins'].toFixed(3)} chosen ${r['rewards/chosen'].toFixed(3)} rejected ${r['rewards/rejected'].toFixed(3)} kl ${r['kl/token_mean_exact']?.toFixed(4)} grad ${r.grad_norm.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    },
    onEval: (m, p) => {
      evalHistory.push(m);
      pairs = p;
      console.log(`eval step ${m.step}: loss ${m.eval_loss.toFixed(4)} acc ${m['eval_rewards/accuracies'].toFixed(3)} margin ${m['eval_rewards/margins'].toFixed(3)}`);
    },
  });
  if (trainer.args.eval_steps <= 0 || trainer.step % trainer.args.eval_steps !== 0) await trainer.evaluate({ onEval: (m, p) => (evalHistory.push(m), (pairs = p)) });
  // the numbers only: per-token arrays are left out of the fixture
  const slim = pairs.map(({ index, policyChosen, policyRejected, referenceChosen, referenceRejected, rewardChosen, rewardRejected, margin, weight }) => ({ index, policyChosen, policyRejected, referenceChosen, referenceRejected, rewardChosen, rewardRejected, margin, weight }));
  writeFileSync(out, `${JSON.stringify({ recorded: 'scripts/demo/record-run.ts', adapter: gpu.info.adapterName, args: trainer.args, history, evalHistory, pairs: slim })}\n`);
  console.log(`wrote ${out}: ${history.length} steps, ${evalHistory.length} evals in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
