// The method selector: which TRL trainer runs (DPO, CPO / SimPO, ORPO, KTO), one line each with its paper,
// and CPO's own loss types. DPO's loss selector (HyperParams.tsx) shows only for DPO.
import { CPO_LOSS_TYPES, TRAINER_KINDS, type TrainerKind } from '../../dpo/preference-trainer';
import { TRAINER_INFO } from '../params';
import { useT } from '../i18n';
import { setArg, useStore } from '../store';

export function TrainerSelector({ disabled }: { disabled: boolean }) {
  const { t } = useT();
  const trainer = useStore((s) => s.args.trainer ?? 'dpo');
  const lossType = useStore((s) => String(s.args.loss_type));
  const choose = (k: TrainerKind) => {
    setArg('trainer', k);
    // CPO takes one of its four loss types; ORPO and KTO have none (the shared default stands for it)
    if (k !== 'dpo' && !(k === 'cpo' && (CPO_LOSS_TYPES as readonly string[]).includes(lossType))) setArg('loss_type', 'sigmoid');
    if (k === 'dpo' && lossType === 'simpo') setArg('loss_type', 'sigmoid');
    setArg('loss_weights', '');
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
              <a href={TRAINER_INFO[k].url} target="_blank" rel="noreferrer">
                {TRAINER_INFO[k].paper}
              </a>
            </span>
          </li>
        ))}
      </ul>
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
      {trainer !== 'dpo' && <p className="hint">{t(trainer === 'kto' ? 'trainer.refKto' : 'trainer.refNone')}</p>}
    </fieldset>
  );
}
