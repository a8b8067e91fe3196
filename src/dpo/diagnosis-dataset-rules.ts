// The rules over the dataset (token lengths and the loader's counts, DatasetFacts): a length shortcut,
// truncation that cuts most completions, and many pairs dropped. Each returns data; the page says it.
import { evidence, tryThis } from './diagnosis-codes';
import { DROPPED_SHARE, LENGTH_SHARE, SAMPLE_GROWTH, TRUNCATION_SHARE } from './diagnosis-thresholds';
import type { Evidence, Rule, Severity } from './diagnosis-types';

export const lengthShortcut: Rule = ({ dataset, samples }) => {
  if (!dataset || dataset.pairs === 0 || dataset.chosenLonger < LENGTH_SHARE) return null;
  const ev: Evidence[] = [evidence('dataset', null, 'length-shortcut.pairs', { share: dataset.chosenLonger, pairs: dataset.pairs, meanChosen: dataset.meanChosen, meanRejected: dataset.meanRejected })];
  let severity: Severity = 'warning';
  const s = samples?.filter((x) => x.reference > 0) ?? [];
  if (s.length) {
    const last = s.at(-1)!;
    const growth = last.policy / last.reference;
    ev.push(evidence('frontier', [s[0].step, last.step], 'length-shortcut.samples', { policy: last.policy, step: last.step, reference: last.reference, growth: growth - 1 }));
    if (growth >= SAMPLE_GROWTH) severity = 'alarm';
  }
  return {
    rule: 'length-shortcut',
    severity,
    evidence: ev,
    tryThis: [tryThis('length-normalised-loss'), tryThis('balance-lengths'), tryThis('compare-sample-lengths')],
  };
};

export const truncation: Rule = ({ dataset }) => {
  if (!dataset || dataset.pairs === 0 || dataset.truncated < TRUNCATION_SHARE) return null;
  return {
    rule: 'truncation',
    severity: 'alarm',
    // truncated > 0 needs a max_length, so it is a number here
    evidence: [evidence('dataset', null, 'truncation.cut', { maxLength: dataset.maxLength ?? NaN, share: dataset.truncated, bothShare: dataset.bothTruncated })],
    tryThis: [tryThis('raise-max-length'), tryThis('shorten-prompts')],
  };
};

export const pairsDropped: Rule = ({ dataset }) => {
  if (!dataset || dataset.totalRows === 0 || dataset.dropped / dataset.totalRows < DROPPED_SHARE) return null;
  const counts = { dropped: dataset.dropped, total: dataset.totalRows, share: dataset.dropped / dataset.totalRows };
  return {
    rule: 'pairs-dropped',
    severity: 'warning',
    evidence: [dataset.droppedTooLong ? evidence('dataset', null, 'pairs-dropped.count-too-long', { ...counts, tooLong: dataset.droppedTooLong }) : evidence('dataset', null, 'pairs-dropped.count', counts)],
    tryThis: [tryThis('read-drop-reasons'), tryThis('raise-max-length-prompts')],
  };
};
