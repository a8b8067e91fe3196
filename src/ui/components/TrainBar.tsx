// Train / pause / resume / stop / export, the run's progress, and the notice when its state could not be
// kept in this browser (with the state offered as a download). Leaving the page mid-run asks first.
import { useEffect } from 'react';
import { fmtDuration, fmtInt, fmtSize } from '../format';
import { secondsLeft } from '../history';
import { useT } from '../i18n';
import { canTrain, downloadState, exportMetrics, exportRun, leaveWarning, pause, resume, stop, train, useStore } from '../store';
import { FaultNotice } from './FaultNotice';

/** Asks before the tab closes or reloads while `warning` is set (the browser shows its own text). */
function useLeaveGuard(warning: string | null) {
  useEffect(() => {
    if (!warning) return;
    const onLeave = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = warning; // older Chromium needs returnValue set
      return warning;
    };
    window.addEventListener('beforeunload', onLeave);
    return () => window.removeEventListener('beforeunload', onLeave);
  }, [warning]);
}

export function TrainBar() {
  const { t } = useT();
  const s = useStore();
  const r = s.run;
  const why = canTrain(s);
  const active = r.phase === 'training' || r.phase === 'pausing' || r.phase === 'starting';
  const pct = r.totalSteps ? (100 * r.step) / r.totalSteps : 0;
  const left = secondsLeft(r.step, r.totalSteps, r.elapsedSec, r.startStep);
  const hasRun = r.phase !== 'idle' && r.phase !== 'starting';
  useLeaveGuard(leaveWarning(s));
  return (
    <section className="panel trainbar" aria-labelledby="train-title">
      <h2 id="train-title" className="sr-only">
        {t('train.title')}
      </h2>
      <div className="buttons">
        <button type="button" className="primary" onClick={() => void train()} disabled={active || why !== null} title={why ?? t('train.start')}>
          {r.phase === 'idle' ? t('train.train') : t('train.trainNew')}
        </button>
        {r.phase === 'paused' ? (
          <button type="button" onClick={() => void resume()}>
            {t('train.resume')}
          </button>
        ) : (
          <button type="button" onClick={pause} disabled={!(r.phase === 'training' || r.phase === 'starting')}>
            {t('train.pause')}
          </button>
        )}
        <button type="button" onClick={stop} disabled={!(active || r.phase === 'paused')}>
          {t('train.stop')}
        </button>
        <button type="button" onClick={() => void exportRun()} disabled={!hasRun || s.exporting || (r.phase === 'error' && s.fault?.savedStep == null)} title={t('train.exportTitle')}>
          {s.exporting ? t('train.exporting') : t('train.export')}
        </button>
        <button type="button" className="secondary" onClick={() => exportMetrics('csv')} disabled={!s.history.length}>
          {t('train.csv')}
        </button>
        <button type="button" className="secondary" onClick={() => exportMetrics('jsonl')} disabled={!s.history.length}>
          {t('train.jsonl')}
        </button>
      </div>
      {why && r.phase === 'idle' && <p className="hint">{why}</p>}
      <div className="progress-line" aria-live="polite">
        <progress max={100} value={pct} aria-label={t('train.progress')} />
        <span data-testid="run-phase" data-phase={r.phase} className={`phase ${r.phase}`}>
          {t(`phase.${r.phase}`)}
        </span>
        <span data-testid="run-step">
          {r.trainPhase === 'sft' && active ? t('train.sft') : ''}
          {t('train.step', { step: r.step, total: r.totalSteps || '?' })}
        </span>
        <span>{r.tokensPerSec ? t('train.tokensPerSec', { n: fmtInt(Math.round(r.tokensPerSec)) }) : ''}</span>
        <span>{active && left !== null ? t('train.left', { time: fmtDuration(left) }) : ''}</span>
      </div>
      <p className="status" role="status" data-testid="status-line">
        {s.statusLine}
      </p>
      <FaultNotice />
      {r.phase === 'error' && !s.fault && (
        <p className="error" role="alert" data-testid="run-error">
          {r.error}
        </p>
      )}
      {s.unsaved && (
        <div className="error storage-notice" role="alert" data-testid="storage-notice">
          <p>{s.unsaved.message}</p>
          <button type="button" onClick={() => void downloadState()}>
            {t('train.downloadState')}
            {s.unsaved.bytes ? ` (${fmtSize(s.unsaved.bytes)})` : ''}
          </button>
        </div>
      )}
      {s.exportError && (
        <p className="error" role="alert">
          {s.exportError}
        </p>
      )}
    </section>
  );
}
