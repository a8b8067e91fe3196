// The math, typeset: the KL-constrained objective DPO solves, its optimal policy, the implicit reward, the
// Bradley-Terry model, and the selected loss type's loss and gradient weight.
import { lossTerms } from '../../dpo/diagnosis';
import type { DpoLossKind } from '../../gpu/reference/dpo_loss';
import { useStore } from '../store';
import { BRADLEY_TERRY, GRADIENT, H_DEF, IMPLICIT_REWARD, lossTex, OBJECTIVE, OPTIMUM, weightTex } from './formulas';
import { Tex } from './Tex';

export function MathPanel() {
  const lossType = useStore((s) => s.args.loss_type);
  const weights = useStore((s) => (s.args as { loss_weights?: number[] | null }).loss_weights);
  const terms = lossTerms(lossType, weights);
  const kind = (terms[0]?.kind ?? 'sigmoid') as DpoLossKind;
  const w = terms.length === 1 ? weightTex(kind) : null;
  return (
    <section className="math" aria-labelledby="math-title" data-testid="math-panel">
      <h3 id="math-title">The math</h3>
      <p>RLHF maximises a reward while a KL penalty keeps the policy near the reference:</p>
      <Tex display tex={OBJECTIVE} />
      <p>Its maximiser has a closed form (Z(x) normalises over all answers):</p>
      <Tex display tex={OPTIMUM} />
      <p>Solved for r, the reward is a log-ratio (Z(x) cancels between two answers to the same prompt): DPO's implicit reward.</p>
      <Tex display tex={IMPLICIT_REWARD} />
      <p>People's preferences follow the Bradley-Terry model of the rewards:</p>
      <Tex display tex={BRADLEY_TERRY} />
      <p>Maximising its likelihood with the implicit reward gives the loss. With</p>
      <Tex display tex={H_DEF} />
      <p>
        the <code>{lossType}</code> loss of one pair is{terms.length > 1 ? ' the weighted sum of its terms' : ''}
      </p>
      <div data-testid="math-loss">
        {terms.length > 1 && <Tex display tex={`\\ell = ${terms.map((t, i) => `${t.weight === 1 ? '' : t.weight}\\,\\ell_{${i + 1}}`).join(' + ')}`} />}
        {terms.map((t) => (
          <Tex key={t.kind} display tex={lossTex(t.kind as DpoLossKind)} />
        ))}
      </div>
      <p>and its gradient moves the two log-probs apart, each pair weighted by w:</p>
      <Tex display tex={GRADIENT} />
      {w ? (
        <div data-testid="math-weight">
          <Tex display tex={w} />
        </div>
      ) : (
        <p className="hint">For {lossType} the loss is not a function of h alone; its derivatives with respect to h_w and h_l differ.</p>
      )}
    </section>
  );
}
