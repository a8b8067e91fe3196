// RLHF next to DPO: the two pipelines, and what each holds in memory with this run's model, next to
// this run's own memory estimate.
import { fmtBytes } from '../../worker/memory';
import { useStore } from '../store';
import { methodMemory } from './rlhf-memory';

export function RlhfVsDpo() {
  const params = useStore((s) => s.model.info?.parameters);
  const est = useStore((s) => s.estimate);
  const a = useStore((s) => s.args);
  const rows = params ? methodMemory(params) : [];
  const thisRun = a.reference_free || a.precompute_ref_log_probs ? 'reference-free DPO' : 'DPO';
  return (
    <section className="rlhf" aria-labelledby="rlhf-title" data-testid="rlhf-panel">
      <h3 id="rlhf-title">RLHF next to DPO</h3>
      <div className="pipelines">
        <div>
          <h4>RLHF (PPO)</h4>
          <ol className="pipeline">
            <li>SFT on demonstrations</li>
            <li>Train a reward model on the preference pairs (Bradley-Terry)</li>
            <li>PPO: sample from the policy, score with the reward model, update with a KL penalty to the reference</li>
          </ol>
        </div>
        <div>
          <h4>DPO</h4>
          <ol className="pipeline">
            <li>SFT on demonstrations</li>
            <li>DPO on the preference pairs: the policy is its own reward model, no sampling while training</li>
          </ol>
        </div>
      </div>
      {rows.length > 0 ? (
        <table className="logps" data-testid="rlhf-memory">
          <caption>Models in memory with this model ({(params! / 1e6).toFixed(params! < 1e7 ? 2 : 0)} M parameters, fp32)</caption>
          <thead>
            <tr>
              <th scope="col">method</th>
              <th scope="col">models held</th>
              <th scope="col">weights</th>
              <th scope="col">gradients + AdamW</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.method} className={r.method === thisRun ? 'this-run' : undefined}>
                <th scope="row">
                  {r.method}
                  {r.method === thisRun ? ' (this run)' : ''}
                </th>
                <td>
                  {r.models.length}: {r.models.join(', ')}
                </td>
                <td>{fmtBytes(r.weightsBytes)}</td>
                <td>{fmtBytes(r.optimizerBytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">Load a model to see what each method would hold in memory.</p>
      )}
      {est && (
        <p data-testid="rlhf-this-run">
          This run's estimate: weights {fmtBytes(est.weightsBytes)}, gradients + AdamW {fmtBytes(est.optimizerBytes)}, activations {fmtBytes(est.activationBytes)}, total{' '}
          {fmtBytes(est.totalBytes)}
          {a.lora ? ' (LoRA: the reference is the base with the adapters off, so it costs no second copy)' : ''}.
        </p>
      )}
    </section>
  );
}
