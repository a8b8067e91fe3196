/**
 * A file the user gave us is not a usable preference dataset. The message is one sentence for the UI;
 * `code` (dataset.<case>) and `params` let the page say it in its language (src/worker/error-code.ts).
 */
export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(message: string, code?: string, params?: Record<string, string | number>) {
    super(message);
    // set, not declared: subclasses (UnpairedDataError) declare their own `code` and `params`
    if (code) Object.assign(this, params ? { code, params } : { code });
  }
}

/**
 * A compressed or Parquet file that breaks part way (cut short, or damaged bytes): refused whole, with
 * the number of records read before the break, so nothing trains on a part of a file as if it were all.
 */
export class CorruptFileError extends DatasetError {
  override name = 'CorruptFileError';
  constructor(
    message: string,
    readonly format: 'gzip' | 'bzip2' | 'parquet',
    readonly reason: 'truncated' | 'corrupt',
    readonly recordsRead: number,
  ) {
    super(message);
  }
}
