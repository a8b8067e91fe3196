// The hyperparameter form (TRL's and PEFT's names) and the memory estimate that follows it.
import type { TrainerArgs } from '../../dpo/trainer';
import { i18n, t } from '../i18n';
import { loraFormOf, PARAM_FIELDS, parseField, parseLoraForm, type LoraForm, type ParamError } from '../params';
import { client, get, patch } from './state';

/** A field's error in the page's language (params.ts PARAM_ERRORS by code; else its English sentence). */
const errorText = (r: ParamError) => (r.code ? t(`param.error.${r.code}`, { ...r.params }) : r.error);

// the errors on the form are said again in the new language
i18n.on('languageChanged', () => {
  const s = get();
  const argErrors: Record<string, string> = {};
  for (const name of Object.keys(s.argErrors)) {
    const f = PARAM_FIELDS.find((x) => x.name === name);
    const r = f ? parseField(f, s.argText[name] ?? '') : name === 'lora' ? parseLoraForm(loraFormOf(s.args.lora, s.argText)) : null;
    argErrors[name] = r && 'error' in r ? errorText(r) : s.argErrors[name];
  }
  if (Object.keys(argErrors).length) patch({ argErrors });
});

export function setArg(name: keyof TrainerArgs, raw: string | boolean): void {
  const f = PARAM_FIELDS.find((x) => x.name === name);
  if (!f) return;
  const r = parseField(f, raw);
  patch((s) => {
    const argText = { ...s.argText, [name]: String(raw) };
    const argErrors = { ...s.argErrors };
    if ('error' in r) {
      argErrors[name] = errorText(r);
      return { argText, argErrors };
    }
    delete argErrors[name];
    return { argText, argErrors, args: { ...s.args, [name]: r.value } };
  });
  scheduleEstimate();
}

/** One field of the LoRA form (PEFT's LoraConfig); a valid form sets args.lora (null = full fine-tuning). */
export function setLoraField(key: keyof LoraForm, raw: string | boolean): void {
  patch((s) => {
    const form = { ...loraFormOf(s.args.lora, s.argText), [key]: String(raw) };
    const argText = { ...s.argText };
    for (const [k, v] of Object.entries(form)) argText[`lora.${k}`] = v;
    const argErrors = { ...s.argErrors };
    const r = parseLoraForm(form);
    if ('error' in r) {
      argErrors.lora = errorText(r);
      return { argText, argErrors };
    }
    delete argErrors.lora;
    return { argText, argErrors, args: { ...s.args, lora: r.value } };
  });
  scheduleEstimate();
}

export function setSftSteps(n: number): void {
  patch({ sftSteps: Number.isInteger(n) && n >= 0 ? n : 0 });
}

let estimateTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleEstimate() {
  clearTimeout(estimateTimer);
  estimateTimer = setTimeout(() => void refreshEstimate(), 300);
}

export async function refreshEstimate(): Promise<void> {
  if (get().model.status !== 'ready' || !get().client) return;
  try {
    patch({ estimate: await client().call({ type: 'estimate', args: get().args }) });
  } catch {
    patch({ estimate: null });
  }
}
