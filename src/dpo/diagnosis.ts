// Live diagnosis of a DPO run: rules over the train and eval metric history and the dataset's token
// lengths that name a known DPO behaviour when it shows, with the evidence (which chart, which steps, the
// numbers) as codes and numbers, and what to try as codes. Pure functions, no DOM and no sentences: the
// page (src/ui/explain/Diagnosis.tsx) says each code through i18next in English or Korean, and
// test/diagnosis.test.ts runs each rule on real runs of the engine.
//   diagnosis-types.ts       the data a finding is made of, and what the rules read
//   diagnosis-codes.ts       every evidence and what-to-try code with its params' kinds
//   diagnosis-thresholds.ts  the rules' thresholds
//   diagnosis-run-rules.ts   rules over the metric history
//   diagnosis-dataset-rules.ts rules over the dataset facts
//   diagnosis-dataset.ts     dataset facts from token lengths; sample lengths
//   diagnosis-loss.ts        the loss at h = 0
import { lossAtZero } from './diagnosis-loss';
import { lengthShortcut, pairsDropped, truncation } from './diagnosis-dataset-rules';
import { alwaysClipped, displacement, noLearning, nonFinite, overOptimisation, referenceMismatch } from './diagnosis-run-rules';
import type { Diagnosis, DiagnosisInput, Rule, Severity } from './diagnosis-types';

export * from './diagnosis-types';
export * from './diagnosis-codes';
export * from './diagnosis-thresholds';
export { lossAtZero, lossTerms } from './diagnosis-loss';
export { datasetFacts, datasetLengths, sampleLengths } from './diagnosis-dataset';

const RULES: Rule[] = [nonFinite, noLearning, referenceMismatch, overOptimisation, displacement, lengthShortcut, truncation, pairsDropped, alwaysClipped];

/** Every rule that fires on this run, alarms first. */
export function diagnose(inp: DiagnosisInput): Diagnosis[] {
  const a = inp.args;
  const l0 = lossAtZero(a.loss_type, a.beta, a.label_smoothing, a.loss_weights);
  const out: Diagnosis[] = [];
  for (const rule of RULES) {
    const d = rule(inp, l0);
    if (d) out.push(d);
  }
  const rank: Record<Severity, number> = { alarm: 0, warning: 1, note: 2 };
  return out.sort((x, y) => rank[x.severity] - rank[y.severity]);
}
