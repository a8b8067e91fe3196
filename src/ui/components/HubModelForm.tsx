// The Hugging Face Hub part of the model panel: repo id, revision, Hub address and an access token
// (kept for this tab only), a check that shows the size and memory estimate before any weight is
// downloaded (with the settings that would fit, one click each), the known-good small models, and the
// per-file download progress with time left.
import { useEffect, useMemo, useState } from 'react';
import { estimateMemory, fitOptions } from '../../worker/memory';
import { fmtBytes, fmtDuration } from '../format';
import { currentLanguage, useT } from '../i18n';
import { codeSentence, refusalSentence } from '../i18n/errors';
import { KNOWN_MODELS, knownConfig, knownSize } from '../../worker/hub-catalog';
import { setHubUrl, useStore } from '../store';
import { applyFit, checkHubModel, loadHubModel, setHubToken, useHub } from '../store/hub';

const fmtParams = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : `${Math.round(n / 1e6)}M`);
const fmtTime = (s: number | null) =>
  s === null || !isFinite(s) ? '…' : currentLanguage() !== 'en' ? fmtDuration(s < 60 ? Math.ceil(s) : s) : s < 60 ? `${Math.ceil(s)} s` : s < 3600 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${(s / 3600).toFixed(1)} h`;

export function HubForm({ busy }: { busy: boolean }) {
  const { t } = useT();
  const hubUrl = useStore((s) => s.hubUrl);
  const args = useStore((s) => s.args);
  const gpu = useStore((s) => s.gpu.info);
  const plan = useHub((h) => h.plan);
  const token = useHub((h) => h.token);
  const [repo, setRepo] = useState('HuggingFaceTB/SmolLM2-135M-Instruct');
  const [revision, setRevision] = useState('main');
  const limits = useMemo(() => ({ maxBindingBytes: gpu?.maxBindingBytes ?? 2 ** 27, maxBufferBytes: gpu?.maxBufferBytes ?? 2 ** 28 }), [gpu]);
  const p = plan.status === 'ready' ? plan.plan : undefined;

  /** One click: check, and load when the current settings fit; otherwise the plan shows what would. */
  const pick = async (id: string) => {
    setRepo(id);
    setRevision('main');
    const r = await checkHubModel(id, 'main');
    if (r && !r.refusal && !r.estimate.refusal) await loadHubModel(id, 'main');
  };

  return (
    <form
      className="source"
      onSubmit={(e) => {
        e.preventDefault();
        void loadHubModel(repo, revision);
      }}
    >
      <label>
        {t('hub.repo')}
        <input name="repo" value={repo} onChange={(e) => setRepo(e.target.value)} placeholder="owner/name" spellCheck={false} />
      </label>
      <label>
        {t('hub.revision')}
        <input name="revision" value={revision} onChange={(e) => setRevision(e.target.value)} placeholder="main" spellCheck={false} />
      </label>
      <label>
        {t('hub.address')}
        <input name="hub-url" value={hubUrl} onChange={(e) => setHubUrl(e.target.value)} spellCheck={false} />
      </label>
      <label>
        {t('hub.token')}
        <input name="hub-token" type="password" autoComplete="off" value={token} onChange={(e) => void setHubToken(e.target.value)} placeholder="hf_…" spellCheck={false} />
      </label>
      <div className="row">
        <button type="button" disabled={busy || plan.status === 'checking'} onClick={() => void checkHubModel(repo, revision)}>
          {t('hub.check')}
        </button>
        <button type="submit" disabled={busy || Boolean(p?.refusal)}>
          {t('hub.load')}
        </button>
      </div>
      {plan.status === 'checking' && <p className="muted">{t('hub.checking')}</p>}
      {plan.status === 'error' && (
        <p className="error" role="alert" data-testid="hub-plan-error">
          {plan.error}
        </p>
      )}
      {p && (
        <div className="card" data-testid="hub-plan">
          <p>
            <strong>{p.repo}</strong>@{p.revision}:{' '}
            {t(p.files.length > 1 ? 'hub.planMany' : 'hub.planOne', { type: p.modelType, params: fmtParams(p.parameters), n: p.files.length, bytes: p.downloadBytes !== null ? `, ${fmtBytes(p.downloadBytes)}` : '', dtype: p.dtype })}
          </p>
          <p data-testid="hub-estimate">
            {t('hub.estimate', { total: fmtBytes(p.estimate.totalBytes) })}
            {p.estimate.refusal ? <span className="error">{t('hub.noFit', { why: refusalSentence(p.estimate) })}</span> : t('hub.fits')}
          </p>
          {p.refusal ? (
            <p className="error" role="alert">
              {codeSentence(p.refusalCode?.code, p.refusalCode?.params, p.refusal)}
            </p>
          ) : (
            p.estimate.refusal &&
            p.fits.length > 0 && (
              <ul className="fits" data-testid="hub-fits" aria-label={t('hub.fitsAria')}>
                {p.fits.map((f) => (
                  <li key={f.label}>
                    <button
                      type="button"
                      disabled={busy}
                      onClick={async () => {
                        applyFit(f);
                        const r = await checkHubModel(p.repo, p.revision);
                        if (r && !r.estimate.refusal) await loadHubModel(p.repo, p.revision);
                      }}
                    >
                      {t('hub.useFit', { label: f.label, total: fmtBytes(f.totalBytes) })}
                    </button>
                  </li>
                ))}
              </ul>
            )
          )}
        </div>
      )}
      <details open>
        <summary>{t('hub.known')}</summary>
        <ul className="known-models" data-testid="known-models">
          {KNOWN_MODELS.map((m) => {
            const size = knownSize(m);
            const cfg = knownConfig(m);
            const seq = args.max_length ?? cfg.maxPositions;
            const est = estimateMemory(cfg, args, seq, limits);
            const fit = est.refusal ? fitOptions(cfg, args, seq, limits)[0] : undefined;
            return (
              <li key={m.repo} title={m.note}>
                <button type="button" className="link" disabled={busy} onClick={() => void pick(m.repo)} aria-label={t('hub.loadRepo', { repo: m.repo })}>
                  {m.repo}
                </button>{' '}
                <span className="muted">
                  {t('hub.knownLine', { params: fmtParams(size.parameters), bytes: fmtBytes(size.downloadBytes) })}{' '}
                  {est.refusal ? t('hub.tooMuch', { total: fmtBytes(est.totalBytes), fit: fit ? t('hub.tooMuchFit', { total: fmtBytes(fit.totalBytes), label: fit.label }) : '' }) : fmtBytes(est.totalBytes)}
                </span>
              </li>
            );
          })}
        </ul>
      </details>
      <p className="hint">{t('hub.hint')}</p>
    </form>
  );
}

/** Per-file progress of a Hub download: bytes, speed, time left; resumed files say from where. */
export function HubFiles() {
  const { t } = useT();
  const files = useHub((h) => h.files);
  const list = Object.values(files).sort((a, b) => a.fileIndex - b.fileIndex);
  const count = list[0]?.fileCount ?? 0;
  const weights = list.filter((f) => f.fileCount === count && count > 0);
  return (
    <div className="download" data-testid="hub-files">
      <p>
        {t('hub.downloading', { done: weights.filter((f) => f.total !== null && f.loaded >= f.total).length, n: count })}
      </p>
      <ul>
        {weights.map((f) => (
          <li key={f.file}>
            <label>
              {f.file}: {fmtBytes(f.loaded)}
              {f.total !== null ? t('progress.of', { total: fmtBytes(f.total) }) : ''}
              {f.total !== null && f.loaded >= f.total ? t('hub.done') : f.bytesPerSec > 0 ? t('hub.speed', { speed: fmtBytes(f.bytesPerSec), left: fmtTime(f.etaSec) }) : ''}
              {f.resumedFrom > 0 ? t('hub.resumed', { at: fmtBytes(f.resumedFrom) }) : ''}
              <progress max={f.total ?? 1} value={f.total ? f.loaded : undefined} aria-label={t('progress.aria', { label: f.file })} />
            </label>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The GPU pool's peak (since the page loaded), asked from the worker whenever a run pauses or ends. */
export function MemoryPeak() {
  const { t } = useT();
  const phase = useStore((s) => s.run.phase);
  const step = useStore((s) => s.run.step);
  const client = useStore((s) => s.client);
  const [mem, setMem] = useState<{ liveBytes: number; peakBytes: number } | null>(null);
  useEffect(() => {
    if (!client || !['paused', 'finished', 'stopped', 'training'].includes(phase)) return;
    let live = true;
    client.call({ type: 'gpuMemory' }).then((m) => live && setMem(m), () => undefined);
    return () => {
      live = false;
    };
  }, [client, phase, step]);
  if (!mem || mem.peakBytes === 0) return null;
  return (
    <>
      <dt>{t('hub.measured')}</dt>
      <dd data-testid="memory-peak" data-peak-bytes={mem.peakBytes}>
        {t('hub.peak', { peak: fmtBytes(mem.peakBytes), now: fmtBytes(mem.liveBytes) })}
      </dd>
    </>
  );
}
