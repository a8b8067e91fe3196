// What DPO is doing, for someone who has never heard of it: two paragraphs with the formulas typeset,
// then (folded) the math DPO solves and RLHF next to DPO with this run's memory.
import { IMPLICIT_REWARD } from '../explain/formulas';
import { MathPanel } from '../explain/MathPanel';
import { RlhfVsDpo } from '../explain/RlhfVsDpo';
import { Tex } from '../explain/Tex';
import { Trans } from 'react-i18next';
import { i18n, useT } from '../i18n';

export function Explainer() {
  const { t } = useT();
  return (
    <details className="explainer" open>
      <summary>{t('explainer.title')}</summary>
      <p>
        <Trans
          i18n={i18n}
          i18nKey="explainer.p1"
          components={{ strong: <strong />, em: <em />, chosen: <span className="chosen" />, rejected: <span className="rejected" />, reward: <Tex tex={IMPLICIT_REWARD} /> }}
        />
      </p>
      <p>
        <Trans i18n={i18n} i18nKey="explainer.p2" components={{ loss: <Tex tex="\ell = -\log\sigma(r_w - r_l)" />, weight: <Tex tex="\sigma(r_l - r_w)" />, beta: <Tex tex="\beta" /> }} />
      </p>
      <details className="more">
        <summary>{t('explainer.math')}</summary>
        <MathPanel />
      </details>
      <details className="more">
        <summary>{t('explainer.rlhf')}</summary>
        <RlhfVsDpo />
      </details>
    </details>
  );
}
