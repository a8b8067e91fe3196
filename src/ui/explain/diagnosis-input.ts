// The live diagnosis's input from the page's state: the run's metric history, its arguments, the dataset's
// token lengths and counts, the demo's sample lengths and the error a failed run ended with.
import { datasetFacts, sampleLengths, type DiagnosisInput, type SampleLengths } from '../../dpo/diagnosis';
import type { State } from '../store';

export function diagnosisInput(s: State): DiagnosisInput {
  const info = s.dataset.info;
  const a = s.args;
  const dataset =
    info?.lengths && info.report
      ? datasetFacts(info.lengths, {
          maxLength: a.max_length,
          truncationMode: a.truncation_mode,
          totalRows: info.report.totalRows,
          dropped: info.report.skippedCount + info.tooLong,
          droppedTooLong: info.tooLong,
        })
      : null;
  const run = s.frontierRuns.find((r) => r.id === s.run.id);
  const samples = (run?.points ?? []).map((p) => sampleLengths(p.step, p.samples)).filter((x): x is SampleLengths => x !== null);
  const failure = s.run.phase === 'error' && s.run.error ? { message: s.run.error, step: s.run.step } : null;
  return { history: s.history, evalHistory: s.evalHistory, args: a, dataset, samples, failure };
}

/** Scrolls to a chart (or panel) and moves the keyboard focus there. */
export function focusTarget(id: string): void {
  const el = document.getElementById(id);
  if (!el) return;
  el.scrollIntoView({ block: 'center' });
  el.focus({ preventScroll: true });
}

/** The element each evidence chart id points at. */
export const anchorOf = (chart: string): string => (chart === 'dataset' ? 'dataset-panel' : chart === 'frontier' ? 'frontier-panel' : `chart-${chart}`);
