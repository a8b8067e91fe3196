// The frontier probe's samples: reference and policy continue the same held-out prompt with the same
// seed; words tinted by sentiment, each completion with its true reward r*. Updated at every frontier
// measurement, so one watches the policy's texts turn positive while it trains.
import { fmtNum } from '../history';
import { Trans } from 'react-i18next';
import { i18n, useT } from '../i18n';
import { useStore } from '../store';
import { RewardBadge, SentimentText } from './SentimentText';

export function DemoSamples() {
  const { t } = useT();
  const runs = useStore((s) => s.frontierRuns);
  const runId = useStore((s) => s.run.id);
  const run = runs.find((r) => r.id === runId) ?? runs.at(-1);
  const p = run?.points.at(-1);
  return (
    <section className="panel" aria-labelledby="demo-samples-title">
      <h2 id="demo-samples-title">{t('demoSamples.title')}</h2>
      <p className="hint">
        <Trans i18n={i18n} i18nKey="demoSamples.hint" components={{ pos: <span className="sent pos" />, neg: <span className="sent neg" /> }} />
      </p>
      {!p ? (
        <p className="muted">{t('demoSamples.empty')}</p>
      ) : (
        <div data-testid="demo-samples" data-step={p.step}>
          <p className="small">
            <Trans
              i18n={i18n}
              i18nKey="demoSamples.summary"
              values={{ label: run!.label, step: p.step, policy: fmtNum(p.reward), reference: fmtNum(p.referenceReward), n: p.n, kl: fmtNum(p.kl), secs: (p.ms / 1000).toFixed(1) }}
              components={{ b: <strong /> }}
            />
          </p>
          {p.samples.map((s, i) => (
            <div className="sample" key={i}>
              <p className="prompt">
                <strong>{t('samples.promptLabel')}</strong> <span translate="no">{s.prompt}</span>
              </p>
              <div className="side-by-side">
                <div>
                  <h3>
                    {t('samples.reference')} <RewardBadge value={s.referenceReward} />
                  </h3>
                  <p translate="no">
                    <SentimentText text={s.reference} />
                  </p>
                </div>
                <div>
                  <h3>
                    {t('samples.policy')} <RewardBadge value={s.policyReward} />
                  </h3>
                  <p translate="no">
                    <SentimentText text={s.policy} />
                  </p>
                </div>
              </div>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
