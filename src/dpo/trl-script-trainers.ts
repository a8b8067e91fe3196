// The exported TRL script's trainer part for CPO / SimPO, ORPO and KTO (src/dpo/trl-script.ts writes the
// rest): TRL 1.13's CPOTrainer and ORPOTrainer live in trl.experimental, KTOTrainer in trl. Their configs
// default to gradient checkpointing on, which the script sets to the run's value; KTO keeps dataset order
// (its KL completions are paired within batches), unpairs paired data itself and takes unpaired data as it is.
import { trainerOf } from './preference-trainer';
import type { TrainerArgs } from './trainer';

/** The import line of the run's trainer, or null for DPO / SFT (trl-script.ts's own). */
export function trainerImport(a: TrainerArgs): string | null {
  if (a.mode === 'sft') return null;
  const t = trainerOf(a);
  if (t === 'cpo') return 'from trl.experimental.cpo import CPOConfig, CPOTrainer';
  if (t === 'orpo') return 'from trl.experimental.orpo import ORPOConfig, ORPOTrainer';
  if (t === 'kto') return 'from trl import KTOConfig, KTOTrainer';
  return null;
}

/**
 * The config and trainer lines of a CPO / ORPO / KTO run; `common` are the TrainingArguments lines the script
 * shares with DPO, `py` its Python formatter, `peft` the peft_config argument ('' without LoRA).
 */
export function trainerLines(a: TrainerArgs, common: [string, unknown][], py: (v: unknown) => string, peft: string): string[] {
  const t = trainerOf(a);
  const own: [string, unknown][] = [['beta', a.beta], ['gradient_checkpointing', a.gradient_checkpointing]];
  let cls = '';
  const lines: string[] = [];
  if (t === 'cpo') {
    cls = 'CPO';
    own.push(['loss_type', String(a.loss_type).trim()], ['label_smoothing', a.label_smoothing], ['cpo_alpha', a.cpo_alpha], ['simpo_gamma', a.simpo_gamma]);
    lines.push('# CPO (SimPO with loss_type="simpo"): no reference model');
  } else if (t === 'orpo') {
    cls = 'ORPO';
    lines.push('# ORPO: no reference model; beta is the odds-ratio weight (the paper\'s lambda)');
  } else {
    cls = 'KTO';
    own.push(['loss_type', 'kto'], ['desirable_weight', a.desirable_weight], ['undesirable_weight', a.undesirable_weight]);
    lines.push(
      '# KTO: paired data is unpaired by KTOTrainer (unpair_preference_dataset); data in TRL\'s unpaired format',
      '# (prompt, completion, label) goes in as it is. Batches stay in dataset order because',
      '# each example\'s KL completion is its batch neighbour\'s',
      'SHUFFLE = False',
      `ref_model = ${a.lora ? 'None  # None with LoRA: the base model with the adapters disabled' : 'load_model(MODEL, REVISION)  # a frozen copy of the starting policy'}`,
    );
  }
  const common2 = common.filter(([k]) => k !== 'gradient_checkpointing');
  lines.push(
    `args = ${cls}Config(`,
    ...[...common2, ...own].map(([k, v]) => `    ${k}=${py(v)},`),
    ')',
    `trainer = in_order(${cls}Trainer)(model=model, ${t === 'kto' ? 'ref_model=ref_model, ' : ''}args=args, train_dataset=ds, callbacks=[StopAfter()], processing_class=tokenizer${peft})`,
  );
  return lines;
}
