// Hyperparameters with TRL's names, defaults and the recommended ranges next to them.
import { DPO_LOSS_KINDS, type DpoLossKind } from '../../gpu/reference/dpo_loss';
import { LOSS_INFO, PARAM_FIELDS, formatValue, loraFormOf } from '../params';
import { useT } from '../i18n';
import { setArg, setLoraField, setSftSteps, useStore } from '../store';
import { Field } from './ParamField';
import { TRAINER_FIELDS, TrainerSelector } from './TrainerSelector';

/**
 * TRL's loss_type list with loss_weights: one checkbox per kind (what it does, its paper), a weight for each
 * chosen kind, and the two options as TRL writes them (comma-separated), kept in step.
 */
function LossSelector({ disabled }: { disabled: boolean }) {
  const { t } = useT();
  const lossType = useStore((s) => String(s.args.loss_type));
  const weights = useStore((s) => s.args.loss_weights);
  const text = useStore((s) => s.argText);
  const errors = useStore((s) => s.argErrors);
  const kinds = lossType.split(',').map((k) => k.trim()).filter(Boolean);
  const weightOf = (k: string) => weights?.[kinds.indexOf(k)] ?? 1;
  const update = (next: string[], w: (k: string) => number) => {
    if (next.length === 0) return; // at least one kind stays chosen
    setArg('loss_type', next.join(','));
    const ws = next.map(w);
    setArg('loss_weights', ws.every((x) => x === 1) ? '' : ws.join(','));
  };
  const toggle = (k: string, on: boolean) => update(on ? [...kinds, k] : kinds.filter((x) => x !== k), weightOf);
  const setWeight = (k: string, raw: string) => {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) {
      setArg('loss_weights', `${kinds.map((x) => (x === k ? raw : String(weightOf(x)))).join(',')}`);
      return;
    }
    update(kinds, (x) => (x === k ? v : weightOf(x)));
  };
  const field = (name: 'loss_type' | 'loss_weights', value: string, hint: string) => (
    <div className={errors[name] ? 'field invalid' : 'field'}>
      <label htmlFor={`arg-${name}`}>
        <code>{name}</code>
      </label>
      <input id={`arg-${name}`} type="text" value={text[name] ?? value} disabled={disabled} onChange={(e) => setArg(name, e.target.value)} aria-invalid={Boolean(errors[name])} aria-describedby={`arg-${name}-hint`} />
      <span id={`arg-${name}-hint`} className="hint">
        {hint}
      </span>
      {errors[name] && (
        <span className="error" role="alert">
          {errors[name]}
        </span>
      )}
    </div>
  );
  return (
    <fieldset className="loss-selector" data-testid="loss-selector">
      <legend>{t('hp.lossLegend')}</legend>
      {field('loss_type', lossType, t('hp.lossTypeHint'))}
      {field('loss_weights', formatValue(weights), t('hp.lossWeightsHint'))}
      <ul className="loss-kinds">
        {DPO_LOSS_KINDS.map((k: DpoLossKind) => {
          const on = kinds.includes(k);
          const info = LOSS_INFO[k];
          return (
            <li key={k} className={on ? 'on' : undefined}>
              <label>
                <input type="checkbox" checked={on} disabled={disabled || (on && kinds.length === 1)} onChange={(e) => toggle(k, e.target.checked)} data-testid={`loss-kind-${k}`} />
                <code>{k}</code>
              </label>
              {on && kinds.length > 1 && (
                <input className="loss-weight" type="text" inputMode="decimal" aria-label={t('hp.weightOf', { kind: k })} value={String(weightOf(k))} disabled={disabled} onChange={(e) => setWeight(k, e.target.value)} />
              )}
              <span className="hint">
                {t(`loss.${k}.what`)}{' '}
                <a href={info.url} target="_blank" rel="noreferrer" translate="no">
                  {info.paper}
                </a>
              </span>
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}

/** PEFT's LoraConfig: train low-rank adapters on the frozen model; the reference is the model with them off. */
function LoraFields({ disabled }: { disabled: boolean }) {
  const { t } = useT();
  const lora = useStore((s) => s.args.lora);
  const text = useStore((s) => s.argText);
  const error = useStore((s) => s.argErrors.lora);
  const f = loraFormOf(lora, text);
  const on = f.enabled === 'true';
  const input = (key: 'r' | 'lora_alpha' | 'target_modules', hint: string) => (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={`arg-lora-${key}`}>
        <code>{key}</code>
      </label>
      <input id={`arg-lora-${key}`} type="text" value={f[key]} disabled={disabled} onChange={(e) => setLoraField(key, e.target.value)} aria-invalid={Boolean(error)} aria-describedby={`arg-lora-${key}-hint`} />
      <span id={`arg-lora-${key}-hint`} className="hint">
        {hint}
      </span>
    </div>
  );
  return (
    <>
      <div className="field">
        <label htmlFor="arg-lora">
          <code>peft_config</code> (LoRA)
        </label>
        <input id="arg-lora" type="checkbox" checked={on} disabled={disabled} onChange={(e) => setLoraField('enabled', e.target.checked)} aria-describedby="arg-lora-hint" />
        <span id="arg-lora-hint" className="hint" title={t('hp.loraHelp')}>
          {t('hp.loraHint')}
        </span>
      </div>
      {on && input('r', t('hp.loraR'))}
      {on && input('lora_alpha', t('hp.loraAlpha'))}
      {on && input('target_modules', t('hp.loraTargets'))}
      {on && error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

export function HyperParams() {
  const { t } = useT();
  const busy = useStore((s) => s.run.phase !== 'idle' && s.run.phase !== 'finished' && s.run.phase !== 'stopped' && s.run.phase !== 'error');
  const sftSteps = useStore((s) => s.sftSteps);
  const trainer = useStore((s) => s.args.trainer ?? 'dpo');
  // beta and each trainer's own options are edited in the method selector
  const main = PARAM_FIELDS.filter((f) => !f.advanced && !f.custom && !TRAINER_FIELDS.has(f.name));
  const adv = PARAM_FIELDS.filter((f) => f.advanced && !f.custom && !TRAINER_FIELDS.has(f.name));
  return (
    <section className="panel" aria-labelledby="hp-title">
      <h2 id="hp-title">{t('hp.title')}</h2>
      <p className="hint">{t('hp.hint')}</p>
      <TrainerSelector disabled={busy} />
      {trainer === 'dpo' && <LossSelector disabled={busy} />}
      <div className="fields">
        {main.map((f) => (
          <Field key={f.name} f={f} disabled={busy} />
        ))}
        <LoraFields disabled={busy} />
        <div className="field">
          <label htmlFor="arg-sft">
            <code>sft_steps</code> {t('hp.sftFirst')}
          </label>
          <input id="arg-sft" type="number" min={0} step={1} value={sftSteps} disabled={busy} onChange={(e) => setSftSteps(Number(e.target.value))} aria-describedby="arg-sft-hint" />
          <span id="arg-sft-hint" className="hint">
            {t('hp.sftHint')}
          </span>
        </div>
      </div>
      <details>
        <summary>{t('hp.more')}</summary>
        <div className="fields">
          {adv.map((f) => (
            <Field key={f.name} f={f} disabled={busy} />
          ))}
        </div>
      </details>
    </section>
  );
}
