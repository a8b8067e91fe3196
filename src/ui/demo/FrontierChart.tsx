// The reward-vs-KL frontier (the DPO paper's Figure 2 on the demo's review world): each run's policy
// measured on held-out prompts every N steps, mean true reward r* (y) against KL(policy || reference)
// (x), one curve per run; the reference is the point (0, r*_ref). The beta sweep trains several short
// runs one after another and draws them all on this chart.
import { useState } from 'react';
import { CartesianGrid, Legend, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { FrontierMeasurement } from '../../worker/protocol';
import { fmtNum, fmtTick } from '../history';
import { t as tr, useT } from '../i18n';
import { betaSweep, cancelSweep, canTrain, clearFrontier, parseBetas, useStore, type FrontierRun } from '../store';
import { lossSweep, parseLossTypes, sweepLabel } from '../store/sweep';
import { methodName } from '../store/method-name';
import { runColor } from './colors';

export const DEFAULT_SWEEP = '0.05, 0.1, 0.3, 1';
export const DEFAULT_LOSS_SWEEP = 'sigmoid, simpo, orpo, kto';

/** The text alternative: each run's latest point, and the reference. */
export function frontierAlt(runs: readonly FrontierRun[]): string {
  const withPoints = runs.filter((r) => r.points.length > 0);
  if (withPoints.length === 0) return tr('frontier.altNone');
  const ref = withPoints[0].points[0].referenceReward;
  const parts = withPoints.map((r) => {
    const p = r.points.at(-1)!;
    return tr('frontier.altRun', { label: r.label, step: p.step, reward: fmtNum(p.reward), kl: fmtNum(p.kl), n: r.points.length });
  });
  return tr('frontier.alt', { ref: fmtNum(ref), parts: parts.join('; ') });
}

/** r* gained over the reference per nat of KL at a run's latest point (NaN before it has moved: KL 0). */
export function gainPerNat(p: FrontierMeasurement): number {
  return p.kl > 0 ? (p.reward - p.referenceReward) / p.kl : NaN;
}

/** The run whose latest point moves r* most per nat of KL, or null when no run has moved yet. */
export function bestPerNat(runs: readonly FrontierRun[]): { run: FrontierRun; point: FrontierMeasurement; perNat: number } | null {
  let best: { run: FrontierRun; point: FrontierMeasurement; perNat: number } | null = null;
  for (const run of runs) {
    const point = run.points.at(-1);
    if (!point) continue;
    const perNat = gainPerNat(point);
    if (Number.isFinite(perNat) && (!best || perNat > best.perNat)) best = { run, point, perNat };
  }
  return best;
}

interface Dot {
  kl: number;
  reward: number;
  step: number;
  stderr: number;
}

const dots = (points: readonly FrontierMeasurement[]): Dot[] => points.map((p) => ({ kl: p.kl, reward: p.reward, step: p.step, stderr: p.rewardStderr }));

export function FrontierChart() {
  const { t } = useT();
  const live = useStore((s) => s.frontierRuns);
  const saved = useStore((s) => s.runs);
  const compare = useStore((s) => s.compare);
  const sweep = useStore((s) => s.sweep);
  const phase = useStore((s) => s.run.phase);
  const maxSteps = useStore((s) => s.args.max_steps);
  const why = useStore(canTrain);
  const [betaText, setBetaText] = useState(DEFAULT_SWEEP);
  const [lossText, setLossText] = useState(DEFAULT_LOSS_SWEEP);
  const beta = useStore((s) => s.args.beta);
  const [steps, setSteps] = useState(String(maxSteps > 0 ? maxSteps : 40));
  const [error, setError] = useState<string | null>(null);
  // saved runs ticked for comparison in the runs list join the chart
  const extra: FrontierRun[] = saved
    .filter((r) => compare.includes(r.id) && r.frontier?.length && !live.some((l) => l.id === r.id))
    .map((r) => ({ id: r.id, label: `saved: beta ${r.args.beta} ${methodName(r.args)}`, beta: r.args.beta, lossType: r.args.loss_type, points: r.frontier! }));
  const runs = [...live, ...extra];
  const total = runs.reduce((a, r) => a + r.points.length, 0);
  const ref = runs.find((r) => r.points.length)?.points[0].referenceReward;
  const busy = phase === 'training' || phase === 'pausing' || phase === 'starting';
  const best = bestPerNat(runs);
  const startSweep = () => {
    const b = parseBetas(betaText);
    const n = Number(steps);
    if (typeof b === 'string') return setError(b);
    if (!(Number.isInteger(n) && n >= 1 && n <= 10000)) return setError(t('frontier.badSteps', { steps }));
    setError(null);
    void betaSweep(b, n);
  };
  const startLossSweep = () => {
    const k = parseLossTypes(lossText);
    const n = Number(steps);
    if (typeof k === 'string') return setError(k);
    if (!(Number.isInteger(n) && n >= 1 && n <= 10000)) return setError(t('frontier.badSteps', { steps }));
    setError(null);
    void lossSweep(k, n);
  };
  return (
    <section className="panel" id="frontier-panel" tabIndex={-1} aria-labelledby="frontier-title" data-testid="frontier-panel">
      <h2 id="frontier-title">{t('frontier.title')}</h2>
      <p className="hint">{t('frontier.hint')}</p>
      <figure className="chart" aria-labelledby="frontier-fig" data-testid="frontier-chart">
        <h3 id="frontier-fig">{t('frontier.figTitle')}</h3>
        <div className="chart-area" aria-hidden="true">
          <ResponsiveContainer width="100%" height={280}>
            <ScatterChart margin={{ top: 8, right: 16, bottom: 16, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
              <XAxis dataKey="kl" type="number" name="KL" domain={[0, 'auto']} tick={{ fontSize: 11 }} tickFormatter={fmtTick} label={{ value: t('frontier.xLabel'), position: 'insideBottom', offset: -8, fontSize: 11 }} />
              <YAxis dataKey="reward" type="number" name="r*" domain={['auto', 'auto']} tick={{ fontSize: 11 }} width={48} tickFormatter={fmtTick} />
              {ref !== undefined && <ReferenceLine y={ref} stroke="#94a3b8" strokeDasharray="4 4" />}
              <Tooltip formatter={(v) => fmtNum(Number(v))} isAnimationActive={false} />
              <Legend verticalAlign="top" wrapperStyle={{ fontSize: 12, paddingBottom: 4 }} />
              {ref !== undefined && <Scatter name={t('frontier.reference')} data={[{ kl: 0, reward: ref, step: 0 }]} fill="#111827" shape="star" isAnimationActive={false} />}
              {runs.map((r, i) => (
                <Scatter key={r.id} name={r.label} data={dots(r.points)} fill={runColor(i)} line={{ stroke: runColor(i), strokeWidth: 2 }} isAnimationActive={false} />
              ))}
            </ScatterChart>
          </ResponsiveContainer>
        </div>
        <figcaption className="chart-alt" data-testid="frontier-alt" data-points={total} data-runs={runs.filter((r) => r.points.length).length}>
          {frontierAlt(runs)}
        </figcaption>
      </figure>
      {runs.length > 0 && (
        <table className="frontier-table">
          <caption>{t('frontier.tableCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('frontier.colRun')}</th>
              <th scope="col">{t('frontier.colStep')}</th>
              <th scope="col">{t('frontier.colPolicy')}</th>
              <th scope="col">{t('frontier.colReference')}</th>
              <th scope="col">KL (nats)</th>
              <th scope="col">{t('frontier.colPerNat')}</th>
            </tr>
          </thead>
          <tbody>
            {runs
              .filter((r) => r.points.length)
              .map((r, i) => {
                const p = r.points.at(-1)!;
                const perNat = gainPerNat(p);
                return (
                  <tr key={r.id} data-testid="frontier-row" data-label={r.label} data-step={p.step} data-reward={p.reward} data-ref={p.referenceReward} data-kl={p.kl} data-per-nat={perNat} data-points={r.points.length}>
                    <th scope="row">
                      <span className="swatch" style={{ background: runColor(i) }} aria-hidden="true" /> {r.label}
                    </th>
                    <td>{p.step}</td>
                    <td>
                      {fmtNum(p.reward)} ± {fmtNum(p.rewardStderr)}
                    </td>
                    <td>{fmtNum(p.referenceReward)}</td>
                    <td>{fmtNum(p.kl)}</td>
                    <td>{Number.isFinite(perNat) ? fmtNum(perNat) : '-'}</td>
                  </tr>
                );
              })}
          </tbody>
        </table>
      )}
      {runs.some((r) => r.points.length) && (
        <p className="status" data-testid="frontier-best">
          {best
            ? t('frontier.best', { label: best.run.label, perNat: fmtNum(best.perNat), delta: fmtNum(best.point.reward - best.point.referenceReward), kl: fmtNum(best.point.kl), step: best.point.step })
            : t('frontier.bestNone')}
        </p>
      )}
      <form
        className="row sweep"
        aria-label={t('frontier.betaSweep')}
        onSubmit={(e) => {
          e.preventDefault();
          startSweep();
        }}
      >
        <label className="grow">
          {t('frontier.betas')}
          <input value={betaText} onChange={(e) => setBetaText(e.target.value)} aria-describedby="sweep-help" />
        </label>
        <label>
          {t('frontier.steps')}
          <input type="number" min={1} value={steps} onChange={(e) => setSteps(e.target.value)} style={{ width: '6em' }} />
        </label>
        {sweep?.active ? (
          <button type="button" onClick={cancelSweep}>
            {t('frontier.stopSweep')}
          </button>
        ) : (
          <button type="submit" disabled={busy || why !== null} title={why ?? t('frontier.betaSweepTitle')}>
            {t('frontier.betaSweep')}
          </button>
        )}
        <button type="button" className="secondary" onClick={clearFrontier} disabled={busy || live.length === 0}>
          {t('frontier.clear')}
        </button>
      </form>
      <p id="sweep-help" className="hint">
        {t('frontier.sweepHelp')}
      </p>
      <form
        className="row sweep"
        aria-label={t('frontier.compareLoss')}
        onSubmit={(e) => {
          e.preventDefault();
          startLossSweep();
        }}
      >
        <label className="grow">
          {t('frontier.lossTypes')}
          <input value={lossText} onChange={(e) => setLossText(e.target.value)} aria-describedby="loss-sweep-help" />
        </label>
        {!sweep?.active && (
          <button type="submit" disabled={busy || why !== null} title={why ?? t('frontier.compareLossTitle')}>
            {t('frontier.compareLoss')}
          </button>
        )}
      </form>
      <p id="loss-sweep-help" className="hint">
        {t('frontier.lossHelp', { beta })}
      </p>
      {sweep?.active && (
        <p className="status" role="status" data-testid="sweep-status">
          {t('frontier.sweepStatus', { i: sweep.index + 1, n: sweep.betas.length, label: sweepLabel(sweep.index) || `beta ${sweep.betas[sweep.index]}` })}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
