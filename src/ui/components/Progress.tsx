import { fmtBytes } from '../../worker/memory';

export function DownloadBar({ progress, label }: { progress?: { file: string; loaded: number; total: number | null }; label: string }) {
  if (!progress) return <p className="muted">{label}…</p>;
  const pct = progress.total ? Math.min(100, (100 * progress.loaded) / progress.total) : undefined;
  return (
    <div className="download">
      <label>
        {label}: {progress.file} ({fmtBytes(progress.loaded)}
        {progress.total ? ` of ${fmtBytes(progress.total)}` : ''})
        <progress max={100} value={pct} aria-label={`${label} progress`} />
      </label>
    </div>
  );
}
