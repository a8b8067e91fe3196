// The reference model's two services to the trainer loop: its log-probs of every pair computed once
// (precompute_ref_log_probs, after which its weights can leave the GPU), and TR-DPO's sync of the
// reference towards the policy (TRL's SyncRefModelCallback).
import type { Gpu } from '../gpu/context';
import { add, scale } from '../gpu/ops/elementwise';
import type { ParamSet } from '../model/params';
import type { Transformer } from '../model/transformer';
import { releasePairBatch, uploadPairBatch } from './gpu-batch';
import { dpoMicroStep } from './step';
import type { DpoBatch, TokenizedPair } from './tokenize';
import { StartInterrupted } from './trainer-args';

/** What the precompute needs of the trainer: its collator, its loss options, and whether a pause or stop came in. */
export interface PrecomputeHost {
  pack(pairs: readonly TokenizedPair[]): DpoBatch;
  lossOpts(): Parameters<typeof dpoMicroStep>[4];
  interrupted?: () => boolean;
}

/** The reference log-probs [chosen, rejected] of every pair, in batches of bs (TRL: precompute_ref_batch_size). */
export async function referenceLogps(gpu: Gpu, ref: Transformer, pairs: readonly TokenizedPair[], bs: number, h: PrecomputeHost): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < pairs.length; i += bs) {
    if (h.interrupted?.()) throw new StartInterrupted('The start was interrupted while computing the reference log-probs.');
    const chunk = pairs.slice(i, i + bs);
    const batch = uploadPairBatch(gpu, h.pack(chunk));
    const r = await dpoMicroStep(gpu, ref, { logps: new Float32Array(2 * chunk.length) }, batch, h.lossOpts());
    releasePairBatch(gpu, batch);
    const N = chunk.length;
    for (let j = 0; j < N; j++) out.push(Float32Array.of(r.policyLogps[j], r.policyLogps[N + j]));
  }
  return out;
}

/** TR-DPO (TRL's SyncRefModelCallback): reference = alpha * policy + (1 - alpha) * reference, tensor by tensor. */
export function syncReference(gpu: Gpu, policy: ParamSet, ref: ParamSet, alpha: number): void {
  for (const [name, p] of policy) {
    const q = ref.get(name)!;
    p.chunks.forEach((c, i) => {
      const a = gpu.tensor([c.size]);
      const b = gpu.tensor([c.size]);
      scale(gpu, q.chunks[i], a, c.size, 1 - alpha);
      scale(gpu, c, b, c.size, alpha);
      add(gpu, a, b, q.chunks[i], c.size);
      gpu.release(a, b);
    });
  }
}
