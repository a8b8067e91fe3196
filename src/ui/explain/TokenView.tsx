// Which tokens moved: every completion token of the selected pair coloured by its log-ratio
// log pi(token) - log pi_ref(token) (green: the policy made it more likely, red: less), the values on
// hover and keyboard focus (arrow keys move between tokens), and the sum, which is the sequence
// log-ratio that enters the loss.
import { useState, type KeyboardEvent } from 'react';
import type { PairRecord } from '../../dpo/trainer';
import { tokenLogratios, type TokenRow } from '../../dpo/token-moves';
import { Trans } from 'react-i18next';
import { fmtNum } from '../history';
import { i18n, useT } from '../i18n';

const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(4)}`;

/** Background of a token: green for a positive log-ratio, red for a negative one, deeper with |v| / scale. */
export function tokenColor(v: number, scale: number): string {
  const a = scale > 0 ? Math.min(1, Math.abs(v) / scale) : 0;
  const alpha = (0.06 + 0.6 * a).toFixed(3);
  return v >= 0 ? `rgba(22, 163, 74, ${alpha})` : `rgba(220, 38, 38, ${alpha})`;
}

/** Shown text of a token: spaces and line breaks made visible, empty pieces named. */
export function shownPiece(piece: string | undefined, id: number): string {
  if (piece === undefined) return `#${id}`;
  if (piece === '') return '∅';
  return piece.replace(/\n/g, '⏎').replace(/ /g, '·');
}

function Row({ which, row, ratios, pieces, seq, scale }: { which: 'chosen' | 'rejected'; row: TokenRow; ratios: number[]; pieces: Record<number, string>; seq: number; scale: number }) {
  const [activeRaw, setActive] = useState(0);
  // a new eval (or another pair) may have fewer tokens: keep exactly one tab stop
  const active = Math.max(0, Math.min(activeRaw, ratios.length - 1));
  const [shown, setShown] = useState<number | null>(null);
  const { t } = useT();
  const sum = ratios.reduce((a, x) => a + x, 0);
  const label = which === 'chosen' ? t('tokens.chosen') : t('tokens.rejected');
  const detail = (i: number) =>
    t('tokens.detail', { i: i + 1, n: ratios.length, piece: pieces[row.ids[i]] ?? `#${row.ids[i]}`, policy: row.policy[i].toFixed(4), reference: row.reference ? row.reference[i].toFixed(4) : '0', ratio: signed(ratios[i]) });
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const n = ratios.length;
    const to = e.key === 'ArrowRight' ? active + 1 : e.key === 'ArrowLeft' ? active - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : null;
    if (to === null) return;
    e.preventDefault();
    const i = Math.max(0, Math.min(n - 1, to));
    setActive(i);
    setShown(i);
    (e.currentTarget.querySelectorAll('button')[i] as HTMLButtonElement | undefined)?.focus();
  };
  return (
    <div className={`token-row ${which}`}>
      <h4 id={`tokens-${which}-title`}>{label}</h4>
      <div className="tokens" role="group" aria-labelledby={`tokens-${which}-title`} aria-describedby={`tokens-${which}-detail`} onKeyDown={onKey} data-testid={`tokens-${which}`}>
        {row.ids.map((id, i) => (
          <button
            key={i}
            type="button"
            className="tok"
            tabIndex={i === active ? 0 : -1}
            style={{ background: tokenColor(ratios[i], scale) }}
            data-ratio={ratios[i]}
            data-policy={row.policy[i]}
            data-reference={row.reference ? row.reference[i] : 0}
            title={detail(i)}
            aria-label={detail(i)}
            onMouseEnter={() => setShown(i)}
            onFocus={() => {
              setActive(i);
              setShown(i);
            }}
          >
            {shownPiece(pieces[id], id)}
          </button>
        ))}
      </div>
      <p className="token-detail" id={`tokens-${which}-detail`} aria-live="polite" data-testid={`tokens-${which}-detail`}>
        {shown !== null && shown < ratios.length ? detail(shown) : t('tokens.hover')}
      </p>
      <p className="token-sum" data-testid={`token-sum-${which}`} data-sum={sum} data-seq={seq}>
        <Trans i18n={i18n} i18nKey="tokens.sum" values={{ n: ratios.length, sum: signed(sum), y: which === 'chosen' ? 'y_w' : 'y_l', seq: signed(seq) }} components={{ b: <strong /> }} />
      </p>
    </div>
  );
}

export function TokenView({ pair, pieces, referenceFree, step }: { pair: PairRecord; pieces: Record<number, string>; referenceFree: boolean; step: number | undefined }) {
  const { t: tt } = useT();
  const t = pair.tokens;
  if (!t) return <p className="muted">{tt('tokens.noTokens')}</p>;
  const rc = tokenLogratios(t.chosen, referenceFree);
  const rr = tokenLogratios(t.rejected, referenceFree);
  if (!rc || !rr) return <p className="muted">{tt('tokens.precomputed')}</p>;
  const scale = Math.max(1e-6, ...rc.map(Math.abs), ...rr.map(Math.abs));
  const h = pair.policyChosen - pair.referenceChosen - (pair.policyRejected - pair.referenceRejected);
  return (
    <section className="token-view" aria-labelledby="token-view-title" data-testid="token-view">
      <h3 id="token-view-title">{tt('tokens.title', { step: step ?? '?' })}</h3>
      <p className="hint">
        <Trans i18n={i18n} i18nKey="tokens.hint" values={{ scale: fmtNum(scale) }} components={{ up: <span className="swatch-text up" />, down: <span className="swatch-text down" /> }} />
      </p>
      <Row which="chosen" row={t.chosen} ratios={rc} pieces={pieces} seq={pair.policyChosen - pair.referenceChosen} scale={scale} />
      <Row which="rejected" row={t.rejected} ratios={rr} pieces={pieces} seq={pair.policyRejected - pair.referenceRejected} scale={scale} />
      <p data-testid="token-h">
        {tt('tokens.h')} = {signed(pair.policyChosen - pair.referenceChosen)} − ({signed(pair.policyRejected - pair.referenceRejected)}) = <strong>{signed(h)}</strong>
      </p>
    </section>
  );
}
