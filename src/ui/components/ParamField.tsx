// One hyperparameter of the form: TRL's name as the label, the input, the recommended range and TRL's default,
// and the sentence of a wrong value. Used by the form (HyperParams) and the method selector (TrainerSelector).
import { defaultTrainerArgs } from '../../dpo/trainer';
import { formatValue, rangeWarning, type ParamField } from '../params';
import { useT } from '../i18n';
import { setArg, useStore } from '../store';

/** rangeWarning's sentences, by the field they are about. */
const WARN_KEY: Partial<Record<string, string>> = { beta: 'hp.warnBeta', learning_rate: 'hp.warnLr' };

/** `hint` replaces the field's own recommended range (the method selector says what the option means to the trainer). */
export function Field({ f, disabled, hint }: { f: ParamField; disabled: boolean; hint?: string }) {
  const { t } = useT();
  const value = useStore((s) => s.args[f.name]);
  const text = useStore((s) => s.argText[f.name]);
  const error = useStore((s) => s.argErrors[f.name]);
  const pretrained = useStore((s) => (s.model.info?.parameters ?? 0) > 20e6);
  const id = `arg-${f.name}`;
  const warn = error ? null : rangeWarning(f.name, value, pretrained);
  const def = defaultTrainerArgs[f.name];
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>
        <code>{f.name}</code>
      </label>
      {f.kind === 'bool' ? (
        <input id={id} type="checkbox" checked={Boolean(value)} disabled={disabled} onChange={(e) => setArg(f.name, e.target.checked)} aria-describedby={`${id}-hint`} />
      ) : f.kind === 'select' ? (
        <select id={id} value={String(value)} disabled={disabled} onChange={(e) => setArg(f.name, e.target.value)} aria-describedby={`${id}-hint`}>
          {f.options!.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          type="text"
          inputMode="decimal"
          value={text ?? formatValue(value)}
          disabled={disabled}
          onChange={(e) => setArg(f.name, e.target.value)}
          aria-invalid={Boolean(error)}
          aria-describedby={`${id}-hint`}
        />
      )}
      <span id={`${id}-hint`} className="hint" title={t(`param.${f.name}.help`)}>
        {t('hp.default', { hint: hint ?? t(`param.${f.name}.hint`), value: formatValue(def) || 'None' })}
      </span>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
      {warn && <span className="warn">{WARN_KEY[f.name] ? t(WARN_KEY[f.name]!) : warn}</span>}
    </div>
  );
}
