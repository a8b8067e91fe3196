// The math, typeset: the KL-constrained objective DPO solves, its optimal policy, the implicit reward, the
// Bradley-Terry model, and the selected loss type's loss and gradient weight.
import { lossTerms } from '../../dpo/diagnosis';
import type { DpoLossKind } from '../../gpu/reference/dpo_loss';
import { useT } from '../i18n';
import { useStore } from '../store';
import { BRADLEY_TERRY, GRADIENT, H_DEF, IMPLICIT_REWARD, lossTex, OBJECTIVE, OPTIMUM, weightTex } from './formulas';
import { Tex } from './Tex';

export function MathPanel() {
  const { t } = useT();
  const lossType = useStore((s) => s.args.loss_type);
  const weights = useStore((s) => (s.args as { loss_weights?: number[] | null }).loss_weights);
  const terms = lossTerms(lossType, weights);
  const kind = (terms[0]?.kind ?? 'sigmoid') as DpoLossKind;
  const w = terms.length === 1 ? weightTex(kind) : null;
  return (
    <section className="math" aria-labelledby="math-title" data-testid="math-panel">
      <h3 id="math-title">{t('math.title')}</h3>
      <p>{t('math.objective')}</p>
      <Tex display tex={OBJECTIVE} />
      <p>{t('math.optimum')}</p>
      <Tex display tex={OPTIMUM} />
      <p>{t('math.reward')}</p>
      <Tex display tex={IMPLICIT_REWARD} />
      <p>{t('math.bt')}</p>
      <Tex display tex={BRADLEY_TERRY} />
      <p>{t('math.with')}</p>
      <Tex display tex={H_DEF} />
      <p>
        {t(terms.length > 1 ? 'math.lossSum' : 'math.loss', { loss: lossType })}
      </p>
      <div data-testid="math-loss">
        {terms.length > 1 && <Tex display tex={`\\ell = ${terms.map((t, i) => `${t.weight === 1 ? '' : t.weight}\\,\\ell_{${i + 1}}`).join(' + ')}`} />}
        {terms.map((t) => (
          <Tex key={t.kind} display tex={lossTex(t.kind as DpoLossKind)} />
        ))}
      </div>
      <p>{t('math.gradient')}</p>
      <Tex display tex={GRADIENT} />
      {w ? (
        <div data-testid="math-weight">
          <Tex display tex={w} />
        </div>
      ) : (
        <p className="hint">{t('math.notHAlone', { loss: lossType })}</p>
      )}
    </section>
  );
}
