// The live diagnosis: the rules of src/dpo/diagnosis.ts over this run, each with its evidence linked to
// the chart it points at (the link scrolls there and moves the keyboard focus onto the chart). The
// engine gives codes and numbers; every sentence comes from i18next (diagnosis-text.ts).
import { useMemo } from 'react';
import { diagnose, type Diagnosis as Finding } from '../../dpo/diagnosis';
import { fmtInt } from '../format';
import { useT } from '../i18n';
import { useStore } from '../store';
import { anchorOf, diagnosisInput, focusTarget } from './diagnosis-input';
import { evidenceLink, findingText } from './diagnosis-text';

export function FindingView({ d }: { d: Finding }) {
  const { t } = useT();
  const text = findingText(t, d);
  return (
    <li className={`finding ${d.severity}`} data-testid={`diagnosis-${d.rule}`} data-rule={d.rule} data-severity={d.severity}>
      <h3>
        <span className="badge">{t(`diag.severity.${d.severity}`)}</span> {text.title}
      </h3>
      <ul className="evidence" aria-label={t('diag.evidence')}>
        {d.evidence.map((e, i) => (
          <li key={i} data-code={e.code}>
            <a
              href={`#${anchorOf(e.chart)}`}
              onClick={(ev) => {
                ev.preventDefault();
                focusTarget(anchorOf(e.chart));
              }}
            >
              {evidenceLink(t, e.chart, e.steps)}
            </a>
            : {text.evidence[i]}
          </li>
        ))}
      </ul>
      <p>
        <strong>{t('diag.why')}</strong> {text.why}
      </p>
      <p className="try">
        <strong>{t('diag.try')}</strong>
      </p>
      <ul className="try-list">
        {d.tryThis.map((x, i) => (
          <li key={x.code} data-code={x.code}>
            {text.tryThis[i]}
          </li>
        ))}
      </ul>
    </li>
  );
}

export function Diagnosis() {
  const { t } = useT();
  const history = useStore((s) => s.history);
  const evalHistory = useStore((s) => s.evalHistory);
  const args = useStore((s) => s.args);
  const info = useStore((s) => s.dataset.info);
  const frontier = useStore((s) => s.frontierRuns);
  const run = useStore((s) => s.run);
  const findings = useMemo(() => diagnose(diagnosisInput(useStore.getState())), [history, evalHistory, args, info, frontier, run.phase, run.error]);
  const steps = history.at(-1)?.step ?? 0;
  const alarms = findings.filter((d) => d.severity !== 'note').length;
  return (
    <section className="panel diagnosis" aria-labelledby="diagnosis-title" data-testid="diagnosis" data-count={findings.length} data-alarms={alarms}>
      <h2 id="diagnosis-title">{t('diag.title')}</h2>
      <div aria-live="polite">
        {alarms === 0 && (
          <p className="muted" data-testid="diagnosis-none">
            {steps === 0 && !info
              ? t('diag.empty')
              : steps
                ? t('diag.noAlarmAfter', { steps: fmtInt(steps) })
                : t('diag.noAlarm')}
          </p>
        )}
        {findings.length > 0 && (
          <ul className="findings">
            {findings.map((d) => (
              <FindingView key={d.rule} d={d} />
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
