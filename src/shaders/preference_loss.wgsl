// Fused loss of CPO / SimPO, ORPO and KTO (TRL 1.13) for N rows: per-row loss, TRL's rewards and
// d(scale * loss)/d(policy sequence log-prob sums) and d/d(the NLL's sums), in one dispatch. Formulas and
// the float64 twin: src/gpu/reference/preference_loss.ts. Inputs [2N]: chosen 0..N-1, rejected N..2N-1
// (KTO: completions, then their mismatched KL completions). One workgroup; the batch-wide terms (the NLL
// mean, KTO's KL reference point) are re-summed by every thread, O(N^2) for a few dozen rows.
// kind ids: 0 cpo sigmoid 1 cpo hinge 2 cpo ipo 3 cpo simpo 4 orpo 5 kto.

struct P {
  n: u32, kind: u32, beta: f32, eps: f32,
  scale: f32, alpha: f32, gamma: f32, w_des: f32,
  w_und: f32, nll_tokens: f32, pad0: u32, pad1: u32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> policy: array<f32>;
@group(0) @binding(2) var<storage, read> reference: array<f32>;
// [4N]: completion lengths [2N] | NLL sums of the chosen rows [N] | KTO labels [N]
@group(0) @binding(3) var<storage, read> aux: array<f32>;
@group(0) @binding(4) var<storage, read_write> losses: array<f32>;
@group(0) @binding(5) var<storage, read_write> rewards: array<f32>;
// [3N]: d/d policy sums [2N] | d/d NLL sums [N]
@group(0) @binding(6) var<storage, read_write> grad: array<f32>;
// [3]: ORPO mean log sigma(log odds), mean log odds; KTO z; CPO nll | then the NLL term (nll_loss)
@group(0) @binding(7) var<storage, read_write> stats: array<f32>;

// log1p_01, logsig, sigmoid: stable_math.wgsl, prepended by the host.

// exp(x) - 1, accurate near 0 (WGSL has no expm1)
fn expm1(x: f32) -> f32 {
  if (abs(x) < 1e-3) { return x * (1.0 + x * (0.5 + x / 6.0)); }
  return exp(x) - 1.0;
}

// log(1 - exp(x)) for x < 0, TRL's branch at -ln 2
fn log1mexp(x: f32) -> f32 {
  if (x < -0.6931471805599453) { let e = exp(x); return select(log(1.0 - e), -e - 0.5 * e * e, e < 1e-3); }
  return log(-expm1(x));
}

fn averaged() -> bool { return p.kind == 2u || p.kind == 3u || p.kind == 4u; }

fn x_of(s: u32) -> f32 {
  if (averaged()) { return policy[s] / max(aux[s], 1.0); }
  return policy[s];
}

fn orpo_log_odds(i: u32) -> f32 {
  let n = p.n;
  let xc = x_of(i);
  let xr = x_of(n + i);
  return (xc - xr) - (log1mexp(xc) - log1mexp(xr));
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3u) {
  let n = p.n;
  let beta = p.beta;
  let g = p.scale;
  let fn_ = f32(n);
  // the NLL term (a batch mean over nll_tokens) and KTO's KL reference point, summed by every thread
  var nll = 0.0;
  var kl = 0.0;
  for (var j = 0u; j < n; j++) {
    nll += aux[2u * n + j];
    if (p.kind == 5u) { kl += policy[n + j] - reference[n + j]; }
  }
  let count = max(p.nll_tokens, 1.0);
  var nll_loss = 0.0;
  if (p.alpha != 0.0) { nll_loss = -nll / count; }
  let z = max(kl / fn_, 0.0);
  if (lid.x == 0u) {
    stats[2] = nll_loss;
    if (p.kind == 4u) {
      var r = 0.0;
      var lo = 0.0;
      for (var j = 0u; j < n; j++) { let o = orpo_log_odds(j); r += logsig(o); lo += o; }
      stats[0] = r / fn_;
      stats[1] = lo / fn_;
    } else if (p.kind == 5u) {
      stats[0] = z;
      stats[1] = 0.0;
    } else {
      stats[0] = nll_loss;
      stats[1] = 0.0;
    }
  }
  for (var i = lid.x; i < n; i += 64u) {
    var dnll = 0.0;
    if (p.alpha != 0.0) { dnll = -g * p.alpha / count; }
    grad[2u * n + i] = dnll;
    if (p.kind == 5u) {
      let lr = policy[i] - reference[i];
      rewards[i] = beta * lr;
      rewards[n + i] = 0.0;
      if (aux[3u * n + i] > 0.5) {
        let s = sigmoid(beta * (lr - z));
        losses[i] = p.w_des * (1.0 - s);
        grad[i] = g * (-p.w_des * beta * s * (1.0 - s)) / fn_;
      } else {
        let s = sigmoid(beta * (z - lr));
        losses[i] = p.w_und * (1.0 - s);
        grad[i] = g * (p.w_und * beta * s * (1.0 - s)) / fn_;
      }
      grad[n + i] = 0.0; // z is detached: the KL completions get no gradient
      continue;
    }
    let xc = x_of(i);
    let xr = x_of(n + i);
    rewards[i] = beta * xc;
    rewards[n + i] = beta * xr;
    var l = 0.0;
    var dc = 0.0;
    var dr = 0.0;
    if (p.kind == 4u) {
      let lo = orpo_log_odds(i);
      l = -beta * logsig(lo);
      let dlo = -beta * sigmoid(-lo);
      dc = dlo * (-1.0 / expm1(xc));
      dr = dlo * (1.0 / expm1(xr));
    } else {
      var u = xc - xr;
      if (p.kind == 3u) { u = u - p.gamma / beta; }
      var du = 0.0;
      if (p.kind == 0u || p.kind == 3u) {
        let e = p.eps;
        l = -(1.0 - e) * logsig(beta * u) - e * logsig(-beta * u);
        du = beta * (-(1.0 - e) * sigmoid(-beta * u) + e * sigmoid(beta * u));
      } else if (p.kind == 1u) {
        l = max(0.0, 1.0 - beta * u);
        du = select(0.0, -beta, 1.0 - beta * u > 0.0);
      } else {
        let d = u - 1.0 / (2.0 * beta);
        l = d * d;
        du = 2.0 * d;
      }
      dc = du;
      dr = -du;
    }
    losses[i] = l + p.alpha * nll_loss;
    var sc = 1.0;
    var sr = 1.0;
    if (averaged()) { sc = 1.0 / max(aux[i], 1.0); sr = 1.0 / max(aux[n + i], 1.0); }
    grad[i] = g * dc / fn_ * sc;
    grad[n + i] = g * dr / fn_ * sr;
  }
}
