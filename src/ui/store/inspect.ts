// Looking at the model mid-run: samples from the current weights, an evaluation now, the selected pair.
import type { SampleOptions } from '../../worker/protocol';
import { client, message, patch } from './state';

export async function sample(prompts: string[], o: SampleOptions): Promise<void> {
  patch({ sampling: true, sampleError: null });
  try {
    const samples = await client().call({ type: 'sample', prompts, options: o });
    patch({ samples, sampling: false });
  } catch (e) {
    patch({ sampling: false, sampleError: message(e) });
  }
}

export async function evaluateNow(): Promise<void> {
  try {
    await client().call({ type: 'evaluate' });
  } catch (e) {
    patch({ statusLine: message(e) });
  }
}

export function selectPair(i: number | null): void {
  patch({ selectedPair: i });
}
