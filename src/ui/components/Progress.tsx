import { fmtBytes } from '../format';
import { useT } from '../i18n';

export function DownloadBar({ progress, label }: { progress?: { file: string; loaded: number; total: number | null }; label: string }) {
  const { t } = useT();
  if (!progress) return <p className="muted">{label}…</p>;
  const pct = progress.total ? Math.min(100, (100 * progress.loaded) / progress.total) : undefined;
  return (
    <div className="download">
      <label>
        {label}: {progress.file} ({fmtBytes(progress.loaded)}
        {progress.total ? t('progress.of', { total: fmtBytes(progress.total) }) : ''})
        <progress max={100} value={pct} aria-label={t('progress.aria', { label })} />
      </label>
    </div>
  );
}
