// Model picker: the built-in demo, a Hugging Face repo id (Hub address configurable), or files from disk.
import { useState } from 'react';
import { fmtBytes } from '../../worker/memory';
import { loadDemo, loadModel, useStore } from '../store';
import { useHub } from '../store/hub';
import { DownloadBar } from './Progress';
import { HubForm, HubFiles, MemoryPeak } from './HubModelForm';

const fmtCount = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));

export function ModelPanel() {
  const model = useStore((s) => s.model);
  const manifest = useStore((s) => s.manifest);
  const manifestError = useStore((s) => s.manifestError);
  const estimate = useStore((s) => s.estimate);
  const busy = useStore((s) => ['starting', 'training', 'pausing'].includes(s.run.phase));
  const [source, setSource] = useState<'demo' | 'hub' | 'files'>('demo');
  const loading = model.status === 'loading';
  const hubFileCount = useHub((h) => Object.keys(h.files).length);
  const info = model.info;

  return (
    <section className="panel" aria-labelledby="model-title">
      <h2 id="model-title">1. Model</h2>
      <fieldset className="tabs" disabled={busy || loading}>
        <legend className="sr-only">Where the model comes from</legend>
        {(['demo', 'hub', 'files'] as const).map((k) => (
          <label key={k} className={source === k ? 'tab active' : 'tab'}>
            <input type="radio" name="model-source" value={k} checked={source === k} onChange={() => setSource(k)} />
            {k === 'demo' ? 'Built-in demo' : k === 'hub' ? 'Hugging Face Hub' : 'Files from disk'}
          </label>
        ))}
      </fieldset>

      {source === 'demo' && (
        <div className="source">
          {manifest ? (
            <>
              <p className="muted">{manifest.description ?? 'A tiny model shipped with the page, and preference pairs made for it.'}</p>
              <button type="button" onClick={() => void loadDemo()} disabled={busy || loading}>
                Load the demo again
              </button>
            </>
          ) : (
            <p className="notice" role="status">
              {manifestError ?? 'Looking for the built-in demo…'}
            </p>
          )}
        </div>
      )}

      {source === 'hub' && <HubForm busy={busy || loading} />}

      {source === 'files' && (
        <div className="source">
          <label>
            Model folder
            <input
              type="file"
              aria-label="Model folder"
              // @ts-expect-error webkitdirectory is not in React's types
              webkitdirectory=""
              multiple
              disabled={busy || loading}
              onChange={(e) => e.target.files?.length && void loadModel({ kind: 'files', files: [...e.target.files] })}
            />
          </label>
          <label>
            …or the files (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)
            <input
              type="file"
              aria-label="Model files"
              multiple
              accept=".json,.safetensors,.jinja"
              disabled={busy || loading}
              onChange={(e) => e.target.files?.length && void loadModel({ kind: 'files', files: [...e.target.files] })}
            />
          </label>
        </div>
      )}

      {loading && (model.spec?.kind === 'hub' && hubFileCount > 0 ? <HubFiles /> : <DownloadBar progress={model.progress} label="Loading the model" />)}
      {model.status === 'error' && (
        <p className="error" role="alert" data-testid="model-error">
          {model.error}
        </p>
      )}
      {info && model.status === 'ready' && (
        <dl className="card" data-testid="model-info">
          <dt>Model</dt>
          <dd>{info.label}</dd>
          <dt>Architecture</dt>
          <dd>
            {info.modelType}: {info.layers} layers, hidden {info.hidden}, {info.heads} heads
            {info.kvHeads !== info.heads ? ` (${info.kvHeads} KV)` : ''}, vocab {info.vocabSize.toLocaleString()}
          </dd>
          <dt>Parameters</dt>
          <dd data-testid="param-count">{fmtCount(info.parameters)} ({info.dtype} in the files)</dd>
          <dt>GPU memory</dt>
          <dd data-testid="memory-estimate">
            {estimate
              ? `about ${fmtBytes(estimate.totalBytes)} (weights ${fmtBytes(estimate.weightsBytes)}, optimizer ${fmtBytes(estimate.optimizerBytes)}, activations ${fmtBytes(estimate.activationBytes)})`
              : '…'}
          </dd>
          <MemoryPeak />
        </dl>
      )}
      {estimate?.refusal && (
        <p className="error" role="alert">
          {estimate.refusal}
        </p>
      )}
    </section>
  );
}
