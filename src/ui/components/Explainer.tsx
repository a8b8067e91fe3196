// Two paragraphs for someone who has never heard of DPO.
export function Explainer() {
  return (
    <details className="explainer" open>
      <summary>What is DPO doing?</summary>
      <p>
        Each training example is a <strong>prompt</strong> with two answers: one people <span className="chosen">preferred</span> and
        one they <span className="rejected">rejected</span>. Direct Preference Optimization nudges the model (the <em>policy</em>) to
        make the preferred answer more likely than the rejected one, <em>relative to</em> a frozen copy of the starting model (the{' '}
        <em>reference</em>). The implicit reward of an answer is r = beta × (log pi(answer) − log pi_ref(answer)).
      </p>
      <p>
        Loss = −log sigma(r_chosen − r_rejected). Its gradient weighs each pair by sigma(r_rejected − r_chosen): pairs the model
        still gets wrong pull hardest, pairs it already orders right barely matter. Beta sets how far the policy may drift from the
        reference (see the KL chart).
      </p>
    </details>
  );
}
