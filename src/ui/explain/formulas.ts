// The math of DPO as TeX, for KaTeX: the objective DPO solves, its closed-form policy, the implicit
// reward, the Bradley-Terry model and, per TRL loss type, the loss and its gradient weight. Notation:
// h_w = log pi(y_w) - log pi_ref(y_w), h_l likewise, h = h_w - h_l, r_w = beta h_w, r_l = beta h_l.
import type { DpoLossKind } from '../../gpu/reference/dpo_loss';

export const OBJECTIVE = '\\max_{\\pi_\\theta}\\; \\mathbb{E}_{x\\sim\\mathcal{D},\\, y\\sim\\pi_\\theta(\\cdot\\mid x)}\\big[r(x,y)\\big] \\;-\\; \\beta\\, \\mathbb{D}_{\\mathrm{KL}}\\big[\\pi_\\theta(\\cdot\\mid x)\\,\\big\\|\\,\\pi_{\\mathrm{ref}}(\\cdot\\mid x)\\big]';
export const OPTIMUM = '\\pi^*(y\\mid x) = \\frac{1}{Z(x)}\\,\\pi_{\\mathrm{ref}}(y\\mid x)\\,\\exp\\!\\Big(\\frac{1}{\\beta}\\,r(x,y)\\Big)';
export const IMPLICIT_REWARD = '\\hat r_\\theta(x,y) = \\beta \\log \\frac{\\pi_\\theta(y\\mid x)}{\\pi_{\\mathrm{ref}}(y\\mid x)}';
export const BRADLEY_TERRY = 'p(y_w \\succ y_l \\mid x) = \\frac{e^{r(x,y_w)}}{e^{r(x,y_w)} + e^{r(x,y_l)}} = \\sigma\\big(r(x,y_w) - r(x,y_l)\\big)';
export const H_DEF = 'h = \\underbrace{\\log\\frac{\\pi_\\theta(y_w\\mid x)}{\\pi_{\\mathrm{ref}}(y_w\\mid x)}}_{h_w} - \\underbrace{\\log\\frac{\\pi_\\theta(y_l\\mid x)}{\\pi_{\\mathrm{ref}}(y_l\\mid x)}}_{h_l}, \\qquad r_w = \\beta h_w,\\; r_l = \\beta h_l';
export const GRADIENT = '\\nabla_\\theta \\ell = -\\beta\\, w \\,\\big[\\nabla_\\theta \\log \\pi_\\theta(y_w\\mid x) - \\nabla_\\theta \\log \\pi_\\theta(y_l\\mid x)\\big], \\qquad w = -\\frac{1}{\\beta}\\frac{\\partial \\ell}{\\partial h}';

const LS = '-\\log\\sigma(\\beta h)';
const norm = '\\frac{h_w}{|y_w|} - \\frac{h_l}{|y_l|}';

/** The loss of one pair for each kind (TRL 1.13's DPOTrainer, reverse-KL score). */
export const LOSS_TEX: Partial<Record<DpoLossKind, string>> = {
  sigmoid: `\\ell = ${LS}`,
  cdpo: `\\ell = -(1-\\varepsilon)\\log\\sigma(\\beta h) - \\varepsilon\\log\\sigma(-\\beta h)`,
  robust: `\\ell = \\frac{-(1-\\varepsilon)\\log\\sigma(\\beta h) + \\varepsilon\\log\\sigma(-\\beta h)}{1-2\\varepsilon}`,
  hinge: '\\ell = \\max(0,\\; 1 - \\beta h)',
  ipo: `\\ell = \\Big(${norm} - \\frac{1}{2\\beta}\\Big)^2`,
  sigmoid_norm: `\\ell = -\\log\\sigma\\Big(\\beta\\Big(${norm}\\Big)\\Big)`,
  exo_pair: '\\ell = \\sigma(\\beta h)\\big(\\log\\sigma(\\beta h) - \\log(1-\\varepsilon)\\big) + \\sigma(-\\beta h)\\big(\\log\\sigma(-\\beta h) - \\log\\varepsilon\\big)',
  nca_pair: '\\ell = -\\log\\sigma(r_w) - \\tfrac12\\log\\sigma(-r_w) - \\tfrac12\\log\\sigma(-r_l)',
  bco_pair: '\\ell = -\\log\\sigma(r_w) - \\log\\sigma(-r_l)',
  sppo_hard: '\\ell = \\Big(h_w - \\frac{1}{2\\beta}\\Big)^2 + \\Big(h_l + \\frac{1}{2\\beta}\\Big)^2',
  apo_zero: '\\ell = 1 - \\sigma(r_w) + \\sigma(r_l)',
  apo_down: '\\ell = \\sigma(r_w) + 1 - \\sigma(r_w - r_l)',
  discopop: '\\ell = -\\log\\sigma(\\beta h)\\,(1-m) + e^{-\\beta h}\\, m, \\qquad m = \\sigma(\\beta h/\\tau)',
  sft: '\\ell = -\\frac{1}{|y_w|}\\log\\pi_\\theta(y_w\\mid x)',
  aot: '\\ell = -\\log\\sigma\\big(\\beta\\,(\\mathrm{sort}(\\log\\pi_\\theta(y_w) - \\log\\pi_\\theta(y_l)) - \\mathrm{sort}(\\log\\pi_{\\mathrm{ref}}(y_w) - \\log\\pi_{\\mathrm{ref}}(y_l)))\\big)',
  aot_unpaired: '\\ell = -\\log\\sigma\\big(\\beta\\,(\\mathrm{sort}(h_w) - \\mathrm{sort}(h_l))\\big)',
};

/** The gradient weight w = -(1/beta) d loss / d h, where the loss is a function of h. */
export const WEIGHT_TEX: Partial<Record<DpoLossKind, string>> = {
  sigmoid: 'w = \\sigma(-\\beta h) = \\sigma(r_l - r_w)',
  cdpo: 'w = (1-\\varepsilon)\\,\\sigma(-\\beta h) - \\varepsilon\\,\\sigma(\\beta h)',
  robust: 'w = \\frac{(1-\\varepsilon)\\,\\sigma(-\\beta h) + \\varepsilon\\,\\sigma(\\beta h)}{1-2\\varepsilon}',
  hinge: 'w = \\mathbb{1}[\\beta h < 1]',
  ipo: `w = -\\frac{2}{\\beta\\,|y_w|}\\Big(${norm} - \\frac{1}{2\\beta}\\Big) \\;\\text{(on } y_w\\text{; } y_l \\text{ with } |y_l|\\text{)}`,
};

export const lossTex = (k: DpoLossKind): string => LOSS_TEX[k] ?? `\\ell = \\ell_{\\texttt{${k.replace(/_/g, '\\_')}}}(h_w, h_l)`;
export const weightTex = (k: DpoLossKind): string | null => WEIGHT_TEX[k] ?? null;
