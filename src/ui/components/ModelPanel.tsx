// Model picker: the built-in demo, a Hugging Face repo id (Hub address configurable), or files from disk.
import { useState } from 'react';
import { fmtBytes, fmtInt } from '../format';
import { useT } from '../i18n';
import { refusalSentence } from '../i18n/errors';
import { loadDemo, loadModel, useStore } from '../store';
import { useHub } from '../store/hub';
import { DownloadBar } from './Progress';
import { HubForm, HubFiles, MemoryPeak } from './HubModelForm';

const fmtCount = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));

export function ModelPanel() {
  const { t } = useT();
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
      <h2 id="model-title">{t('model.title')}</h2>
      <fieldset className="tabs" disabled={busy || loading}>
        <legend className="sr-only">{t('model.source')}</legend>
        {(['demo', 'hub', 'files'] as const).map((k) => (
          <label key={k} className={source === k ? 'tab active' : 'tab'}>
            <input type="radio" name="model-source" value={k} checked={source === k} onChange={() => setSource(k)} />
            {t(`model.source.${k}`)}
          </label>
        ))}
      </fieldset>

      {source === 'demo' && (
        <div className="source">
          {manifest ? (
            <>
              <p className="muted">{manifest.description ?? t('model.demoDefault')}</p>
              <button type="button" onClick={() => void loadDemo()} disabled={busy || loading}>
                {t('model.loadDemo')}
              </button>
            </>
          ) : (
            <p className="notice" role="status">
              {manifestError ?? t('model.lookingDemo')}
            </p>
          )}
        </div>
      )}

      {source === 'hub' && <HubForm busy={busy || loading} />}

      {source === 'files' && (
        <div className="source">
          <label>
            {t('model.folder')}
            <input
              type="file"
              aria-label={t('model.folder')}
              // @ts-expect-error webkitdirectory is not in React's types
              webkitdirectory=""
              multiple
              disabled={busy || loading}
              onChange={(e) => e.target.files?.length && void loadModel({ kind: 'files', files: [...e.target.files] })}
            />
          </label>
          <label>
            {t('model.filesLabel')}
            <input
              type="file"
              aria-label={t('model.filesAria')}
              multiple
              accept=".json,.safetensors,.jinja"
              disabled={busy || loading}
              onChange={(e) => e.target.files?.length && void loadModel({ kind: 'files', files: [...e.target.files] })}
            />
          </label>
        </div>
      )}

      {loading && (model.spec?.kind === 'hub' && hubFileCount > 0 ? <HubFiles /> : <DownloadBar progress={model.progress} label={t('model.loading')} />)}
      {model.status === 'error' && (
        <p className="error" role="alert" data-testid="model-error">
          {model.error}
        </p>
      )}
      {info && model.status === 'ready' && (
        <dl className="card" data-testid="model-info">
          <dt>{t('model.model')}</dt>
          <dd translate="no">{info.label}</dd>
          <dt>{t('model.arch')}</dt>
          <dd>
            {t('model.archText', { type: info.modelType, layers: info.layers, hidden: info.hidden, heads: info.heads, kv: info.kvHeads !== info.heads ? ` (${info.kvHeads} KV)` : '', vocab: fmtInt(info.vocabSize) })}
          </dd>
          <dt>{t('model.params')}</dt>
          <dd data-testid="param-count">{t('model.paramsText', { n: fmtCount(info.parameters), dtype: info.dtype })}</dd>
          <dt>{t('model.gpuMemory')}</dt>
          <dd data-testid="memory-estimate">
            {estimate
              ? t('model.estimate', { total: fmtBytes(estimate.totalBytes), w: fmtBytes(estimate.weightsBytes), o: fmtBytes(estimate.optimizerBytes), a: fmtBytes(estimate.activationBytes) })
              : '…'}
          </dd>
          <MemoryPeak />
        </dl>
      )}
      {estimate?.refusal && (
        <p className="error" role="alert">
          {refusalSentence(estimate)}
        </p>
      )}
    </section>
  );
}
