// The notice of a GPU fault that stopped the run: the worker's sentence (what happened, what was kept,
// what to do) and "Continue from step N", which rebuilds the run from the worker's saved state on a new
// GPU device without reloading the page.
import { currentLanguage, useT } from '../i18n';
import { faultSentence } from '../i18n/errors';
import { continueAfterFault, useStore } from '../store';

export function FaultNotice() {
  const { t } = useT();
  const fault = useStore((s) => s.fault);
  const phase = useStore((s) => s.run.phase);
  if (!fault) return null;
  const busy = phase === 'training' || phase === 'pausing' || phase === 'starting';
  return (
    <div className="error fault-notice" role="alert" data-testid="fault-notice">
      <p data-testid="fault-message" data-kind={fault.kind}>
        {/* the worker's English sentence; in Korean from its parts, or (a fault without them) led by its kind */}
        {currentLanguage() === 'en' ? fault.message : fault.params ? faultSentence(fault.params) : t(`error.gpu.${fault.kind}`, { detail: fault.message, defaultValue: fault.message })}
      </p>
      {fault.savedStep !== null && (
        <button type="button" className="primary" onClick={() => void continueAfterFault()} disabled={busy}>
          {t('fault.continue', { step: fault.savedStep })}
        </button>
      )}
    </div>
  );
}
