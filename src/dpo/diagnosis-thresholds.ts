// The diagnosis rules' thresholds, named so the rules, their tests and the page's sentences agree.

/** Steps after which a loss still at its h = 0 value counts as "not learning". */
export const NO_LEARNING_STEPS = 10;
/** How close to the h = 0 loss (relative) and to zero rewards the stuck run stays. */
export const NO_LEARNING_TOL = 1e-3;
/** First-step loss off its h = 0 value by more than this (absolute) means the reference is not the start. */
export const FIRST_STEP_TOL = 1e-3;
/** Over-optimisation: loss below this share of the h = 0 loss, accuracy at least OVEROPT_ACC over the last window. */
export const OVEROPT_LOSS_SHARE = 0.05;
export const OVEROPT_ACC = 0.99;
/** ...and eval loss up by this factor from its lowest point (or above the untrained h = 0 loss), or the KL per token up by this factor over the run. */
export const OVEROPT_EVAL_RISE = 1.2;
export const OVEROPT_KL_RISE = 1.5;
/** Steps averaged at each end of a window. */
export const WINDOW = 5;
/** Likelihood displacement: the chosen completions' log-prob this many nats (per sequence) below the reference's. */
export const DISPLACEMENT_NATS = 20;
/** Length shortcut: chosen longer in at least this share of pairs. */
export const LENGTH_SHARE = 0.7;
/** ...and the policy's samples this much longer than the reference's. */
export const SAMPLE_GROWTH = 1.2;
/** Truncation: at least this share of completions cut. */
export const TRUNCATION_SHARE = 0.5;
/** Pairs dropped: at least this share of the file's records. */
export const DROPPED_SHARE = 0.05;
/** Clipping: every step of at least this many clipped, with the median norm this many times max_grad_norm. */
export const CLIP_STEPS = 10;
export const CLIP_RATIO = 5;
