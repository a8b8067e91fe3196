// npm run train -- --model <hf-folder> --data <file> [--ref <hf-folder>] [--<trl_option> value ...]
//                  [--log <file.jsonl>] [--export <dir>] [--eval-fraction 0.1] [--save-state f] [--resume f]
//                  [--lora-r 16 --lora-alpha 32 --lora-target-modules all-linear|q_proj,v_proj] [--gradient_checkpointing]
//                  [--loss_type sigmoid,bco_pair,sft --loss_weights 0.8,0.2,1.0 --f_divergence_type js_divergence
//                   --use_weighting true --ld_alpha 0.5 --discopop_tau 0.05 --sync_ref_model true]  (TRL's names)
//                  [--trainer cpo --loss_type simpo --simpo_gamma 0.5 --cpo_alpha 0 | --trainer orpo --beta 0.1 |
//                   --trainer kto --desirable_weight 1 --undesirable_weight 1]  (TRL 1.13's CPO, ORPO, KTO trainers)
//                  (KTO also reads TRL's unpaired format as it is: --data rows of {prompt, completion, label})
// Runs the playground's trainer in Node (SwiftShader or a real GPU), one JSON line per logged step.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPreferenceDataset, splitTrainEval, unpairedRecord, UnpairedDataError, type PreferencePair, type UnpairedPreference } from '../src/data/index';
import { ktoTrainRecords } from '../src/dpo/kto-data';
import { DpoTrainer, defaultTrainerArgs, type TrainerArgs } from '../src/dpo/trainer';
import { tokenizeDataset, tokenizeUnpairedDataset } from '../src/dpo/tokenize';
import { trainerOf } from '../src/dpo/preference-trainer';
import { trlScript } from '../src/dpo/trl-script';
import { Gpu } from '../src/gpu/context';
import { exportHfFolder } from '../src/model/export';
import { exportPeftAdapter } from '../src/model/lora';
import { loadTokenizer } from '../src/model/tokenizer';
import { loadCheckpoint, nodeFolderSource } from '../src/model/weights';

const OWN = ['model', 'data', 'ref', 'log', 'export', 'eval-fraction', 'save-state', 'resume', 'help', 'pause-after', 'lora-r', 'lora-alpha', 'lora-target-modules'];

// options whose default is None in TRL but take a number, and TRL's list-of-numbers options
const NULLABLE_NUMBERS = ['rpo_alpha', 'ld_alpha', 'precompute_ref_batch_size'];
const NUMBER_LISTS = ['loss_weights'];

function parseArgs(argv: string[]): { own: Record<string, string>; trainer: Partial<TrainerArgs> } {
  const own: Record<string, string> = {};
  const trainer: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const key = a.slice(2);
    const value = argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : 'true';
    if (OWN.includes(key) || OWN.includes(key.replace(/_/g, '-'))) {
      own[key.replace(/_/g, '-')] = value;
      continue;
    }
    const name = key.replace(/-/g, '_') as keyof TrainerArgs;
    if (!(name in defaultTrainerArgs)) throw new Error(`unknown option --${key}; options: ${[...OWN, ...Object.keys(defaultTrainerArgs)].map((k) => `--${k}`).join(' ')}`);
    const def = defaultTrainerArgs[name];
    if (value === 'null' || value === 'None') trainer[name] = null;
    else if (typeof def === 'boolean') trainer[name] = value === 'true' || value === '1';
    else if (NUMBER_LISTS.includes(name)) {
      // TRL's list options, comma-separated: --loss_weights 0.8,0.2,1.0
      const xs = value.split(',').map(Number);
      if (!xs.every(Number.isFinite)) throw new Error(`--${key} needs comma-separated numbers, got '${value}'`);
      trainer[name] = xs;
    } else if (typeof def === 'number' || (def === null && NULLABLE_NUMBERS.includes(name))) {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`--${key} needs a number, got '${value}'`);
      trainer[name] = n;
    } else trainer[name] = value;
  }
  return { own, trainer: trainer as Partial<TrainerArgs> };
}

const readText = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);

async function main() {
  const { own, trainer } = parseArgs(process.argv.slice(2));
  if (own.help || !own.model || !own.data) {
    console.log('usage: npm run train -- --model <hf-folder> --data <file.jsonl|.json|.parquet[.gz]> [--ref <hf-folder>] [--log out.jsonl] [--export dir] [--<trl option> value ...]');
    process.exit(own.help ? 0 : 2);
  }
  const t0 = performance.now();
  const gpu = await Gpu.create();
  console.error(`adapter: ${gpu.info.adapterName}`);
  const ck = await loadCheckpoint(nodeFolderSource(own.model));
  const ref = own.ref ? await loadCheckpoint(nodeFolderSource(own.ref)) : undefined;
  const tokJson = readText(join(own.model, 'tokenizer.json'));
  if (!tokJson) throw new Error(`${own.model} has no tokenizer.json`);
  const tok = loadTokenizer({ tokenizerJson: tokJson, tokenizerConfig: readText(join(own.model, 'tokenizer_config.json')), chatTemplate: readText(join(own.model, 'chat_template.jinja')) });
  // TRL's unpaired format (prompt, completion, label) is read as it is; only KTO trains on it
  const ds = await loadPreferenceDataset(readFileSync(own.data), { allowUnpaired: true });
  const args = { ...defaultTrainerArgs, ...trainer };
  if (ds.unpaired && !(trainerOf(args) === 'kto' && args.mode === 'dpo')) throw new UnpairedDataError(args.mode === 'sft' ? 'sft' : trainerOf(args));
  if (own['lora-r'] !== undefined) {
    // PEFT's LoraConfig(r, lora_alpha, target_modules); validated (with a sentence) by the trainer
    const r = Number(own['lora-r']);
    const tm = own['lora-target-modules'] ?? 'all-linear';
    args.lora = { r, lora_alpha: own['lora-alpha'] !== undefined ? Number(own['lora-alpha']) : 2 * r, target_modules: tm === 'all-linear' ? tm : tm.split(',') };
  } else if (own['lora-alpha'] !== undefined || own['lora-target-modules'] !== undefined) throw new Error('--lora-alpha and --lora-target-modules need --lora-r');
  const splitOpts = { evalFraction: own['eval-fraction'] !== undefined ? Number(own['eval-fraction']) : 0, seed: args.seed };
  const opts = { maxLength: args.max_length, truncationMode: args.truncation_mode };
  let train;
  let evalSet;
  let trainRecords: readonly (PreferencePair | UnpairedPreference)[];
  if (ds.unpaired) {
    const split = splitTrainEval(ds.unpaired, splitOpts);
    trainRecords = split.train;
    train = tokenizeUnpairedDataset(tok, split.train, opts);
    evalSet = tokenizeUnpairedDataset(tok, split.eval, opts);
  } else {
    const split = splitTrainEval(ds.pairs, splitOpts);
    trainRecords = split.train;
    train = tokenizeDataset(tok, split.train, opts);
    evalSet = tokenizeDataset(tok, split.eval, opts);
  }
  const classes = ds.report.labels ? ` (${ds.report.labels.desirable} desirable, ${ds.report.labels.undesirable} undesirable)` : '';
  console.error(
    `model: ${ck.config.modelType} ${ck.config.layers}x${ck.config.hidden}, vocab ${ck.config.vocabSize}; data: ${ds.format}, ${ds.report.kept} ${ds.unpaired ? 'examples' : 'pairs'} kept${classes}, ${ds.report.skippedCount} skipped; train ${train.examples.length}, eval ${evalSet.examples.length}`,
  );
  const trainerObj = await DpoTrainer.create(gpu, {
    config: ck.config,
    policy: ck.tensors,
    reference: ref?.tensors,
    train: train.examples,
    eval: evalSet.examples,
    padId: tok.padId,
    args,
  });
  if (own.resume) await trainerObj.loadState(readFileSync(own.resume));
  if (own.log && !own.resume) writeFileSync(own.log, '');
  console.error(`training ${trainerObj.totalSteps} steps (setup ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  let last = performance.now();
  const pauseAfter = own['pause-after'] ? Number(own['pause-after']) : Infinity;
  const finished = await trainerObj.train({
    onLog: (r) => {
      const now = performance.now();
      const line = JSON.stringify(r);
      if (own.log) appendFileSync(own.log, `${line}\n`);
      const f = (k: string) => (r[k] === undefined ? '' : ` ${k} ${Number(r[k]).toPrecision(4)}`);
      console.log(`step ${r.step}${f('loss')}${f('rewards/margins')}${f('rewards/accuracies')}${f('kl/token_mean_exact')}${f('kl')}${f('nll_loss')}${f('grad_norm')}${f('learning_rate')} (${((now - last) / 1000).toFixed(2)} s)`);
      last = now;
      if (r.step >= pauseAfter) trainerObj.requestPause();
    },
    onEval: (r) => {
      if (own.log) appendFileSync(own.log, `${JSON.stringify(r)}\n`);
      console.log(`eval step ${r.step}: ${JSON.stringify(r)}`);
    },
    onStatus: (m) => console.error(m),
  });
  if (own['save-state']) writeFileSync(own['save-state'], await trainerObj.saveState());
  if (own.export && finished) {
    const extra = new Map<string, Uint8Array>();
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'generation_config.json']) {
      if (existsSync(join(own.model, f))) extra.set(f, readFileSync(join(own.model, f)));
    }
    const files = exportHfFolder(ck.config, await trainerObj.policyWeights(), { extraFiles: extra });
    mkdirSync(own.export, { recursive: true });
    for (const [name, bytes] of files) writeFileSync(join(own.export, name), bytes);
    // a KTO run that shuffled its examples: TRL gets them in the order this run trained them (its sampler is sequential)
    const ktoOrder = args.shuffle ? trainerObj.ktoOrder : null;
    let dataFile = resolve(own.data);
    if (ktoOrder) {
      dataFile = join(resolve(own.export), 'train_kto_order.jsonl');
      writeFileSync(dataFile, ktoTrainRecords(ktoOrder, trainRecords, unpairedRecord).map((r) => JSON.stringify(r)).join('\n') + '\n');
    }
    writeFileSync(join(own.export, 'train_trl.py'), trlScript(args, { model: resolve(own.model), dataFile, ref: own.ref ? resolve(own.ref) : undefined }));
    if (args.lora) {
      const adapter = exportPeftAdapter(ck.config, args.lora, await trainerObj.adapterWeights(), resolve(own.model));
      mkdirSync(join(own.export, 'adapter'), { recursive: true });
      for (const [name, bytes] of adapter) writeFileSync(join(own.export, 'adapter', name), bytes);
    }
    console.error(`exported ${[...files.keys()].join(', ')}, train_trl.py${args.lora ? ' (merged weights) and adapter/ (PEFT)' : ''} to ${own.export}`);
  }
  console.error(`${finished ? 'done' : 'paused'} at step ${trainerObj.step} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // exit only once the GPU is idle and Dawn's callbacks have run: exiting with work in flight
  // sometimes crashed dawn.node's teardown after a finished run (seen as a failed CLI in the parity tests)
  await gpu.sync();
  await new Promise((r) => setTimeout(r, 50));
  process.exit(0);
}

main().catch((e) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  process.exit(1);
});
