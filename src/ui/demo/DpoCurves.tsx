// "What is DPO doing": the loss and its gradient weight as functions of the margin h (how much more
// the policy, relative to the reference, prefers the chosen answer over the rejected one), for the
// chosen beta and loss type, with the latest evaluated pairs drawn as dots on both curves. Before a
// run the beta slider is free (it sets the next run's beta); during a run it follows the run's beta.
import { memo } from 'react';
import { CartesianGrid, ComposedChart, Line, ReferenceLine, ResponsiveContainer, Scatter, Tooltip, XAxis, YAxis } from 'recharts';
import type { DpoLossKind } from '../../gpu/reference/dpo_loss';
import { LOSS_INFO } from '../params';
import { fmtNum, fmtTick } from '../history';
import { t as tr, useT } from '../i18n';
import { setArg, useStore } from '../store';
import { methodName } from '../store/method-name';
import { curvePoints, curveRange, dotSummary, lossSpecOf, lossStartText, niceTicks, pairDots, pairLoss, type CurvePoint, type PairDot } from './curves';

/** The slider's stops (a free beta typed in the form sits at the nearest one). */
export const BETA_STOPS = [0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3];

/** Index of the stop nearest to beta (in log scale). */
export function nearestStop(beta: number): number {
  let best = 0;
  for (let i = 1; i < BETA_STOPS.length; i++) if (Math.abs(Math.log(BETA_STOPS[i] / beta)) < Math.abs(Math.log(BETA_STOPS[best] / beta))) best = i;
  return best;
}

// the weight w(h) = -(1/beta) dLoss/dh of each kind, the pair moving symmetrically (chosen +h/2, rejected -h/2)
export const WEIGHT_TEXT: Record<DpoLossKind, string> = {
  sigmoid: 'sigma(-beta h) = sigma(r_l - r_w)',
  cdpo: '(1-eps) sigma(-beta h) - eps sigma(beta h)',
  robust: '((1-eps) sigma(-beta h) + eps sigma(beta h)) / (1-2 eps)',
  hinge: '1 where beta h < 1, else 0',
  ipo: '(2/beta)(1/(2 beta) - h): pulls back past h = 1/(2 beta)',
  exo_pair: 'sigma(beta h) sigma(-beta h) times the log-odds gap to the smoothed target: zero at its optimum, negative past it',
  nca_pair: 'each answer on its own: the chosen pulled up until its reward is large, the rejected pushed down',
  bco_pair: '(sigma(-beta h/2) + sigma(-beta h/2)) / 2: each answer classified on its own reward',
  sppo_hard: '(1/beta)(1/beta - h): regresses to h = 1/beta (chosen +1/(2 beta), rejected -1/(2 beta))',
  aot: "cdpo's weight on the sorted batch margins (drawn for one pair)",
  aot_unpaired: "cdpo's weight on sorted chosen vs sorted rejected log-ratios (drawn for one pair)",
  apo_zero: 'sigma\'(beta h/2): strongest near h = 0, both answers moved',
  apo_down: 'both likelihoods pushed down, the rejected harder; weight can be negative where h is small',
  discopop: 'logistic weight for small margins blending into an exponential one (discopop_tau)',
  sft: '0 along h: the NLL of the chosen answer does not depend on the margin',
  sigmoid_norm: 'sigma(-beta h / len) / len (drawn with len = 1)',
};

export function curvesAlt(kind: string, beta: number, dots: readonly PairDot[], step: number | undefined, start?: number): string {
  const s = dotSummary(dots);
  const at0 = start === undefined ? (kind === 'sigmoid' ? 'log 2 = 0.693' : tr('curves.startValue')) : kind === 'sigmoid' ? `log 2 = ${start.toFixed(3)}` : fmtNum(start);
  const head = tr('curves.altHead', { beta: fmtNum(beta), kind, at0 });
  if (s.n === 0) return tr('curves.altNone', { head });
  return tr('curves.alt', { head, n: s.n, step: step ?? '?', right: s.right, wrong: s.n - s.right, h: fmtNum(s.meanH), loss: fmtNum(s.meanLoss), weight: fmtNum(s.meanWeight) });
}

const CurveChart = memo(function CurveChart({ title, curve, dots, y, color, yDomain }: { title: string; curve: CurvePoint[]; dots: PairDot[]; y: 'loss' | 'weight'; color: string; yDomain: [number | 'auto', number | 'auto'] }) {
  const right = dots.filter((d) => d.right);
  const wrong = dots.filter((d) => !d.right);
  return (
    <div className="curve">
      <h3>{title}</h3>
      <div className="chart-area" aria-hidden="true">
        <ResponsiveContainer width="100%" height={200}>
          <ComposedChart margin={{ top: 6, right: 12, bottom: 14, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
            <XAxis dataKey="h" type="number" domain={[curve[0].h, curve[curve.length - 1].h]} ticks={niceTicks(curve[0].h, curve[curve.length - 1].h)} tick={{ fontSize: 11 }} tickFormatter={fmtTick} label={{ value: 'margin h', position: 'insideBottom', offset: -8, fontSize: 11 }} allowDuplicatedCategory={false} />
            <YAxis dataKey={y} type="number" domain={yDomain} tick={{ fontSize: 11 }} width={44} tickFormatter={fmtTick} />
            <ReferenceLine x={0} stroke="#94a3b8" />
            <Tooltip formatter={(v) => fmtNum(Number(v))} labelFormatter={(l) => `h ${fmtNum(Number(l))}`} isAnimationActive={false} />
            <Line data={curve} dataKey={y} stroke={color} dot={false} strokeWidth={2} isAnimationActive={false} name={y} />
            <Scatter data={right} dataKey={y} fill="#16a34a" name="ordered right" isAnimationActive={false} />
            <Scatter data={wrong} dataKey={y} fill="#dc2626" name="ordered wrong" isAnimationActive={false} />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
});

export function DpoCurves() {
  const { t } = useT();
  const args = useStore((s) => s.args);
  const phase = useStore((s) => s.run.phase);
  const pairs = useStore((s) => s.pairs);
  const pairsBeta = useStore((s) => s.pairsBeta);
  const step = useStore((s) => s.evalHistory.at(-1)?.step);
  const running = phase === 'training' || phase === 'pausing' || phase === 'starting' || phase === 'paused';
  const beta = args.beta > 0 ? args.beta : 0.1;
  // CPO / SimPO, ORPO and KTO are not functions of DPO's margin h: DPO's own curves are drawn for comparison
  const other = (args.trainer ?? 'dpo') !== 'dpo';
  const kind = other ? 'sigmoid' : String(args.loss_type);
  const spec = lossSpecOf(other ? { loss_type: 'sigmoid' } : args);
  const kinds = spec.terms.map((t) => t.kind);
  const eps = other ? 0 : args.label_smoothing;
  const dots = other ? [] : pairDots(pairs, pairsBeta, spec, beta, eps);
  const [lo, hi] = curveRange(beta, dots.map((d) => d.h));
  const curve = curvePoints(spec, beta, eps, lo, hi);
  const weightText = kinds.length === 1 ? WEIGHT_TEXT[kinds[0]] : t('curves.weightedSum', { kinds: kinds.map((k) => `${k}'s`).join(', ') });
  const wMax = Math.max(1, ...curve.map((c) => c.weight));
  const wMin = Math.min(0, ...curve.map((c) => c.weight));
  return (
    <section className="panel" aria-labelledby="curves-title" data-testid="curves-panel">
      <h2 id="curves-title">{t('curves.title')}</h2>
      <p className="hint">{t('curves.hint', { weight: weightText ?? 'w(h)' })}</p>
      {other && (
        <p className="hint" data-testid="curves-other-trainer">
          {t('curves.otherTrainer', { method: methodName(args) })}
        </p>
      )}
      <div className="row">
        <label className="grow beta-slider">
          <span>
            beta = <strong data-testid="curves-beta">{fmtNum(beta)}</strong> {running ? t('curves.thisBeta') : t('curves.nextBeta')}
          </span>
          <input
            type="range"
            min={0}
            max={BETA_STOPS.length - 1}
            step={1}
            value={nearestStop(beta)}
            disabled={running}
            aria-label="beta"
            aria-valuetext={`beta ${fmtNum(beta)}`}
            onChange={(e) => setArg('beta', String(BETA_STOPS[Number(e.target.value)]))}
          />
        </label>
      </div>
      <figure className="chart curves" aria-labelledby="curves-fig" data-testid="curves-chart">
        <h3 id="curves-fig" className="sr-only">
          {t('curves.figTitle')}
        </h3>
        <div className="curve-pair">
          <CurveChart title={t('curves.lossTitle', { kind })} curve={curve} dots={dots} y="loss" color="#2563eb" yDomain={[0, 'auto']} />
          <CurveChart title={t('curves.weightTitle')} curve={curve} dots={dots} y="weight" color="#7c3aed" yDomain={[wMin, wMax]} />
        </div>
        <figcaption className="chart-alt" data-testid="curves-alt" data-points={dots.length}>
          {curvesAlt(kind, beta, dots, step, pairLoss(spec, beta, eps, 0))}
        </figcaption>
      </figure>
      {(kinds.includes('ipo') || kinds.includes('sigmoid_norm')) && <p className="hint">{t('curves.perToken')}</p>}
      {kinds.some((k) => !['sigmoid', 'cdpo', 'robust', 'hinge', 'ipo', 'exo_pair', 'discopop', 'sigmoid_norm'].includes(k)) && (
        <p className="hint">
          {kinds
            .filter((k) => !['sigmoid', 'cdpo', 'robust', 'hinge', 'ipo', 'exo_pair', 'discopop', 'sigmoid_norm'].includes(k))
            .join(', ')}{' '}
          {t('curves.notHAlone')}
        </p>
      )}
      <ul className="hint loss-kinds">
        {kinds.map((k) => (
          <li key={k}>
            <code>{k}</code>: {t(`loss.${k}.what`, { defaultValue: LOSS_INFO[k]?.what })} (<span translate="no">{LOSS_INFO[k]?.paper}</span>)
          </li>
        ))}
      </ul>
      {pairsBeta !== beta && dots.length > 0 && (
        <p className="hint">{t('curves.otherBeta', { beta: fmtNum(pairsBeta) })}</p>
      )}
    </section>
  );
}

/** The loss chart's sentence: what the run's loss starts at when the policy equals the reference. */
export function LossStartExplain() {
  const args = useStore((s) => s.args);
  const { t, i18n } = useT();
  if (i18n.language === 'en') return <>{lossStartText(args)}</>;
  // the same facts as lossStartText, said in the page's language
  const spec = lossSpecOf(args);
  if (spec.terms.length === 0) return <>{t('curves.start.none')}</>;
  const single = spec.terms.length === 1 ? spec.terms[0].kind : null;
  if (single === 'sft') return <>{t('curves.start.sft')}</>;
  const l0 = pairLoss(spec, args.beta, args.label_smoothing, 0);
  const sft = spec.terms.filter((x) => x.kind === 'sft');
  const name = spec.terms.map((x) => (spec.terms.length > 1 ? `${x.weight} x ${x.kind}` : x.kind)).join(' + ');
  const value = single === 'sigmoid' ? `log 2 = ${l0.toFixed(3)}` : l0.toPrecision(4);
  const tail = sft.length ? t('curves.start.sftTail', { w: sft.map((x) => x.weight).join(' + ') }) : '';
  return <>{t('curves.start', { name, value, tail })}</>;
}
