// Preference datasets: reading (JSONL/JSON/Parquet, gzipped or not), format detection, validation, splits.
export { CorruptFileError, DatasetError } from './errors';
export type * from './types';
export { readRecords, type DatasetSource, type FileKind, type RawRecord, type ReadOptions, type ReadProgress, type ReadResult } from './read';
export { loadPreferenceDataset, pairsFromRecords, trlRecord, unpairedRecord, withSkipped, type LoadOptions, type PairsOptions, type PreferenceDataset } from './dataset';
export { isUnpairedRecords, UnpairedDataError, unpairedFromRecords, type UnpairedSet } from './unpaired';
export { extractPromptTrl, extractPromptLastAssistant } from './prompt';
export { splitTrainEval, seededPermutation, mulberry32, type SplitOptions } from './split';
