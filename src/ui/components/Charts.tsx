// Live metric charts (recharts), train lines solid and eval points dashed, each with a text alternative
// that gives the latest values (read by screen readers, and by the e2e test). Each trainer's metrics under
// TRL's names: the charts of metrics the run never logs (KL for a trainer without reference) stay away.
// Cheap to render while training: the history reaches the charts at most every CHART_THROTTLE_MS, its
// downsampled series is computed once per update for all charts, only the charts on screen redraw their
// plots (the text alternatives always follow), recharts gets the same static props each time, and nothing
// animates.
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { LogRecord } from '../../dpo/trainer';
import { countPoints, downsample, fmtNum, fmtTick, latest } from '../history';
import { useT } from '../i18n';
import { storeApi, useStore, type State } from '../store';
import { LossStartExplain } from '../demo/DpoCurves';

export interface Series {
  key: string;
  label: string;
  color: string;
  axis?: 'left' | 'right';
}

export interface ChartSpec {
  id: string;
  title: string;
  explain: string;
  series: Series[];
}

export const CHARTS: ChartSpec[] = [
  { id: 'loss', title: 'Loss', explain: 'DPO loss; starts at log 2 = 0.693 when the policy equals the reference.', series: [{ key: 'loss', label: 'loss', color: '#2563eb' }] },
  {
    id: 'rewards',
    title: 'Implicit rewards',
    explain: 'beta x (log pi - log pi_ref) of the chosen and rejected answers.',
    series: [
      { key: 'rewards/chosen', label: 'chosen', color: '#16a34a' },
      { key: 'rewards/rejected', label: 'rejected', color: '#dc2626' },
    ],
  },
  { id: 'margins', title: 'Reward margin', explain: 'rewards/chosen - rewards/rejected: grows as the policy learns the preference.', series: [{ key: 'rewards/margins', label: 'margin', color: '#7c3aed' }] },
  { id: 'accuracies', title: 'Reward accuracy', explain: 'Share of pairs whose chosen answer has the higher implicit reward.', series: [{ key: 'rewards/accuracies', label: 'accuracy', color: '#0891b2' }] },
  {
    id: 'logps',
    title: 'Log-probabilities',
    explain: 'Summed log-probs of chosen and rejected under the policy. Both often go down while the margin grows: a known DPO behaviour.',
    series: [
      { key: 'logps/chosen', label: 'chosen', color: '#16a34a' },
      { key: 'logps/rejected', label: 'rejected', color: '#dc2626' },
    ],
  },
  { id: 'kl', title: 'KL from the reference', explain: 'Exact KL(policy || reference) per completion token: how far the policy drifted.', series: [{ key: 'kl/token_mean_exact', label: 'KL per token', color: '#ea580c' }] },
  {
    id: 'optim',
    title: 'Gradient norm and learning rate',
    explain: 'Global gradient norm before clipping (left) and the scheduled learning rate (right).',
    series: [
      { key: 'grad_norm', label: 'grad_norm', color: '#475569' },
      { key: 'learning_rate', label: 'learning_rate', color: '#ca8a04', axis: 'right' },
    ],
  },
];

/** Charts of the metrics only some trainers log (TRL's names): shown once the run has logged them. */
export const TRAINER_CHARTS: ChartSpec[] = [
  { id: 'ktokl', title: 'KTO reference point (kl)', explain: "KTO's KL estimate from mismatched answers, clamped at 0: the level each answer's log-ratio is judged against.", series: [{ key: 'kl', label: 'kl', color: '#ea580c' }] },
  { id: 'nll', title: 'NLL of the chosen answers', explain: "nll_loss: CPO's behaviour-cloning term (cpo_alpha x it is in the loss) or ORPO's NLL over the chosen prompt and answer.", series: [{ key: 'nll_loss', label: 'nll_loss', color: '#0f766e' }] },
  {
    id: 'odds',
    title: 'ORPO odds ratio',
    explain: 'log_odds_chosen = log odds(chosen) - log odds(rejected) of the mean token probabilities; log_odds_ratio = its log sigma (beta x it is subtracted from the loss).',
    series: [
      { key: 'log_odds_chosen', label: 'log_odds_chosen', color: '#16a34a' },
      { key: 'log_odds_ratio', label: 'log_odds_ratio', color: '#7c3aed' },
    ],
  },
];

const MAX_POINTS = 400;
/** How often the history reaches the charts while it grows (the text alternatives follow with it). */
export const CHART_THROTTLE_MS = 500;

type T = ReturnType<typeof useT>['t'];

/** The charts whose meaning differs by trainer (no reference, length-averaged log-probs, per class) say so. */
const TRAINER_EXPLAIN: Record<string, readonly string[]> = { loss: ['cpo', 'orpo', 'kto'], rewards: ['cpo', 'orpo', 'kto'], logps: ['cpo', 'orpo', 'kto'], accuracies: ['cpo', 'orpo'], margins: ['kto'] };

/** The chart's sentence for the run's trainer: `chart.<id>.explain.<trainer>` where it differs, else `chart.<id>.explain`. */
export function explainKey(id: string, trainer: string): string {
  return TRAINER_EXPLAIN[id]?.includes(trainer) ? `chart.${id}.explain.${trainer}` : `chart.${id}.explain`;
}

/** The series' legend name in the page's language (TRL's metric names stay). */
const labelOf = (t: T, s: Series) => t(`chart.label.${s.label}`, { defaultValue: s.label });

function altText(t: T, spec: ChartSpec, history: readonly LogRecord[], evalHistory: readonly LogRecord[]): string {
  const parts: string[] = [];
  for (const s of spec.series) {
    const r = latest(history, s.key);
    parts.push(r ? t('chart.altValue', { key: s.key, value: fmtNum(r[s.key]), step: r.step }) : t('chart.altNone', { key: s.key }));
    const e = latest(evalHistory, `eval_${s.key}`);
    if (e) parts.push(t('chart.altValue', { key: `eval_${s.key}`, value: fmtNum(e[`eval_${s.key}`]), step: e.step }));
  }
  const n = countPoints(history, spec.series.map((s) => s.key));
  return t('chart.altAll', { parts: parts.join('; '), n });
}

// recharts compares its props by identity: static ones are made once, so a render with new data redoes no axis settings
const MARGIN_LEFT_ONLY = { top: 6, right: 12, bottom: 0, left: 0 };
const MARGIN_BOTH = { top: 6, right: 4, bottom: 0, left: 0 };
const TICK = { fontSize: 11 };
const X_DOMAIN = ['dataMin', 'dataMax'];
const Y_DOMAIN = ['auto', 'auto'];
const LEGEND_STYLE = { fontSize: 12 };
const EVAL_DOT = { r: 3 };
const fmtExp = (v: number) => v.toExponential(0);
const fmtTooltip = (v: unknown) => fmtNum(Number(v));

/** Whether the element is on screen (or near it); true where there is no IntersectionObserver (server rendering). */
function useOnScreen(ref: React.RefObject<Element | null>): boolean {
  const [on, setOn] = useState(true);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((es) => setOn(es.some((e) => e.isIntersecting)), { rootMargin: '200px' });
    io.observe(el);
    return () => io.disconnect();
  }, [ref]);
  return on;
}

/** The SVG part of a chart: rendered again only when its data changes (memo), and never animated. */
const ChartPlot = memo(function ChartPlot({ spec, data, evalHistory }: { spec: ChartSpec; data: LogRecord[]; evalHistory: LogRecord[] }) {
  const { t } = useT();
  const hasRight = spec.series.some((s) => s.axis === 'right');
  const evalSeries = spec.series.filter((s) => evalHistory.some((e) => e[`eval_${s.key}`] !== undefined));
  return (
    <ResponsiveContainer width="100%" height={190}>
      <LineChart margin={hasRight ? MARGIN_BOTH : MARGIN_LEFT_ONLY}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
        <XAxis dataKey="step" type="number" domain={X_DOMAIN} allowDecimals={false} tick={TICK} allowDuplicatedCategory={false} />
        <YAxis yAxisId="left" tick={TICK} width={52} domain={Y_DOMAIN} tickFormatter={fmtTick} />
        {hasRight && <YAxis yAxisId="right" orientation="right" tick={TICK} width={56} tickFormatter={fmtExp} />}
        <Tooltip formatter={fmtTooltip} labelFormatter={(l) => t('chart.step', { step: l })} isAnimationActive={false} />
        {spec.series.length > 1 && <Legend wrapperStyle={LEGEND_STYLE} />}
        {spec.series.map((s) => (
          <Line key={s.key} data={data} yAxisId={s.axis ?? 'left'} dataKey={s.key} name={labelOf(t, s)} stroke={s.color} dot={data.length < 30} strokeWidth={2} isAnimationActive={false} connectNulls />
        ))}
        {evalSeries.map((s) => (
          <Line
            key={`eval_${s.key}`}
            data={evalHistory}
            yAxisId={s.axis ?? 'left'}
            dataKey={`eval_${s.key}`}
            name={t('chart.evalLabel', { label: labelOf(t, s) })}
            stroke={s.color}
            strokeDasharray="5 4"
            dot={EVAL_DOT}
            isAnimationActive={false}
            connectNulls
          />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
});

/**
 * One metric chart. Its text alternative always says the latest values; its plot follows the data while it is
 * on screen and keeps the last drawn data while scrolled away (redrawn when it comes back), so a metric batch
 * redraws only the charts one can see.
 */
export const MetricChart = memo(function MetricChart({ spec, history, evalHistory, data, trainer }: { spec: ChartSpec; history: LogRecord[]; evalHistory: LogRecord[]; data: LogRecord[]; trainer: string }) {
  const { t } = useT();
  const n = countPoints(history, spec.series.map((s) => s.key));
  const titleId = `chart-${spec.id}-title`;
  const area = useRef<HTMLDivElement>(null);
  const onScreen = useOnScreen(area);
  const drawn = useRef({ data, evalHistory });
  if (onScreen) drawn.current = { data, evalHistory };
  return (
    <figure className="chart" id={`chart-${spec.id}`} tabIndex={-1} data-testid={`chart-${spec.id}`} aria-labelledby={titleId}>
      <h3 id={titleId}>{t(`chart.${spec.id}.title`, { defaultValue: spec.title })}</h3>
      <div className="chart-area" aria-hidden="true" ref={area} data-drawn-points={drawn.current.data.length}>
        <ChartPlot spec={spec} data={drawn.current.data} evalHistory={drawn.current.evalHistory} />
      </div>
      <figcaption>
        {/* the loss chart says where the run's loss starts, for its loss type (not always log 2) */}
        <span className="explain">{spec.id === 'loss' && trainer === 'dpo' ? <LossStartExplain /> : t(explainKey(spec.id, trainer), { defaultValue: spec.explain })}</span>
        <span className="chart-alt" data-testid={`chart-${spec.id}-alt`} data-points={n}>
          {t('chart.latest', { text: altText(t, spec, history, evalHistory) })}
        </span>
      </figcaption>
    </figure>
  );
});

/** The keys any record of the history has (which charts have something to draw). */
function loggedKeys(history: readonly LogRecord[]): Set<string> {
  const keys = new Set<string>();
  for (const r of history) for (const k in r) keys.add(k);
  return keys;
}

type Histories = Pick<State, 'history' | 'evalHistory'>;

/**
 * Calls `onChange` with the store's history and eval history when they change, at most every `ms` (the last
 * change always arrives, within `ms` of the one before): a burst of metric batches costs one render per interval.
 */
export function subscribeThrottled(ms: number, onChange: (h: Histories) => void): () => void {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    last = performance.now();
    const s = storeApi.getState();
    onChange({ history: s.history, evalHistory: s.evalHistory });
  };
  const unsubscribe = storeApi.subscribe((s, prev) => {
    if ((s.history === prev.history && s.evalHistory === prev.evalHistory) || timer !== undefined) return;
    const wait = ms - (performance.now() - last);
    if (wait <= 0) flush();
    else timer = setTimeout(flush, wait);
  });
  return () => {
    unsubscribe();
    clearTimeout(timer);
  };
}

/** The histories for the charts, throttled by subscribeThrottled. */
export function useThrottledHistories(ms: number): Histories {
  const [h, setH] = useState<Histories>(() => {
    const s = storeApi.getState();
    return { history: s.history, evalHistory: s.evalHistory };
  });
  useEffect(() => {
    const take = (n: Histories) => setH((o) => (o.history === n.history && o.evalHistory === n.evalHistory ? o : n));
    const s = storeApi.getState();
    take({ history: s.history, evalHistory: s.evalHistory });
    return subscribeThrottled(ms, take);
  }, [ms]);
  return h;
}

export function Charts() {
  const { t } = useT();
  const { history, evalHistory } = useThrottledHistories(CHART_THROTTLE_MS);
  const trainer = useStore((s) => s.args.trainer ?? 'dpo');
  // one downsampled series and one key set per update, shared by every chart
  const data = useMemo(() => downsample(history, MAX_POINTS), [history]);
  const keys = useMemo(() => loggedKeys(history), [history]);
  const logged = (c: ChartSpec) => c.series.some((s) => keys.has(s.key));
  // before a run every base chart waits for its values; once the run logs, only what it logs is drawn
  const shown = [...CHARTS.filter((c) => history.length === 0 || logged(c)), ...TRAINER_CHARTS.filter(logged)];
  return (
    <section className="panel" aria-labelledby="charts-title">
      <h2 id="charts-title">{t('chart.title')}</h2>
      {history.length === 0 && <p className="hint">{t('chart.empty')}</p>}
      <div className="charts">
        {shown.map((c) => (
          <MetricChart key={c.id} spec={c} history={history} evalHistory={evalHistory} data={data} trainer={trainer} />
        ))}
      </div>
    </section>
  );
}
