// Hyperparameters with TRL's names, defaults and the recommended ranges next to them.
import { defaultTrainerArgs } from '../../dpo/trainer';
import { PARAM_FIELDS, formatValue, loraFormOf, rangeWarning, type ParamField } from '../params';
import { setArg, setLoraField, setSftSteps, useStore } from '../store';

function Field({ f, disabled }: { f: ParamField; disabled: boolean }) {
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
      <span id={`${id}-hint`} className="hint" title={f.help}>
        {f.hint} · TRL default {formatValue(def) || 'None'}
      </span>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
      {warn && <span className="warn">{warn}</span>}
    </div>
  );
}

/** PEFT's LoraConfig: train low-rank adapters on the frozen model; the reference is the model with them off. */
function LoraFields({ disabled }: { disabled: boolean }) {
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
        <span id="arg-lora-hint" className="hint" title="Only small adapter matrices train (W + lora_alpha/r * B A); the base weights stay frozen and serve as the reference, so there is no second copy of the model and no gradients or AdamW moments for it.">
          saves memory · off = full fine-tuning
        </span>
      </div>
      {on && input('r', '8 - 64 · PEFT default 8')}
      {on && input('lora_alpha', 'often 2 r · PEFT default 8')}
      {on && input('target_modules', 'all-linear, or e.g. q_proj, v_proj (Llama/Qwen), c_attn, c_proj, c_fc (GPT-2)')}
      {on && error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

export function HyperParams() {
  const busy = useStore((s) => s.run.phase !== 'idle' && s.run.phase !== 'finished' && s.run.phase !== 'stopped' && s.run.phase !== 'error');
  const sftSteps = useStore((s) => s.sftSteps);
  const main = PARAM_FIELDS.filter((f) => !f.advanced);
  const adv = PARAM_FIELDS.filter((f) => f.advanced);
  return (
    <section className="panel" aria-labelledby="hp-title">
      <h2 id="hp-title">3. Hyperparameters</h2>
      <p className="hint">TRL's DPOConfig names. Hover a hint for what the value does.</p>
      <div className="fields">
        {main.map((f) => (
          <Field key={f.name} f={f} disabled={busy} />
        ))}
        <LoraFields disabled={busy} />
        <div className="field">
          <label htmlFor="arg-sft">
            <code>sft_steps</code> (SFT first)
          </label>
          <input id="arg-sft" type="number" min={0} step={1} value={sftSteps} disabled={busy} onChange={(e) => setSftSteps(Number(e.target.value))} aria-describedby="arg-sft-hint" />
          <span id="arg-sft-hint" className="hint">
            0 = none · SFT on the chosen answers first; that model becomes the reference
          </span>
        </div>
      </div>
      <details>
        <summary>More options</summary>
        <div className="fields">
          {adv.map((f) => (
            <Field key={f.name} f={f} disabled={busy} />
          ))}
        </div>
      </details>
    </section>
  );
}
