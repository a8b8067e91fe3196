/** A file the user gave us is not a usable preference dataset. The message is one sentence for the UI. */
export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(message: string) {
    super(message);
  }
}
