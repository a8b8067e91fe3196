// What DPO is doing, for someone who has never heard of it: two paragraphs with the formulas typeset,
// then (folded) the math DPO solves and RLHF next to DPO with this run's memory.
import { IMPLICIT_REWARD } from '../explain/formulas';
import { MathPanel } from '../explain/MathPanel';
import { RlhfVsDpo } from '../explain/RlhfVsDpo';
import { Tex } from '../explain/Tex';

export function Explainer() {
  return (
    <details className="explainer" open>
      <summary>What is DPO doing?</summary>
      <p>
        Each training example is a <strong>prompt</strong> with two answers: one people <span className="chosen">preferred</span> and
        one they <span className="rejected">rejected</span>. Direct Preference Optimization nudges the model (the <em>policy</em>) to
        make the preferred answer more likely than the rejected one, <em>relative to</em> a frozen copy of the starting model (the{' '}
        <em>reference</em>). The implicit reward of an answer is <Tex tex={IMPLICIT_REWARD} />.
      </p>
      <p>
        The loss is <Tex tex="\ell = -\log\sigma(r_w - r_l)" />. Its gradient weighs each pair by <Tex tex="\sigma(r_l - r_w)" />: pairs the model still gets
        wrong pull hardest, pairs it already orders right barely matter. <Tex tex="\beta" /> sets how far the policy may drift from the reference (see the KL
        chart).
      </p>
      <details className="more">
        <summary>The math, typeset</summary>
        <MathPanel />
      </details>
      <details className="more">
        <summary>RLHF next to DPO</summary>
        <RlhfVsDpo />
      </details>
    </details>
  );
}
