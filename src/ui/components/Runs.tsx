// Runs saved in IndexedDB: list with their sizes and the storage used and left, continue a paused one
// (or one from a downloaded state file), compare several on one chart, delete (after a confirm).
import { useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { downsample, fmtNum, fmtTick, latest } from '../history';
import { fmtDateTime, fmtSize } from '../format';
import { t as tr, useT } from '../i18n';
import { type RunRecord } from '../runs';
import { exportSavedRun, loadStateFile, removeRun, resumeSaved, toggleCompare, useStore } from '../store';

/** Bytes a saved run takes in IndexedDB: its record and its trainer state. */
export const runBytes = (r: RunRecord) => (r.recordBytes ?? 0) + (r.hasState ? r.stateBytes : 0);

/** "Storage: 1.2 MiB used of 512.0 MiB (510.8 MiB left)", from navigator.storage.estimate. */
export function storageLine(u: { usage: number; quota: number } | null): string {
  if (!u) return tr('runs.storageUnknown');
  return tr('runs.storage', { used: fmtSize(u.usage), quota: fmtSize(u.quota), left: fmtSize(Math.max(0, u.quota - u.usage)) });
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#7c3aed', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
const METRICS = ['rewards/margins', 'loss', 'rewards/accuracies', 'kl/token_mean_exact', 'logps/chosen', 'logps/rejected', 'rewards/chosen', 'rewards/rejected', 'grad_norm'];

export function Runs() {
  const { t } = useT();
  const runs = useStore((s) => s.runs);
  const compare = useStore((s) => s.compare);
  const current = useStore((s) => s.run.id);
  const busy = useStore((s) => ['starting', 'training', 'pausing'].includes(s.run.phase));
  const storage = useStore((s) => s.storage);
  const storageError = useStore((s) => s.storageError);
  const [metric, setMetric] = useState('rewards/margins');
  const [confirming, setConfirming] = useState<string | null>(null);
  // after "Keep" (or Escape) the focus goes back to the run's Delete button, not to the page's top
  const [refocus, setRefocus] = useState<string | null>(null);
  const keep = (id: string) => {
    setConfirming(null);
    setRefocus(id);
  };
  const chosen = runs.filter((r) => compare.includes(r.id));
  return (
    <section className="panel" aria-labelledby="runs-title">
      <h2 id="runs-title">{t('runs.title')}</h2>
      <p className="muted small" data-testid="storage-use">
        {storageLine(storage)}
      </p>
      {storageError && (
        <p className="error" role="alert" data-testid="storage-error">
          {storageError}
        </p>
      )}
      <p>
        <label>
          {t('runs.loadState')}{' '}
          <input
            type="file"
            accept=".dpostate"
            disabled={busy}
            aria-label={t('runs.loadStateAria')}
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) void loadStateFile(f);
            }}
          />
        </label>
      </p>
      {runs.length === 0 ? (
        <p className="muted">{t('runs.empty')}</p>
      ) : (
        <div className="table-wrap">
          <table className="runs" data-testid="runs">
            <thead>
              <tr>
                <th scope="col">{t('runs.colCompare')}</th>
                <th scope="col">{t('runs.colRun')}</th>
                <th scope="col">{t('runs.colStatus')}</th>
                <th scope="col">{t('runs.colStep')}</th>
                <th scope="col">{t('runs.colSize')}</th>
                <th scope="col">{t('runs.colMargin')}</th>
                <th scope="col">{t('runs.colAccuracy')}</th>
                <th scope="col">{t('runs.colActions')}</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => {
                const last = (k: string) => fmtNum(latest(r.history, k)?.[k]);
                return (
                  <tr key={r.id} className={r.id === current ? 'current' : ''} data-run-id={r.id} data-status={r.status} data-step={r.step}>
                    <td>
                      <input type="checkbox" aria-label={t('runs.compareAria', { name: r.name })} checked={compare.includes(r.id)} onChange={() => toggleCompare(r.id)} />
                    </td>
                    <td>
                      <span translate="no">{r.name}</span>
                      <div className="muted small">
                        {fmtDateTime(r.createdAt)} · <span translate="no">{r.dataset.label}</span>
                        {r.hasState ? t('runs.stateOf', { step: r.stateStep ?? r.step }) : t('runs.noState')}
                      </div>
                    </td>
                    <td>{r.id === current || r.status !== 'training' ? t(`phase.${r.status}`, { defaultValue: r.status }) : t('runs.interrupted')}</td>
                    <td>
                      {r.step} / {r.totalSteps}
                    </td>
                    <td data-testid="run-size">{fmtSize(runBytes(r))}</td>
                    <td>{last('rewards/margins')}</td>
                    <td>{last('rewards/accuracies')}</td>
                    <td className="actions">
                      {r.id !== current && r.hasState && (r.stateStep ?? r.step) < r.totalSteps && r.status !== 'finished' && (
                        <button type="button" onClick={() => void resumeSaved(r.id)} disabled={busy} aria-label={t('runs.continueAria', { name: r.name, step: r.stateStep ?? r.step })}>
                          {t('runs.continue')}
                        </button>
                      )}
                      <button type="button" className="secondary" onClick={() => exportSavedRun(r)} aria-label={t('runs.metricsAria', { name: r.name })}>
                        {t('runs.metrics')}
                      </button>
                      {confirming === r.id ? (
                        <span className="confirm" role="group" aria-label={t('runs.deleteAsk', { name: r.name })} data-testid="delete-confirm" onKeyDown={(e) => e.key === 'Escape' && keep(r.id)}>
                          {t('runs.deleteWhat', { size: fmtSize(runBytes(r)) })}{' '}
                          <button
                            type="button"
                            className="danger"
                            autoFocus
                            onClick={() => {
                              setConfirming(null);
                              void removeRun(r.id);
                            }}
                          >
                            {t('runs.yesDelete')}
                          </button>{' '}
                          <button type="button" className="secondary" onClick={() => keep(r.id)}>
                            {t('runs.keep')}
                          </button>
                        </span>
                      ) : (
                        <button type="button" className="danger" autoFocus={refocus === r.id} onClick={() => setConfirming(r.id)} disabled={r.id === current && busy} aria-label={t('runs.deleteAria', { name: r.name })}>
                          {t('runs.delete')}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {chosen.length > 0 && (
        <figure className="chart" aria-labelledby="compare-title" data-testid="compare-chart">
          <h3 id="compare-title">
            {t('runs.compare')}{' '}
            <label>
              {t('runs.metric')}{' '}
              <select value={metric} onChange={(e) => setMetric(e.target.value)}>
                {METRICS.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            </label>
          </h3>
          <div className="chart-area" aria-hidden="true">
            <ResponsiveContainer width="100%" height={240}>
              <LineChart margin={{ top: 6, right: 12, bottom: 0, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
                <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tick={{ fontSize: 11 }} allowDuplicatedCategory={false} />
                <YAxis tick={{ fontSize: 11 }} width={52} tickFormatter={fmtTick} />
                <Tooltip formatter={(v) => fmtNum(Number(v))} isAnimationActive={false} />
                <Legend wrapperStyle={{ fontSize: 12 }} />
                {chosen.map((r, i) => (
                  <Line key={r.id} data={downsample(r.history, 400)} dataKey={metric} name={r.name} stroke={COLORS[i % COLORS.length]} dot={false} strokeWidth={2} isAnimationActive={false} connectNulls />
                ))}
              </LineChart>
            </ResponsiveContainer>
          </div>
          <figcaption className="chart-alt">
            {chosen.map((r) => t('runs.compareAlt', { name: r.name, metric, value: fmtNum(latest(r.history, metric)?.[metric]), step: latest(r.history, metric)?.step ?? '-' })).join('; ')}
          </figcaption>
        </figure>
      )}
    </section>
  );
}
