// Every DPOConfig loss type and loss option of TRL 1.13, judged step by step by the real DPOTrainer (CPU torch,
// fp32, eager, dropout off, batches in file order): ONE Python process runs every case of this file
// (scripts/py/trl_dpo.py --batch), our trainer runs the same cases in this process on the WebGPU engine, and
// every metric TRL logs (loss, grad_norm, learning_rate, entropy, num_tokens, mean_token_accuracy, logits/*,
// rewards/*, logps/*, epoch) must agree within 1e-3 relative at each of the 4+ steps. Tiny random Llama
// (scripts/py/make_tiny_model.py), 24 HH-RLHF pairs, batch 4, lr 1e-3 so that the policy moves. The cases
// TRL refuses are refused by us with TRL's sentence. A table of the worst relative difference per case is
// printed at the end (the closing note's numbers).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hhPairsFile, readJsonl, run, runOurTrain, runTrlBatch, tempDir, tinyModel, venvPython } from './helpers/python';
import { testGpu } from './helpers/gpu';
import { loadPreferenceDataset, splitTrainEval } from '../src/data/index';
import { DpoTrainer, defaultTrainerArgs, TrainerConfigError, validateArgs, type LogRecord, type TrainerArgs } from '../src/dpo/trainer';
import { tokenizeDataset } from '../src/dpo/tokenize';
import { loadTokenizer } from '../src/model/tokenizer';
import { loadCheckpoint, nodeFolderSource } from '../src/model/weights';

const REL = 1e-3;
const ABS = 1e-5; // values that are 0 in exact arithmetic (step 1's rewards) are compared absolutely
const STEPS = 4;
const PAIRS = 24;

type Opts = Partial<Record<keyof TrainerArgs, string | number | boolean | number[] | null>>;
const COMMON: Opts = {
  learning_rate: 1e-3,
  per_device_train_batch_size: 4,
  gradient_accumulation_steps: 1,
  max_steps: STEPS,
  lr_scheduler_type: 'linear',
  max_grad_norm: 1,
  max_length: 64,
  beta: 0.1,
  seed: 42,
};

interface Case {
  name: string;
  o: Opts;
  steps?: number;
}
// one case per loss type, then per option (and the MPO combination of TRL's docs)
const CASES: Case[] = [
  { name: 'sigmoid', o: { loss_type: 'sigmoid' } },
  { name: 'hinge', o: { loss_type: 'hinge' } },
  { name: 'ipo', o: { loss_type: 'ipo', beta: 0.5 } },
  { name: 'exo_pair', o: { loss_type: 'exo_pair', label_smoothing: 1e-3 } },
  { name: 'nca_pair', o: { loss_type: 'nca_pair' } },
  { name: 'robust', o: { loss_type: 'robust', label_smoothing: 0.1 } },
  { name: 'bco_pair', o: { loss_type: 'bco_pair' } },
  { name: 'sppo_hard', o: { loss_type: 'sppo_hard' } },
  { name: 'aot', o: { loss_type: 'aot', label_smoothing: 0.1 } },
  { name: 'aot_unpaired', o: { loss_type: 'aot_unpaired' } },
  { name: 'apo_zero', o: { loss_type: 'apo_zero' } },
  { name: 'apo_down', o: { loss_type: 'apo_down' } },
  { name: 'discopop', o: { loss_type: 'discopop' } },
  { name: 'sft', o: { loss_type: 'sft' } },
  { name: 'sigmoid_norm', o: { loss_type: 'sigmoid_norm' } },
  // MPO, with gradient accumulation (micro-batch means averaged as TRL logs them)
  { name: 'MPO sigmoid,bco_pair,sft 0.8,0.2,1.0 (accum 2)', o: { loss_type: 'sigmoid,bco_pair,sft', loss_weights: [0.8, 0.2, 1.0], per_device_train_batch_size: 2, gradient_accumulation_steps: 2 } },
  { name: 'f_divergence forward_kl', o: { loss_type: 'sigmoid', f_divergence_type: 'forward_kl' } },
  { name: 'f_divergence js_divergence', o: { loss_type: 'sigmoid', f_divergence_type: 'js_divergence' } },
  { name: 'f_divergence alpha_divergence 0.3', o: { loss_type: 'sigmoid', f_divergence_type: 'alpha_divergence', f_alpha_divergence_coef: 0.3 } },
  { name: 'use_weighting (WPO)', o: { loss_type: 'sigmoid', use_weighting: true } },
  { name: 'ld_alpha 0.5 (LD-DPO)', o: { loss_type: 'sigmoid', ld_alpha: 0.5 } },
  { name: 'discopop_tau 0.2', o: { loss_type: 'discopop', discopop_tau: 0.2 } },
  { name: 'sync_ref_model (TR-DPO) alpha 0.5 every 2', o: { loss_type: 'sigmoid', sync_ref_model: true, ref_model_mixup_alpha: 0.5, ref_model_sync_steps: 2 }, steps: 5 },
  { name: 'precompute_ref_log_probs, precompute_ref_batch_size 3', o: { loss_type: 'ipo', precompute_ref_log_probs: true, precompute_ref_batch_size: 3 } },
  { name: 'rpo_alpha 0.5 (= sigmoid,sft 1,0.5)', o: { loss_type: 'sigmoid', rpo_alpha: 0.5 } },
  { name: 'ipo+hinge+sigmoid_norm js_divergence, ld_alpha 0.3', o: { loss_type: 'ipo,hinge,sigmoid_norm', loss_weights: [1, 0.5, 2], f_divergence_type: 'js_divergence', ld_alpha: 0.3, beta: 0.3 } },
];
// what TRL refuses, with the sentence we refuse it with (the same)
const REFUSED: { name: string; o: Opts; ours: RegExp; trl: RegExp }[] = [
  {
    name: 'f_divergence with bco_pair',
    o: { loss_type: 'bco_pair', f_divergence_type: 'js_divergence' },
    ours: /`f_divergence_type='js_divergence'` is only supported for the following loss types: \['discopop', 'exo_pair', 'hinge', 'ipo', 'robust', 'sft', 'sigmoid', 'sigmoid_norm'\]\. You provided \['bco_pair'\]/,
    trl: /`f_divergence_type='js_divergence'` is only supported for the following loss types: \['discopop', 'exo_pair', 'hinge', 'ipo', 'robust', 'sft', 'sigmoid', 'sigmoid_norm'\]\. You provided \['bco_pair'\]/,
  },
  { name: 'WPO with aot', o: { loss_type: 'aot', use_weighting: true }, ours: /WPO-style weighting \(use_weighting\) cannot be used with 'aot' or 'aot_unpaired'/, trl: /WPO-style weighting is not implemented for 'aot' or 'aot_unpaired'/ },
  {
    name: 'exo_pair without label smoothing',
    o: { loss_type: 'exo_pair' },
    ours: /Label smoothing must be greater than 0.0 when using 'exo_pair' loss/,
    trl: /Label smoothing must be greater than 0.0 when using 'exo_pair' loss/,
  },
  {
    name: 'sync_ref_model with precomputed reference',
    o: { loss_type: 'sigmoid', sync_ref_model: true, precompute_ref_log_probs: true },
    ours: /You cannot use `sync_ref_model=True` together with `precompute_ref_log_probs=True`/,
    trl: /You cannot use `sync_ref_model=True` together with `precompute_ref_log_probs=True`/,
  },
  {
    name: 'loss_weights of the wrong length',
    o: { loss_type: 'sigmoid,sft', loss_weights: [1] },
    ours: /`loss_weights` must have the same length as `loss_type` when combining multiple losses. Got 1 weights for 2 loss types/,
    trl: /`loss_weights` must have the same length as `loss_type` when combining multiple losses. Got 1 weights for 2 loss types/,
  },
  {
    // TRL 1.13 crashes inside the loss (an in-place multiply of the expanded sft term): refused up front here
    name: 'use_weighting with sft',
    o: { loss_type: 'sigmoid,sft', use_weighting: true },
    ours: /use_weighting cannot be combined with the 'sft' loss/,
    trl: /more than one element of the written-to tensor refers to a single memory location/,
  },
];
// the CLI with TRL's option names: the line of issue 15 with f_divergence_type reverse_kl, since TRL 1.13 refuses
// js_divergence with bco_pair (and cannot run use_weighting with sft); that full line is in REFUSED
const ISSUE_LINE: Opts = {
  loss_type: 'sigmoid,bco_pair,sft',
  loss_weights: [0.8, 0.2, 1.0],
  f_divergence_type: 'js_divergence',
  use_weighting: true,
  ld_alpha: 0.5,
  discopop_tau: 0.05,
  sync_ref_model: true,
};
const CLI_OPTS: Opts = {
  loss_type: 'sigmoid,bco_pair,sft',
  loss_weights: [0.8, 0.2, 1.0],
  f_divergence_type: 'reverse_kl',
  ld_alpha: 0.5,
  discopop_tau: 0.05,
  sync_ref_model: true,
  ref_model_sync_steps: 2,
};

REFUSED.push({
  name: "issue 15's CLI line (js_divergence with bco_pair, use_weighting with sft)",
  o: ISSUE_LINE,
  ours: /`f_divergence_type='js_divergence'` is only supported for the following loss types: .*You provided \['sigmoid', 'bco_pair', 'sft'\]/,
  trl: /`f_divergence_type='js_divergence'` is only supported for the following loss types: .*You provided \['sigmoid', 'bco_pair', 'sft'\]/,
});

const toArgv = (o: Opts): string[] =>
  Object.entries(o).flatMap(([k, v]) => [`--${k}`, v === null ? 'None' : Array.isArray(v) ? v.join(',') : String(v)]);

const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(4) : x.toFixed(6));

// relative differences are reported where they mean something (|TRL| >= SMALL); below it, absolute ones
const SMALL = 1e-2;
interface Cmp {
  bad: string[];
  worst: number;
  where: string;
  worstAbs: number;
  whereAbs: string;
}
const row = (name: string, c: Cmp) =>
  `${name.padEnd(56)} ${c.worst.toExponential(2).padStart(9)}  ${c.where.padEnd(30)} ${c.worstAbs.toExponential(2).padStart(9)}  ${c.whereAbs.padEnd(30)}${c.bad.length ? ' FAILED' : ''}`;

/** Disagreements beyond tolerance, the worst relative (|TRL| >= SMALL) and absolute (|TRL| < SMALL) differences, and a table. */
function compare(name: string, trl: Record<string, number>[], ours: Record<string, number>[]): Cmp {
  const bad: string[] = [];
  let worst = 0;
  let where = '';
  let worstAbs = 0;
  let whereAbs = '';
  const keys = Object.keys(trl[0] ?? {}).filter((k) => k !== 'step' && typeof trl[0][k] === 'number');
  const lines = [`\n=== ${name}: TRL | ours | rel ===`];
  for (let s = 0; s < Math.max(trl.length, ours.length); s++) {
    const t = trl[s];
    const o = ours[s];
    if (!t || !o) {
      bad.push(`step ${s + 1}: missing in ${t ? 'ours' : 'TRL'}`);
      continue;
    }
    if (t.step !== o.step) bad.push(`row ${s}: TRL step ${t.step}, ours ${o.step}`);
    const cells: string[] = [];
    for (const k of keys) {
      const a = t[k];
      const b = o[k];
      if (typeof b !== 'number') {
        bad.push(`step ${t.step} ${k}: TRL ${a}, ours missing`);
        continue;
      }
      const err = Math.abs(a - b);
      const rel = err / Math.max(Math.abs(a), 1e-30);
      if (Math.abs(a) >= SMALL && rel > worst) {
        worst = rel;
        where = `${k} @ step ${t.step}`;
      }
      if (Math.abs(a) < SMALL && err > worstAbs) {
        worstAbs = err;
        whereAbs = `${k} @ step ${t.step}`;
      }
      if (!(err <= REL * Math.abs(a) || err <= ABS)) bad.push(`step ${t.step} ${k}: TRL ${a}, ours ${b} (rel ${rel.toExponential(2)})`);
      cells.push(`${k} ${fmt(a)}|${fmt(b)}|${rel.toExponential(0)}`);
    }
    lines.push(`step ${t.step}: ${cells.join('  ')}`);
  }
  console.log(lines.join('\n'));
  return { bad, worst, where, worstAbs, whereAbs };
}

describe('every TRL 1.13 loss type and option vs the real DPOTrainer, step by step', () => {
  let model = '';
  let data = '';
  const trlLogs = new Map<string, Record<string, number | string>[]>();
  const table: string[] = [];
  let ctx: Awaited<ReturnType<typeof setup>>;

  async function setup() {
    const gpu = await testGpu();
    const ck = await loadCheckpoint(nodeFolderSource(model));
    const read = (f: string) => {
      try {
        return readFileSync(join(model, f), 'utf8');
      } catch {
        return undefined;
      }
    };
    const tok = loadTokenizer({ tokenizerJson: read('tokenizer.json')!, tokenizerConfig: read('tokenizer_config.json'), chatTemplate: read('chat_template.jinja') });
    const ds = await loadPreferenceDataset(readFileSync(data));
    const split = splitTrainEval(ds.pairs, { evalFraction: 0, seed: 42 });
    return { gpu, ck, tok, pairs: split.train };
  }

  /** Our trainer on the same options, in this process (as `npm run train` runs it). */
  async function ours(o: Opts): Promise<LogRecord[]> {
    const args = { ...defaultTrainerArgs, ...(o as Partial<TrainerArgs>), shuffle: false, compute_kl: false };
    const train = tokenizeDataset(ctx.tok, ctx.pairs, { maxLength: args.max_length, truncationMode: args.truncation_mode });
    const t = await DpoTrainer.create(ctx.gpu, { config: ctx.ck.config, policy: ctx.ck.tensors, train: train.examples, padId: ctx.tok.padId, args });
    const logs: LogRecord[] = [];
    try {
      await t.train({ onLog: (r) => logs.push(r) });
    } finally {
      t.release();
    }
    return logs;
  }

  beforeAll(async () => {
    venvPython();
    data = hhPairsFile(PAIRS);
    model = await tinyModel('llama');
    ctx = await setup();
    // ONE Python process for every TRL run of this file
    const trlRun = (name: string, o: Opts) => ({ name, argv: ['--model', model, '--data', data, ...toArgv({ ...COMMON, ...o })] });
    const runs = [
      ...CASES.map((c) => trlRun(c.name, { ...c.o, ...(c.steps ? { max_steps: c.steps } : {}) })),
      ...REFUSED.map((r) => trlRun(`refused: ${r.name}`, r.o)),
      trlRun('cli', CLI_OPTS),
    ];
    for (const [k, v] of await runTrlBatch('trl_dpo.py', runs, 1_500_000)) trlLogs.set(k, v);
  }, 1_800_000);

  afterAll(() => {
    const head = `${'case'.padEnd(56)} ${'worst rel'.padStart(9)}  ${'(metric, |TRL| >= 1e-2)'.padEnd(30)} ${'worst abs'.padStart(9)}  (metric, |TRL| < 1e-2)`;
    console.log(`\nTRL 1.13 vs ours, every logged metric at every step:\n${head}\n${table.join('\n')}`);
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const trl = trlLogs.get(c.name)! as Record<string, number>[];
      expect(trl[0]?.error, String(trl[0]?.error)).toBeUndefined();
      const steps = c.steps ?? STEPS;
      expect(trl.length).toBe(steps);
      const mine = await ours({ ...COMMON, ...c.o, ...(c.steps ? { max_steps: c.steps } : {}) });
      const { bad, worst, where, worstAbs, whereAbs } = compare(c.name, trl, mine);
      table.push(row(c.name, { bad, worst, where, worstAbs, whereAbs }));
      expect(bad, bad.join('\n')).toEqual([]);
      // TRL's metrics are all there, and the run moved the policy
      for (const k of ['loss', 'entropy', 'num_tokens', 'mean_token_accuracy', 'logits/chosen', 'rewards/margins', 'logps/chosen', 'grad_norm']) expect(trl[0], k).toHaveProperty(k);
      expect(Math.abs(trl[steps - 1]['logps/chosen'] - trl[0]['logps/chosen'])).toBeGreaterThan(1e-3);
    }, 600_000);
  }

  for (const r of REFUSED) {
    it(`refused as TRL refuses it: ${r.name}`, () => {
      const trl = trlLogs.get(`refused: ${r.name}`)!;
      expect(String(trl[0]?.error)).toMatch(r.trl);
      const args = { ...defaultTrainerArgs, ...(r.o as Partial<TrainerArgs>) };
      expect(() => validateArgs(args)).toThrow(TrainerConfigError);
      expect(() => validateArgs(args)).toThrow(r.ours);
    });
  }

  it('the CLI takes TRL names: --loss_type sigmoid,bco_pair,sft --loss_weights 0.8,0.2,1.0 --f_divergence_type reverse_kl --ld_alpha 0.5 --discopop_tau 0.05 --sync_ref_model true', async () => {
    const dir = tempDir('losses-cli');
    const log = join(dir, 'ours.jsonl');
    const exportDir = join(dir, 'export');
    await runOurTrain(['--model', model, '--data', data, ...toArgv({ ...COMMON, ...CLI_OPTS }), '--shuffle', 'false', '--compute_kl', 'false', '--log', log, '--export', exportDir]);
    const trl = trlLogs.get('cli')! as Record<string, number>[];
    expect(trl.length).toBe(STEPS);
    const { bad, worst, where, worstAbs, whereAbs } = compare('CLI', trl, readJsonl(log));
    table.push(row('CLI: MPO + ld_alpha + sync_ref_model', { bad, worst, where, worstAbs, whereAbs }));
    expect(bad, bad.join('\n')).toEqual([]);
    // the exported train_trl.py carries every loss option, and running it with TRL logs what our run logged
    const script = readFileSync(join(exportDir, 'train_trl.py'), 'utf8');
    for (const line of [
      'loss_type=["sigmoid","bco_pair","sft"],',
      'loss_weights=[0.8,0.2,1],',
      'f_divergence_type="reverse_kl",',
      'f_alpha_divergence_coef=0.5,',
      'use_weighting=False,',
      'ld_alpha=0.5,',
      'discopop_tau=0.05,',
      'sync_ref_model=True,',
      'ref_model_mixup_alpha=0.6,',
      'ref_model_sync_steps=2,',
      'precompute_ref_batch_size=None,',
    ]) {
      expect(script, line).toContain(`    ${line}`);
    }
    await run(venvPython(), [join(exportDir, 'train_trl.py')], { env: { HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', OMP_NUM_THREADS: '1', PYTHONHASHSEED: '0', TQDM_DISABLE: '1' } });
    const exported = readJsonl(join(exportDir, 'dpo-playground-run', 'log_history.jsonl')).filter((r) => r.loss !== undefined);
    const e = compare('exported train_trl.py (TRL) vs ours', exported, readJsonl(log));
    table.push(row('exported train_trl.py of that run, run by TRL', e));
    expect(e.bad, e.bad.join('\n')).toEqual([]);
    // the issue's full line is refused by the CLI with TRL's sentence, as TRL refuses it
    const refused = runOurTrain(['--model', model, '--data', data, ...toArgv({ ...COMMON, ...ISSUE_LINE }), '--log', join(dir, 'x.jsonl')]);
    await expect(refused).rejects.toThrow(/TrainerConfigError: `f_divergence_type='js_divergence'` is only supported/);
    // with reverse_kl it is use_weighting with sft that is refused
    const refused2 = runOurTrain(['--model', model, '--data', data, ...toArgv({ ...COMMON, ...ISSUE_LINE, f_divergence_type: 'reverse_kl' }), '--log', join(dir, 'y.jsonl')]);
    await expect(refused2).rejects.toThrow(/TrainerConfigError: use_weighting cannot be combined with the 'sft' loss/);
  }, 600_000);
});
