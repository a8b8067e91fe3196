// The error a checkpoint folder (file name -> bytes) is refused with; fails the test when it loads.
import { loadCheckpoint, mapSource } from '../../src/model/weights';

export async function loadError(files: Map<string, Uint8Array>): Promise<Error> {
  try {
    await loadCheckpoint(mapSource(files));
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected loadCheckpoint to fail');
}
