// Each eval pair as a point: reward margin (x) against the weight the run's loss gives it (y): for DPO
// sigma(r_rejected - r_chosen), for the other kinds -(1/beta) dLoss/dh. Wrongly ordered pairs get the largest.
import { CartesianGrid, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import type { PairRecord } from '../../dpo/trainer';
import { fmtNum, fmtTick } from '../history';
import { OneUpdate } from '../explain/OneUpdate';
import { previousPairs } from '../explain/previous-pairs';
import { Tex } from '../explain/Tex';
import { TokenView } from '../explain/TokenView';
import { Trans } from 'react-i18next';
import { i18n, useT } from '../i18n';
import { selectPair, useStore } from '../store';

export function PairScatter() {
  const { t } = useT();
  const pairs = useStore((s) => s.pairs);
  const selected = useStore((s) => s.selectedPair);
  const rows = useStore((s) => s.dataset.info?.evalRows);
  const evalStep = useStore((s) => s.evalHistory.at(-1)?.step);
  const pieces = useStore((s) => s.dataset.info?.tokenPieces);
  const args = useStore((s) => s.args);
  const right = pairs.filter((p) => p.margin > 0);
  const wrong = pairs.filter((p) => p.margin <= 0);
  const sel = pairs.find((p) => p.index === selected);
  const text = sel && rows?.[sel.index];
  const worst = [...pairs].sort((a, b) => b.weight - a.weight).slice(0, 8);
  // the weights are the run's loss's (PairRecord.weight: -(1/beta) dLoss/dh); only DPO's is sigma(r_l - r_w) in [0, 1]
  const isDpo = String(args.loss_type) === 'sigmoid' && !args.rpo_alpha && !(args as { use_weighting?: boolean }).use_weighting;
  const weightTex = isDpo ? '\\sigma(r_l - r_w)' : `-\\tfrac{1}{\\beta}\\,\\partial L/\\partial h`;
  const onClick = (d: unknown) => {
    const p = (d as { payload?: PairRecord }).payload ?? (d as PairRecord);
    if (p && typeof p.index === 'number') selectPair(p.index);
  };
  return (
    <section className="panel" aria-labelledby="pairs-title">
      <h2 id="pairs-title">{t('pairs.title')}</h2>
      <p className="hint">
        <Trans i18n={i18n} i18nKey={isDpo ? 'pairs.hintDpo' : 'pairs.hintOther'} values={{ loss: String(args.loss_type) }} components={{ w: <Tex tex={weightTex} /> }} />
      </p>
      {pairs.length === 0 ? (
        <p className="muted">{t('pairs.empty')}</p>
      ) : (
        <div className="pairs">
          <figure className="chart" aria-labelledby="pairs-fig" data-testid="pair-scatter">
            <h3 id="pairs-fig">{t('pairs.figTitle', { step: evalStep })}</h3>
            <div className="chart-area" aria-hidden="true">
              <ResponsiveContainer width="100%" height={230}>
                <ScatterChart margin={{ top: 6, right: 12, bottom: 14, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
                  <XAxis dataKey="margin" type="number" name="margin" tick={{ fontSize: 11 }} tickFormatter={fmtTick} label={{ value: t('pairs.xLabel'), position: 'insideBottom', offset: -8, fontSize: 11 }} />
                  <YAxis dataKey="weight" type="number" name="weight" domain={isDpo ? [0, 1] : ['auto', 'auto']} tick={{ fontSize: 11 }} width={40} />
                  <ZAxis range={[36, 36]} />
                  <ReferenceLine x={0} stroke="#94a3b8" />
                  <Tooltip formatter={(v) => fmtNum(Number(v))} isAnimationActive={false} />
                  <Scatter name={t('pairs.right')} data={right} fill="#16a34a" onClick={onClick} cursor="pointer" isAnimationActive={false} />
                  <Scatter name={t('pairs.wrong')} data={wrong} fill="#dc2626" onClick={onClick} cursor="pointer" isAnimationActive={false} />
                </ScatterChart>
              </ResponsiveContainer>
            </div>
            <figcaption className="chart-alt" data-testid="pair-scatter-alt" data-points={pairs.length}>
              {t('pairs.alt', { n: pairs.length, right: right.length, wrong: wrong.length, weight: fmtNum(pairs.reduce((a, p) => a + p.weight, 0) / pairs.length) })}
            </figcaption>
          </figure>
          <div>
            <h3>{t('pairs.largest')}</h3>
            <ul className="pair-list">
              {worst.map((p) => (
                <li key={p.index}>
                  <button type="button" className={p.index === selected ? 'link active' : 'link'} onClick={() => selectPair(p.index)}>
                    {t('pairs.item', { n: p.index + 1, margin: fmtNum(p.margin), weight: p.weight.toFixed(3) })}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        </div>
      )}
      {sel && (
        <div className="pair-detail" data-testid="pair-detail" aria-live="polite">
          <h3>{t('pairs.pair', { n: sel.index + 1 })}</h3>
          <table className="logps">
            <thead>
              <tr>
                <th scope="col"></th>
                <th scope="col">{t('pairs.logpiPolicy')}</th>
                <th scope="col">log pi_ref</th>
                <th scope="col">{t('pairs.reward')}</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">{t('chart.label.chosen')}</th>
                <td>{fmtNum(sel.policyChosen)}</td>
                <td>{fmtNum(sel.referenceChosen)}</td>
                <td>{fmtNum(sel.rewardChosen)}</td>
              </tr>
              <tr>
                <th scope="row">{t('chart.label.rejected')}</th>
                <td>{fmtNum(sel.policyRejected)}</td>
                <td>{fmtNum(sel.referenceRejected)}</td>
                <td>{fmtNum(sel.rewardRejected)}</td>
              </tr>
            </tbody>
          </table>
          <p>
            {t('pairs.marginLabel', { margin: fmtNum(sel.margin) })} <Tex tex={weightTex} /> = {sel.weight.toFixed(4)}
          </p>
          <TokenView pair={sel} pieces={pieces ?? {}} referenceFree={args.reference_free} step={evalStep} />
          <OneUpdate pair={sel} prev={previousPairs()} step={evalStep} kind={args.loss_type} beta={args.beta} labelSmoothing={args.label_smoothing} weights={(args as { loss_weights?: number[] | null }).loss_weights} />
          {text && (
            <div className="texts">
              <p>
                <strong>{t('samples.promptLabel')}</strong> {text.prompt}
              </p>
              <p className="chosen">
                <strong>{t('pairs.chosenLabel')}</strong> {text.chosen}
              </p>
              <p className="rejected">
                <strong>{t('pairs.rejectedLabel')}</strong> {text.rejected}
              </p>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
