// Dataset picker: drop or pick a file; format, validation report, split and a preview of the pairs.
import { useState } from 'react';
import { diffParts } from '../diff';
import { fmtInt, fmtPercent } from '../format';
import { useT } from '../i18n';
import { skipLine, skipReasonName, tokenNoteText } from '../dataset-text';
import { loadDataset, loadDemo, setSplit, useStore } from '../store';
import { DownloadBar } from './Progress';
import { HubDatasetForm } from './HubDatasetForm';
import type { DatasetInfo } from '../../worker/protocol';

type TokenReport = NonNullable<DatasetInfo['tokens']>;

/** English format names (the Korean ones are dataset.format.<format> in ko.ts). */
const FORMAT_TEXT: Record<string, string> = {
  standard: 'TRL standard (prompt / chosen / rejected text)',
  conversational: 'TRL conversational (lists of messages)',
  implicit: 'implicit prompt (HH-RLHF style: the prompt is the shared start of chosen and rejected)',
  'implicit-conversational': 'implicit-prompt conversations',
  unpaired: "TRL unpaired (prompt / completion / label text), for KTO",
  'unpaired-conversational': 'TRL unpaired conversations (prompt / completion messages, label), for KTO',
};

function Diff({ a, b, side }: { a: string; b: string; side: 'chosen' | 'rejected' }) {
  const d = diffParts(a, b);
  const mid = side === 'chosen' ? d.a : d.b;
  const clip = (s: string, n: number, end: boolean) => (s.length <= n ? s : end ? `…${s.slice(-n)}` : `${s.slice(0, n)}…`);
  return (
    <>
      <span className="same">{clip(d.prefix, 60, true)}</span>
      <mark className={side}>{clip(mid, 220, false)}</mark>
      <span className="same">{clip(d.suffix, 40, false)}</span>
    </>
  );
}

const share = (n: number, of: number) => fmtPercent(of > 0 ? n / of : 0, of > 0 && n > 0 && (100 * n) / of < 0.1 ? 2 : 1);

/** The token report's two shares (what the tokenizer made of the pairs), as report rows. */
function TokenRows({ r }: { r: TokenReport }) {
  const { t } = useT();
  const n = fmtInt;
  return (
    <>
      <dt>{t('dataset.unknownTokens')}</dt>
      <dd data-testid="unknown-share">
        {r.unknownToken === null
          ? t('dataset.noUnknown')
          : t('dataset.unknownShare', { share: share(r.unknownTokens, r.tokens), token: r.unknownToken, n: n(r.unknownTokens), of: n(r.tokens) })}
      </dd>
      <dt>{t('dataset.promptCompletion')}</dt>
      <dd data-testid="mismatch-share">
        {r.prefixMismatchPairs === 0
          ? t('dataset.noMismatch')
          : t('dataset.mismatchShare', { share: share(r.prefixMismatchPairs, r.pairs), n: n(r.prefixMismatchPairs), of: n(r.pairs) })}
      </dd>
    </>
  );
}

export function DatasetPanel() {
  const { t } = useT();
  const ds = useStore((s) => s.dataset);
  const split = useStore((s) => s.split);
  const manifest = useStore((s) => s.manifest);
  const modelReady = useStore((s) => s.model.status === 'ready');
  const busy = useStore((s) => ['starting', 'training', 'pausing'].includes(s.run.phase));
  const [drag, setDrag] = useState(false);
  const [rows, setRows] = useState(4);
  const info = ds.info;
  const disabled = busy || ds.status === 'loading';

  const pick = (f: File | undefined) => f && void loadDataset({ kind: 'file', file: f });

  return (
    <section className="panel" aria-labelledby="data-title">
      <h2 id="data-title">{t('dataset.title')}</h2>
      <div
        className={drag ? 'dropzone drag' : 'dropzone'}
        onDragOver={(e) => {
          e.preventDefault();
          setDrag(true);
        }}
        onDragLeave={() => setDrag(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDrag(false);
          if (!disabled) pick(e.dataTransfer.files[0]);
        }}
      >
        <label>
          {t('dataset.fileLabel')}
          <input type="file" aria-label={t('dataset.fileAria')} accept=".jsonl,.json,.parquet,.gz,.bz2,.ndjson" disabled={disabled} onChange={(e) => pick(e.target.files?.[0])} />
        </label>
        <span className="hint">{t('dataset.drop')}</span>
        {manifest && (
          <button type="button" className="link" onClick={() => void loadDemo()} disabled={disabled}>
            {t('dataset.useDemo')}
          </button>
        )}
      </div>
      <HubDatasetForm disabled={disabled} />
      <div className="row">
        <label>
          {t('dataset.evalFraction')}
          <input
            type="number"
            min={0}
            max={0.9}
            step={0.05}
            value={split.evalFraction}
            onChange={(e) => setSplit({ evalFraction: Number(e.target.value) })}
            disabled={disabled}
          />
        </label>
        <label>
          {t('dataset.maxEval')}
          <input type="number" min={0} step={8} value={split.maxEval} onChange={(e) => setSplit({ maxEval: Math.max(0, Math.floor(Number(e.target.value))) })} disabled={disabled} />
        </label>
        <label>
          {t('dataset.splitSeed')}
          <input type="number" step={1} value={split.seed} onChange={(e) => setSplit({ seed: Math.floor(Number(e.target.value)) })} disabled={disabled} />
        </label>
        {ds.spec && (
          <button type="button" onClick={() => void loadDataset(ds.spec!)} disabled={disabled}>
            {t('dataset.splitAgain')}
          </button>
        )}
      </div>
      {!modelReady && <p className="hint">{t('dataset.needModel')}</p>}
      {ds.status === 'loading' && <DownloadBar progress={ds.progress} label={t('dataset.reading')} />}
      {ds.status === 'error' && (
        <p className="error" role="alert" data-testid="dataset-error">
          {ds.error}
        </p>
      )}
      {info && ds.status === 'ready' && (
        <>
          <dl className="card" data-testid="dataset-report">
            <dt>{t('dataset.file')}</dt>
            <dd>
              <span translate="no">{info.label}</span> ({info.report.fileKind}
              {info.report.gzipped ? ', gzip' : ''})
            </dd>
            <dt>{t('dataset.format')}</dt>
            <dd>{t(`dataset.format.${info.format}`, { defaultValue: FORMAT_TEXT[info.format] ?? info.format })}</dd>
            <dt>{t('dataset.pairs')}</dt>
            <dd data-testid="pair-count">
              {t('dataset.usable', { kept: fmtInt(info.report.kept), total: fmtInt(info.report.totalRows) })}
              {info.report.skippedCount ? t('dataset.skipped', { n: fmtInt(info.report.skippedCount) }) : ''}
              {info.report.labels ? t('dataset.labels', { desirable: fmtInt(info.report.labels.desirable), undesirable: fmtInt(info.report.labels.undesirable) }) : ''}
            </dd>
            <dt>{t('dataset.split')}</dt>
            <dd data-testid="split">
              {t('dataset.trainEval', { train: fmtInt(info.trainPairs), eval: fmtInt(info.evalPairs) })}
              {info.tooLong ? t('dataset.tooLong', { n: info.tooLong }) : ''}
            </dd>
            {info.maxTokens > 0 && (
              <>
                <dt>{t('dataset.length')}</dt>
                <dd>
                  {t('dataset.lengthText', { mean: fmtInt(info.meanTokens), max: fmtInt(info.maxTokens) })}
                </dd>
              </>
            )}
            {info.tokens && <TokenRows r={info.tokens} />}
          </dl>
          {info.tokenNoteCodes && info.tokenNoteCodes.length > 0 && (
            <div className="token-notes" data-testid="token-notes" role="status">
              {info.tokenNoteCodes.map((n) => (
                <p key={n.code} className="warn">
                  {tokenNoteText(n)}
                </p>
              ))}
            </div>
          )}
          {info.report.skippedCount > 0 && (
            <details className="skipped">
              <summary>{t('dataset.whySkipped', { n: info.report.skippedCount })}</summary>
              <ul>
                {Object.entries(info.report.counts)
                  .filter(([, n]) => n > 0)
                  .map(([k, n]) => (
                    <li key={k}>
                      {skipReasonName(k)}: {fmtInt(n)}
                    </li>
                  ))}
              </ul>
              <ul className="muted">
                {info.report.skipped.slice(0, 10).map((s) => (
                  <li key={`${s.row}-${s.reason}`}>{skipLine(s)}</li>
                ))}
              </ul>
            </details>
          )}
          <div className="table-wrap" tabIndex={0} aria-label={t('dataset.previewAria')}>
            <table className="preview">
              <caption>
                {t('dataset.previewCaption')}
              </caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">prompt</th>
                  {info.report.labels ? (
                    <>
                      <th scope="col">completion</th>
                      <th scope="col">label</th>
                    </>
                  ) : (
                    <>
                      <th scope="col">chosen</th>
                      <th scope="col">rejected</th>
                    </>
                  )}
                </tr>
              </thead>
              <tbody translate="no">
                {info.preview.slice(0, rows).map((p) => (
                  <tr key={p.row}>
                    <td>{p.row}</td>
                    <td className="prompt">{p.prompt.length > 160 ? `…${p.prompt.slice(-160)}` : p.prompt}</td>
                    {p.label !== undefined ? (
                      // an unpaired example (KTO): its completion, and TRL's label (true = desirable)
                      <>
                        <td>
                          <mark className={p.label ? 'chosen' : 'rejected'}>{(p.label ? p.chosen : p.rejected).slice(0, 300)}</mark>
                        </td>
                        <td>{String(p.label)}</td>
                      </>
                    ) : (
                      <>
                        <td>
                          <Diff a={p.chosen} b={p.rejected} side="chosen" />
                        </td>
                        <td>
                          <Diff a={p.chosen} b={p.rejected} side="rejected" />
                        </td>
                      </>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rows < info.preview.length && (
            <button type="button" className="link" onClick={() => setRows(info.preview.length)}>
              {t('dataset.showMore', { n: info.preview.length - rows })}
            </button>
          )}
        </>
      )}
    </section>
  );
}
