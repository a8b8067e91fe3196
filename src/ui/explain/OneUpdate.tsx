// One update by hand, for the selected pair: the four log-probs, h, beta h, the loss and the gradient
// weight at the previous evaluation (or the start, where the policy is the reference) and now.
import type { PairRecord } from '../../dpo/trainer';
import { fmtNum } from '../history';
import type { PreviousPairs } from './previous-pairs';
import { pairBefore } from './previous-pairs';
import { updateRows } from './one-update';
import { Tex } from './Tex';

const delta = (v: number) => (Math.abs(v) < 5e-5 ? '0' : `${v > 0 ? '+' : '−'}${fmtNum(Math.abs(v))}`);

export function OneUpdate({ pair, prev, step, kind, beta, labelSmoothing, weights }: { pair: PairRecord; prev: PreviousPairs; step: number | undefined; kind: string; beta: number; labelSmoothing: number; weights?: readonly number[] | null }) {
  const before = pairBefore(pair, prev);
  const rows = updateRows(before, pair, kind, beta, labelSmoothing, weights);
  const n = step !== undefined ? step - prev.step : undefined;
  return (
    <section className="one-update" aria-labelledby="one-update-title" data-testid="one-update">
      <h3 id="one-update-title">One update by hand</h3>
      <p className="hint">
        In the order the trainer computes them. h = (log pi(y_w) − log pi_ref(y_w)) − (log pi(y_l) − log pi_ref(y_l)); the {kind} loss of beta h; its gradient
        weight w, how hard this pair pulls. {prev.step === 0 ? 'Before: the start, where the policy is the reference (h = 0).' : `Before: the evaluation at step ${prev.step}.`}{' '}
        {n !== undefined && n !== 1 ? `${n} optimizer updates lie between the two columns (eval_steps = 1 shows exactly one).` : n === 1 ? 'Exactly one optimizer update lies between the two columns.' : ''}
      </p>
      <table className="logps update-table">
        <thead>
          <tr>
            <th scope="col">quantity</th>
            <th scope="col">before (step {prev.step})</th>
            <th scope="col">after (step {step ?? '?'})</th>
            <th scope="col">moved</th>
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
