// The same prompt sampled from the reference and from the policy (same seed), side by side.
import { useState } from 'react';
import { useT } from '../i18n';
import { demoSelected, sample, useStore } from '../store';
import { RewardBadge, SentimentText, trueReward } from '../demo/SentimentText';

/** A completion as text, or (built-in demo) with words tinted by sentiment and its true reward. */
function Completion({ title, text, demo }: { title: string; text: string | null; demo: boolean }) {
  return (
    <h3>
      {title} {demo && text !== null && <RewardBadge value={trueReward(text)} />}
    </h3>
  );
}

export function Samples() {
  const { t } = useT();
  const prompts = useStore((s) => s.heldoutPrompts);
  const samples = useStore((s) => s.samples);
  const sampling = useStore((s) => s.sampling);
  const error = useStore((s) => s.sampleError);
  const demo = useStore(demoSelected);
  const hasTrainer = useStore((s) => !['idle', 'starting', 'error'].includes(s.run.phase));
  const [free, setFree] = useState('');
  const [seed, setSeed] = useState(1);
  const [maxNew, setMaxNew] = useState(32);
  const [temperature, setTemperature] = useState(1);
  const opts = { seed, maxNewTokens: maxNew, temperature, topK: 0, topP: 1 };
  const heldout = prompts.slice(0, 3);
  return (
    <section className="panel" aria-labelledby="samples-title">
      <h2 id="samples-title">{t('samples.title')}</h2>
      <p className="hint">{t('samples.hint')}</p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (free.trim()) void sample([free], opts);
        }}
      >
        <label className="grow">
          {t('samples.prompt')}
          <input value={free} onChange={(e) => setFree(e.target.value)} placeholder={prompts[0] ?? t('samples.placeholder')} translate={prompts[0] ? 'no' : undefined} />
        </label>
        <label>
          {t('samples.seed')}
          <input type="number" value={seed} onChange={(e) => setSeed(Math.floor(Number(e.target.value)) || 0)} style={{ width: '5em' }} />
        </label>
        <label>
          {t('samples.newTokens')}
          <input type="number" min={1} max={256} value={maxNew} onChange={(e) => setMaxNew(Math.max(1, Math.min(256, Math.floor(Number(e.target.value)) || 1)))} style={{ width: '5em' }} />
        </label>
        <label>
          {t('samples.temperature')}
          <input type="number" min={0} step={0.1} value={temperature} onChange={(e) => setTemperature(Math.max(0, Number(e.target.value)))} style={{ width: '5em' }} />
        </label>
        <button type="submit" disabled={!hasTrainer || sampling || !free.trim()}>
          {t('samples.sample')}
        </button>
        <button type="button" disabled={!hasTrainer || sampling || heldout.length === 0} onClick={() => void sample(heldout, opts)}>
          {t('samples.heldout', { n: heldout.length })}
        </button>
      </form>
      {!hasTrainer && <p className="muted">{t('samples.needRun')}</p>}
      {sampling && <p className="muted">{t('samples.sampling')}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {samples.length > 0 && (
        <div className="samples" data-testid="samples">
          {samples.map((s, i) => (
            <div className="sample" key={i}>
              <p className="prompt">
                <strong>{t('samples.promptLabel')}</strong> <span translate="no">{s.prompt}</span>
              </p>
              <div className="side-by-side">
                <div>
                  <Completion title={t('samples.reference')} text={s.reference} demo={demo} />
                  <p translate={s.reference === null ? undefined : 'no'}>{s.reference === null ? <em>{s.referenceNoteCode ? t(`samples.referenceNote.${s.referenceNoteCode}`) : s.referenceNote}</em> : demo ? <SentimentText text={s.reference} /> : s.reference}</p>
                </div>
                <div>
                  <Completion title={t('samples.policy')} text={s.policy} demo={demo} />
                  <p translate="no">{demo ? <SentimentText text={s.policy} /> : s.policy}</p>
                </div>
              </div>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
