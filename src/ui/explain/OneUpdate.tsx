// One update by hand, for the selected pair: the four log-probs, h, beta h, the loss and the gradient
// weight at the previous evaluation (or the start, where the policy is the reference) and now.
import type { PairRecord } from '../../dpo/trainer';
import { fmtNum } from '../history';
import type { PreviousPairs } from './previous-pairs';
import { pairBefore } from './previous-pairs';
import { updateRows } from './one-update';
import { Tex } from './Tex';
import { useT } from '../i18n';

const delta = (v: number) => (Math.abs(v) < 5e-5 ? '0' : `${v > 0 ? '+' : '−'}${fmtNum(Math.abs(v))}`);

export function OneUpdate({ pair, prev, step, kind, beta, labelSmoothing, weights }: { pair: PairRecord; prev: PreviousPairs; step: number | undefined; kind: string; beta: number; labelSmoothing: number; weights?: readonly number[] | null }) {
  const { t } = useT();
  const before = pairBefore(pair, prev);
  const rows = updateRows(before, pair, kind, beta, labelSmoothing, weights);
  const n = step !== undefined ? step - prev.step : undefined;
  return (
    <section className="one-update" aria-labelledby="one-update-title" data-testid="one-update">
      <h3 id="one-update-title">{t('update.title')}</h3>
      <p className="hint">
        {t('update.hint', { kind })} {prev.step === 0 ? t('update.beforeStart') : t('update.beforeStep', { step: prev.step })}{' '}
        {n !== undefined && n !== 1 ? t('update.many', { n }) : n === 1 ? t('update.one') : ''}
      </p>
      <table className="logps update-table">
        <thead>
          <tr>
            <th scope="col">{t('update.quantity')}</th>
            <th scope="col">{t('update.before', { step: prev.step })}</th>
            <th scope="col">{t('update.after', { step: step ?? '?' })}</th>
            <th scope="col">{t('update.moved')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-key={r.key}>
              <th scope="row">
                <span className="sr-only">{r.label}</span>
                <Tex tex={r.tex} hidden />
              </th>
              <td>{fmtNum(r.before)}</td>
              <td>{fmtNum(r.after)}</td>
              <td>{delta(r.after - r.before)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
