// The method selector: which TRL trainer runs (DPO, CPO / SimPO, ORPO, KTO), one line each with its paper,
// the chosen trainer's own options under its TRL config names and defaults, and what its weights cost in GPU
// memory (CPO / SimPO and ORPO hold no reference). DPO's loss selector (HyperParams.tsx) shows only for DPO.
import type { TrainerArgs } from '../../dpo/trainer';
import { CPO_LOSS_TYPES, TRAINER_KINDS, trainerNeedsReference, type TrainerKind } from '../../dpo/preference-trainer';
import { fmtBytes } from '../format';
import { PARAM_FIELDS, TRAINER_INFO } from '../params';
import { useT } from '../i18n';
import { setArg, useStore } from '../store';
import { Field } from './ParamField';

/** Each trainer's own options besides loss_type, as its TRL config (DPOConfig, CPOConfig, ORPOConfig, KTOConfig) names them. */
export const TRAINER_OPTIONS: Record<TrainerKind, readonly (keyof TrainerArgs)[]> = {
  dpo: ['beta', 'label_smoothing'],
  cpo: ['beta', 'label_smoothing', 'cpo_alpha', 'simpo_gamma'],
  orpo: ['beta'],
  kto: ['beta', 'desirable_weight', 'undesirable_weight'],
};

/** The options the selector draws (the form leaves them out). */
export const TRAINER_FIELDS: ReadonlySet<keyof TrainerArgs> = new Set(Object.values(TRAINER_OPTIONS).flat());

/**
 * What choosing trainer `k` changes in the arguments, as [name, raw value] for setArg: a loss_type the trainer
 * takes (CPO one of its four; ORPO and KTO none, so the shared default), and every option its TRL config lacks
 * back to its default, so the run validates as TRL would accept it.
 */
export function trainerSwitch(k: TrainerKind, a: TrainerArgs): [keyof TrainerArgs, string | boolean][] {
  const out: [keyof TrainerArgs, string | boolean][] = [];
  const lt = String(a.loss_type);
  if (k === 'cpo' ? !(CPO_LOSS_TYPES as readonly string[]).includes(lt) : k === 'dpo' ? lt === 'simpo' : lt !== 'sigmoid') out.push(['loss_type', 'sigmoid']);
  if (a.loss_weights != null) out.push(['loss_weights', '']);
  if (k === 'dpo') return out;
  if (k !== 'cpo' && a.label_smoothing !== 0) out.push(['label_smoothing', '0']);
  if (a.rpo_alpha != null) out.push(['rpo_alpha', '']);
  if (a.ld_alpha != null) out.push(['ld_alpha', '']);
  for (const b of ['sync_ref_model', 'use_weighting', 'reference_free', 'precompute_ref_log_probs'] as const) if (a[b]) out.push([b, false]);
  if (a.f_divergence_type !== 'reverse_kl') out.push(['f_divergence_type', 'reverse_kl']);
  return out;
}

/** The memory line's sentence key: what the weights in the estimate hold. */
export function memoryKey(a: TrainerArgs): string {
  if (!trainerNeedsReference(a)) return 'trainer.memNoRef';
  if (a.lora) return 'trainer.memLora';
  if (a.precompute_ref_log_probs) return 'trainer.memPrecomputed';
  return 'trainer.memRef';
}

function MemoryLine() {
  const { t } = useT();
  const args = useStore((s) => s.args);
  const est = useStore((s) => s.estimate);
  // before a model is loaded there is no estimate: the line still says whether a reference is held
  if (!est) return trainerNeedsReference(args) ? null : <p className="hint">{t('trainer.refNone')}</p>;
  return (
    <p className="hint" data-testid="trainer-memory" data-weights-bytes={est.weightsBytes}>
      {t(memoryKey(args), { w: fmtBytes(est.weightsBytes), total: fmtBytes(est.totalBytes) })}
    </p>
  );
}

export function TrainerSelector({ disabled }: { disabled: boolean }) {
  const { t } = useT();
  const trainer = useStore((s) => s.args.trainer ?? 'dpo');
  const lossType = useStore((s) => String(s.args.loss_type));
  const choose = (k: TrainerKind) => {
    const changes = trainerSwitch(k, useStore.getState().args);
    setArg('trainer', k);
    for (const [name, v] of changes) setArg(name, v);
  };
  return (
    <fieldset className="loss-selector" data-testid="trainer-selector">
      <legend>{t('trainer.legend')}</legend>
      <div className="field">
        <label htmlFor="arg-trainer">
          <code>trainer</code>
        </label>
        <select id="arg-trainer" value={trainer} disabled={disabled} onChange={(e) => choose(e.target.value as TrainerKind)} aria-describedby="arg-trainer-hint">
          {TRAINER_KINDS.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
        <span id="arg-trainer-hint" className="hint">
          {t('trainer.hint')}
        </span>
      </div>
      <ul className="loss-kinds">
        {TRAINER_KINDS.map((k) => (
          <li key={k} className={k === trainer ? 'on' : undefined} data-testid={`trainer-${k}`}>
            <code>{k}</code>{' '}
            <span className="hint">
              {t(`trainer.${k}.what`)}{' '}
              <a href={TRAINER_INFO[k].url} target="_blank" rel="noreferrer" translate="no">
                {TRAINER_INFO[k].paper}
              </a>
            </span>
          </li>
        ))}
      </ul>
      <div className="fields" data-testid="trainer-options" role="group" aria-label={t('trainer.optionsOf', { trainer })}>
        {trainer === 'cpo' && (
          <div className="field">
            <label htmlFor="arg-cpo-loss">
              <code>loss_type</code>
            </label>
            <select id="arg-cpo-loss" value={lossType} disabled={disabled} onChange={(e) => setArg('loss_type', e.target.value)} aria-describedby="arg-cpo-loss-hint">
              {CPO_LOSS_TYPES.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
            <span id="arg-cpo-loss-hint" className="hint">
              {t('trainer.cpoLossHint')}
            </span>
          </div>
        )}
        {TRAINER_OPTIONS[trainer].map((name) => (
          <Field key={name} f={PARAM_FIELDS.find((f) => f.name === name)!} disabled={disabled} hint={name === 'beta' ? t(`trainer.beta.${trainer}`) : name === 'label_smoothing' && trainer === 'cpo' ? t('trainer.labelSmoothing.cpo') : undefined} />
        ))}
      </div>
      {trainer === 'kto' && <p className="hint">{t('trainer.refKto')}</p>}
      {trainer === 'kto' && (
        <p className="hint" data-testid="kto-order">
          {t('trainer.ktoOrder')}
        </p>
      )}
      <MemoryLine />
    </fieldset>
  );
}
