// RLHF next to DPO: the two pipelines, and what each holds in memory with this run's model, next to
// this run's own memory estimate.
import { fmtBytes } from '../format';
import { useT } from '../i18n';
import { useStore } from '../store';
import { methodMemory } from './rlhf-memory';

export function RlhfVsDpo() {
  const { t } = useT();
  const params = useStore((s) => s.model.info?.parameters);
  const est = useStore((s) => s.estimate);
  const a = useStore((s) => s.args);
  const rows = params ? methodMemory(params) : [];
  const thisRun = a.reference_free || a.precompute_ref_log_probs ? 'reference-free DPO' : 'DPO';
  return (
    <section className="rlhf" aria-labelledby="rlhf-title" data-testid="rlhf-panel">
      <h3 id="rlhf-title">{t('explainer.rlhf')}</h3>
      <div className="pipelines">
        <div>
          <h4>RLHF (PPO)</h4>
          <ol className="pipeline">
            <li>{t('rlhf.sft')}</li>
            <li>{t('rlhf.rm')}</li>
            <li>{t('rlhf.ppo')}</li>
          </ol>
        </div>
        <div>
          <h4>DPO</h4>
          <ol className="pipeline">
            <li>{t('rlhf.sft')}</li>
            <li>{t('rlhf.dpo')}</li>
          </ol>
        </div>
      </div>
      {rows.length > 0 ? (
        <table className="logps" data-testid="rlhf-memory">
          <caption>{t('rlhf.caption', { m: (params! / 1e6).toFixed(params! < 1e7 ? 2 : 0) })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('rlhf.colMethod')}</th>
              <th scope="col">{t('rlhf.colModels')}</th>
              <th scope="col">{t('rlhf.colWeights')}</th>
              <th scope="col">{t('rlhf.colOptim')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.method} className={r.method === thisRun ? 'this-run' : undefined}>
                <th scope="row">
                  {t(`rlhf.method.${r.method}`, { defaultValue: r.method })}
                  {r.method === thisRun ? t('rlhf.thisRun') : ''}
                </th>
                <td>
                  {r.models.length}: {r.models.map((x) => t(`rlhf.model.${x}`, { defaultValue: x })).join(', ')}
                </td>
                <td>{fmtBytes(r.weightsBytes)}</td>
                <td>{fmtBytes(r.optimizerBytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">{t('rlhf.needModel')}</p>
      )}
      {est && (
        <p data-testid="rlhf-this-run">
          {t('rlhf.estimate', { w: fmtBytes(est.weightsBytes), o: fmtBytes(est.optimizerBytes), a: fmtBytes(est.activationBytes), total: fmtBytes(est.totalBytes), lora: a.lora ? t('rlhf.lora') : '' })}
        </p>
      )}
    </section>
  );
}
