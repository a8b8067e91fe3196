// Dataset picker: drop or pick a file; format, validation report, split and a preview of the pairs.
import { useState } from 'react';
import { diffParts } from '../diff';
import { loadDataset, loadDemo, setSplit, useStore } from '../store';
import { DownloadBar } from './Progress';
import { HubDatasetForm } from './HubDatasetForm';
import type { DatasetInfo } from '../../worker/protocol';

type TokenReport = NonNullable<DatasetInfo['tokens']>;

const FORMAT_TEXT: Record<string, string> = {
  standard: 'TRL standard (prompt / chosen / rejected text)',
  conversational: 'TRL conversational (lists of messages)',
  implicit: 'implicit prompt (HH-RLHF style: the prompt is the shared start of chosen and rejected)',
  'implicit-conversational': 'implicit-prompt conversations',
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

const share = (n: number, of: number) => (of > 0 ? `${((100 * n) / of).toFixed(n > 0 && (100 * n) / of < 0.1 ? 2 : 1)}%` : '0%');

/** The token report's two shares (what the tokenizer made of the pairs), as report rows. */
function TokenRows({ r }: { r: TokenReport }) {
  const n = (x: number) => x.toLocaleString('en-US');
  return (
    <>
      <dt>Unknown tokens</dt>
      <dd data-testid="unknown-share">
        {r.unknownToken === null
          ? 'none (the tokenizer has no unknown token)'
          : `${share(r.unknownTokens, r.tokens)} are ${r.unknownToken} (${n(r.unknownTokens)} of ${n(r.tokens)} tokens)`}
      </dd>
      <dt>Prompt + completion</dt>
      <dd data-testid="mismatch-share">
        {r.prefixMismatchPairs === 0
          ? 'every pair tokenizes the same as prompt + completion and alone'
          : `${share(r.prefixMismatchPairs, r.pairs)} of pairs tokenize differently joined than apart (${n(r.prefixMismatchPairs)} of ${n(r.pairs)})`}
      </dd>
    </>
  );
}

export function DatasetPanel() {
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
      <h2 id="data-title">2. Preference pairs</h2>
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
          Dataset file (JSONL, JSON or Parquet, optionally .gz)
          <input type="file" aria-label="Dataset file" accept=".jsonl,.json,.parquet,.gz,.bz2,.ndjson" disabled={disabled} onChange={(e) => pick(e.target.files?.[0])} />
        </label>
        <span className="hint">or drop it here. TRL standard / conversational format, or HH-RLHF's chosen/rejected.</span>
        {manifest && (
          <button type="button" className="link" onClick={() => void loadDemo()} disabled={disabled}>
            use the demo pairs
          </button>
        )}
      </div>
      <HubDatasetForm disabled={disabled} />
      <div className="row">
        <label>
          Eval fraction
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
          Eval pairs at most
          <input type="number" min={0} step={8} value={split.maxEval} onChange={(e) => setSplit({ maxEval: Math.max(0, Math.floor(Number(e.target.value))) })} disabled={disabled} />
        </label>
        <label>
          Split seed
          <input type="number" step={1} value={split.seed} onChange={(e) => setSplit({ seed: Math.floor(Number(e.target.value)) })} disabled={disabled} />
        </label>
        {ds.spec && (
          <button type="button" onClick={() => void loadDataset(ds.spec!)} disabled={disabled}>
            Split again
          </button>
        )}
      </div>
      {!modelReady && <p className="hint">Load a model too: the pairs are tokenized with its tokenizer.</p>}
      {ds.status === 'loading' && <DownloadBar progress={ds.progress} label="Reading the dataset" />}
      {ds.status === 'error' && (
        <p className="error" role="alert" data-testid="dataset-error">
          {ds.error}
        </p>
      )}
      {info && ds.status === 'ready' && (
        <>
          <dl className="card" data-testid="dataset-report">
            <dt>File</dt>
            <dd>
              {info.label} ({info.report.fileKind}
              {info.report.gzipped ? ', gzip' : ''})
            </dd>
            <dt>Format</dt>
            <dd>{FORMAT_TEXT[info.format] ?? info.format}</dd>
            <dt>Pairs</dt>
            <dd data-testid="pair-count">
              {info.report.kept.toLocaleString('en-US')} usable of {info.report.totalRows.toLocaleString('en-US')} records
              {info.report.skippedCount ? `, ${info.report.skippedCount.toLocaleString('en-US')} skipped` : ''}
            </dd>
            <dt>Split</dt>
            <dd data-testid="split">
              {info.trainPairs.toLocaleString('en-US')} train / {info.evalPairs.toLocaleString('en-US')} eval
              {info.tooLong ? ` (${info.tooLong} dropped: prompt longer than max_length)` : ''}
            </dd>
            {info.maxTokens > 0 && (
              <>
                <dt>Length</dt>
                <dd>
                  mean {info.meanTokens.toFixed(0)} tokens, longest {info.maxTokens}
                </dd>
              </>
            )}
            {info.tokens && <TokenRows r={info.tokens} />}
          </dl>
          {info.tokenNotes && info.tokenNotes.length > 0 && (
            <div className="token-notes" data-testid="token-notes" role="status">
              {info.tokenNotes.map((n) => (
                <p key={n} className="warn">
                  {n}
                </p>
              ))}
            </div>
          )}
          {info.report.skippedCount > 0 && (
            <details className="skipped">
              <summary>Why {info.report.skippedCount} record(s) were skipped</summary>
              <ul>
                {Object.entries(info.report.counts)
                  .filter(([, n]) => n > 0)
                  .map(([k, n]) => (
                    <li key={k}>
                      {k}: {n}
                    </li>
                  ))}
              </ul>
              <ul className="muted">
                {info.report.skipped.slice(0, 10).map((s) => (
                  <li key={`${s.row}-${s.reason}`}>{s.message}</li>
                ))}
              </ul>
            </details>
          )}
          <div className="table-wrap" tabIndex={0} aria-label="Preview of the first pairs">
            <table className="preview">
              <caption>
                First pairs: what differs between chosen and rejected is highlighted.
              </caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">prompt</th>
                  <th scope="col">chosen</th>
                  <th scope="col">rejected</th>
                </tr>
              </thead>
              <tbody>
                {info.preview.slice(0, rows).map((p) => (
                  <tr key={p.row}>
                    <td>{p.row}</td>
                    <td className="prompt">{p.prompt.length > 160 ? `…${p.prompt.slice(-160)}` : p.prompt}</td>
                    <td>
                      <Diff a={p.chosen} b={p.rejected} side="chosen" />
                    </td>
                    <td>
                      <Diff a={p.chosen} b={p.rejected} side="rejected" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rows < info.preview.length && (
            <button type="button" className="link" onClick={() => setRows(info.preview.length)}>
              show {info.preview.length - rows} more
            </button>
          )}
        </>
      )}
    </section>
  );
}
