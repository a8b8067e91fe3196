// Fused DPO loss for N pairs: per-pair loss, TRL's implicit rewards and d(scale * mean loss)/d(policy logp).
// Layout of the [2N] inputs and outputs: chosen 0..N-1, rejected N..2N-1. N is small (a batch of pairs),
// so one workgroup loops over the pairs.
//   z = beta * h, h = (pc - rc) - (pr - rr)
//   kind 0 sigmoid: -logsig(z)
//   kind 1 cdpo:    -(1-e) logsig(z) - e logsig(-z)              (conservative DPO, label smoothing e)
//   kind 2 robust:  (-(1-e) logsig(z) + e logsig(-z)) / (1 - 2e)
//   kind 3 hinge:   relu(1 - z)
//   kind 4 ipo:     (h' - 1/(2 beta))^2, h' = (pc - rc)/Lc - (pr - rr)/Lr, L = max(length, 1)

struct P { n: u32, kind: u32, beta: f32, eps: f32, scale: f32, ref_free: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> policy: array<f32>;
@group(0) @binding(2) var<storage, read> reference: array<f32>;
@group(0) @binding(3) var<storage, read> lengths: array<f32>;
@group(0) @binding(4) var<storage, read_write> losses: array<f32>;
@group(0) @binding(5) var<storage, read_write> rewards: array<f32>;
@group(0) @binding(6) var<storage, read_write> dlogp: array<f32>;

// log(1 + t) for t in [0, 1], accurate for small t (WGSL has no log1p).
fn log1p_01(t: f32) -> f32 {
  if (t < 1e-3) { return t * (1.0 - t * (0.5 - t / 3.0)); }
  return log(1.0 + t);
}

// log(sigmoid(x)) without overflow.
fn logsig(x: f32) -> f32 {
  return min(x, 0.0) - log1p_01(exp(-abs(x)));
}

fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

fn ref_logp(i: u32) -> f32 {
  if (p.ref_free != 0u) { return 0.0; }
  return reference[i];
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  let n = p.n;
  let beta = p.beta;
  let e = p.eps;
  let g_scale = p.scale / f32(n);
  for (var i = li; i < n; i += 64u) {
    let lc = policy[i] - ref_logp(i);          // chosen log-ratio
    let lr = policy[n + i] - ref_logp(n + i);  // rejected log-ratio
    rewards[i] = beta * lc;
    rewards[n + i] = beta * lr;
    var loss = 0.0;
    var dc = 0.0; // d loss / d policy chosen logp
    var dr = 0.0; // d loss / d policy rejected logp
    if (p.kind == 4u) {
      let len_c = max(lengths[i], 1.0);
      let len_r = max(lengths[n + i], 1.0);
      let u = lc / len_c - lr / len_r - 0.5 / beta;
      loss = u * u;
      dc = 2.0 * u / len_c;
      dr = -2.0 * u / len_r;
    } else {
      let z = beta * (lc - lr);
      var dz = 0.0;
      if (p.kind == 0u) {
        loss = -logsig(z);
        dz = -sigmoid(-z);
      } else if (p.kind == 1u) {
        loss = -(1.0 - e) * logsig(z) - e * logsig(-z);
        dz = -(1.0 - e) * sigmoid(-z) + e * sigmoid(z);
      } else if (p.kind == 2u) {
        loss = (-(1.0 - e) * logsig(z) + e * logsig(-z)) / (1.0 - 2.0 * e);
        dz = (-(1.0 - e) * sigmoid(-z) - e * sigmoid(z)) / (1.0 - 2.0 * e);
      } else {
        loss = max(0.0, 1.0 - z);
        dz = select(0.0, -1.0, z < 1.0); // torch: relu'(0) = 0
      }
      dc = beta * dz;
      dr = -beta * dz;
    }
    losses[i] = loss;
    dlogp[i] = g_scale * dc;
    dlogp[n + i] = g_scale * dr;
  }
}
