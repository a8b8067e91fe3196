// What RLHF with PPO and DPO each hold in memory for this run's model: PPO keeps four models (policy,
// reference, reward model, value model) and trains two of them; DPO keeps two (policy, reference) and
// trains one; reference-free DPO (or precomputed reference log-probs) keeps one. Bytes are fp32 as the
// engine stores them; gradients + AdamW moments are 3 copies of what is trained. Pure.

export interface MethodMemory {
  method: 'PPO' | 'DPO' | 'reference-free DPO';
  models: string[];
  trained: number;
  weightsBytes: number;
  optimizerBytes: number;
}

export function methodMemory(parameters: number): MethodMemory[] {
  const copy = 4 * parameters;
  const m = (method: MethodMemory['method'], models: string[], trained: number): MethodMemory => ({ method, models, trained, weightsBytes: models.length * copy, optimizerBytes: 3 * trained * copy });
  return [
    m('PPO', ['policy', 'reference', 'reward model', 'value model'], 2),
    m('DPO', ['policy', 'reference'], 1),
    m('reference-free DPO', ['policy'], 1),
  ];
}
