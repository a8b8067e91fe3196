// A run's saved state as bytes (safetensors): the trainable weights, AdamW's moments (and TR-DPO's drifting
// reference) as tensors, the rest (step, order, RNG, precomputed reference log-probs, options) as JSON
// metadata, so a paused or reloaded run continues exactly where it stopped.
import type { Gpu } from '../gpu/context';
import { downloadParams, type ParamSet } from '../model/params';
import { parseSafetensorsHeader, readTensor, writeSafetensors } from '../model/safetensors';
import { TrainerConfigError } from './trainer-args';

/** The tensor sets of a state, each under its name prefix ('param', 'm', 'v', 'ref'). */
export type StateSets = readonly (readonly [string, ParamSet])[];

/** The sets' tensors (downloaded from the GPU) and `meta` as the file's trainer_state. */
export async function writeState(gpu: Gpu, sets: StateSets, meta: unknown): Promise<Uint8Array> {
  const tensors: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const [prefix, set] of sets) {
    for (const [name, data] of await downloadParams(gpu, set)) tensors.push({ name: `${prefix}.${name}`, shape: [data.length], data });
  }
  return writeSafetensors(tensors, { trainer_state: JSON.stringify(meta) });
}

/** The saved metadata; throws for a file that is not a saved state. */
export function stateMeta<T>(bytes: Uint8Array): T {
  const meta = JSON.parse(parseSafetensorsHeader(bytes).metadata.trainer_state ?? 'null');
  if (!meta) throw new TrainerConfigError('This file is not a saved training state.', 'trainer.not-state');
  return meta as T;
}

/** Writes the saved tensors into the sets on the GPU; a tensor the state lacks means another model's state. */
export function readStateTensors(gpu: Gpu, bytes: Uint8Array, sets: StateSets): void {
  const h = parseSafetensorsHeader(bytes);
  for (const [prefix, set] of sets) {
    for (const [name, p] of set) {
      const e = h.tensors.get(`${prefix}.${name}`);
      if (!e) throw new TrainerConfigError(`The saved state has no ${prefix}.${name}: it belongs to another model.`, 'trainer.state-other-model', { tensor: `${prefix}.${name}` });
      const data = readTensor(bytes, e);
      let off = 0;
      for (const c of p.chunks) {
        gpu.write(c, data.subarray(off, off + c.size));
        off += c.size;
      }
    }
  }
}
