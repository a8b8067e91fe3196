// The frontier probe's samples: reference and policy continue the same held-out prompt with the same
// seed; words tinted by sentiment, each completion with its true reward r*. Updated at every frontier
// measurement, so one watches the policy's texts turn positive while it trains.
import { fmtNum } from '../history';
import { useStore } from '../store';
import { RewardBadge, SentimentText } from './SentimentText';

export function DemoSamples() {
  const runs = useStore((s) => s.frontierRuns);
  const runId = useStore((s) => s.run.id);
  const run = runs.find((r) => r.id === runId) ?? runs.at(-1);
  const p = run?.points.at(-1);
  return (
    <section className="panel" aria-labelledby="demo-samples-title">
      <h2 id="demo-samples-title">Reference vs policy on held-out prompts</h2>
      <p className="hint">
        Same prompt, same random seed; <span className="sent pos">positive</span> and <span className="sent neg">negative</span> words are tinted, and each
        completion shows its true reward r* (mean word sentiment, −1 to +1).
      </p>
      {!p ? (
        <p className="muted">The samples appear with the first frontier measurement (at step 0 of a run of the demo).</p>
      ) : (
        <div data-testid="demo-samples" data-step={p.step}>
          <p className="small">
            {run!.label}, step {p.step}: mean r* of the policy <strong>{fmtNum(p.reward)}</strong> vs the reference <strong>{fmtNum(p.referenceReward)}</strong> over{' '}
            {p.n} completions; KL {fmtNum(p.kl)} nats (measured in {(p.ms / 1000).toFixed(1)} s).
          </p>
          {p.samples.map((s, i) => (
            <div className="sample" key={i}>
              <p className="prompt">
                <strong>Prompt:</strong> {s.prompt}
              </p>
              <div className="side-by-side">
                <div>
                  <h3>
                    Reference <RewardBadge value={s.referenceReward} />
                  </h3>
                  <p>
                    <SentimentText text={s.reference} />
                  </p>
                </div>
                <div>
                  <h3>
                    Policy <RewardBadge value={s.policyReward} />
                  </h3>
                  <p>
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
