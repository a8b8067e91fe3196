// Fused DPO loss for N pairs: per-pair loss (up to 8 loss kinds, weighted: TRL's loss_type list with
// loss_weights), TRL's implicit rewards and d(scale * mean loss)/d(policy logp). Formulas and the float64
// twin: src/gpu/reference/dpo_loss.ts. Layout of the [2N] inputs and outputs: chosen 0..N-1, rejected
// N..2N-1. N is small (a batch of pairs), so one workgroup loops over the pairs; the batch-wide kinds (aot's
// sorting, sft's token mean) read the whole batch from every thread, O(N^2) for a few dozen pairs.
// kind ids: 0 sigmoid 1 cdpo 2 robust 3 hinge 4 ipo 5 exo_pair 6 nca_pair 7 bco_pair 8 sppo_hard 9 aot
// 10 aot_unpaired 11 apo_zero 12 apo_down 13 discopop 14 sft 15 sigmoid_norm.
// f-divergence ids: 0 reverse_kl 1 forward_kl 2 js_divergence 3 alpha_divergence.

struct P {
  n: u32, nterms: u32, beta: f32, eps: f32,
  scale: f32, ref_free: u32, fdiv: u32, falpha: f32,
  tau: f32, use_w: u32, chosen_tokens: f32, pad: u32,
  kinds: array<vec4u, 2>,
  weights: array<vec4f, 2>,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> policy: array<f32>;
@group(0) @binding(2) var<storage, read> reference: array<f32>;
// [8N]: completion lengths [2N] | unweighted log-prob sums [2N] (sft) | WPO aligned sums [2N] | WPO lengths [2N]
@group(0) @binding(3) var<storage, read> aux: array<f32>;
@group(0) @binding(4) var<storage, read_write> losses: array<f32>;
@group(0) @binding(5) var<storage, read_write> rewards: array<f32>;
// [4N]: d/d policy logp [2N] | d/d unweighted log-prob sums [2N]
@group(0) @binding(6) var<storage, read_write> grad: array<f32>;

// log1p_01, logsig, sigmoid: stable_math.wgsl, prepended by the host.

fn ref_logp(i: u32) -> f32 {
  if (p.ref_free != 0u) { return 0.0; }
  return reference[i];
}

fn logratio(s: u32) -> f32 { return policy[s] - ref_logp(s); }

// f-DPO score f'(u) (x) and its derivative (y).
fn fscore(u: f32) -> vec2f {
  if (p.fdiv == 1u) { let e = exp(-u); return vec2f(1.0 - e, e); }
  if (p.fdiv == 2u) { return vec2f(0.6931471805599453 + logsig(u), sigmoid(-u)); }
  if (p.fdiv == 3u) {
    let a = p.falpha;
    if (abs(a - 1.0) < 1e-6) { return vec2f(u, 1.0); }
    let t = (a - 1.0) * u;
    if (t >= 80.0) { return vec2f((exp(80.0) - 1.0) / (a - 1.0), 0.0); }
    let e = exp(t);
    return vec2f((e - 1.0) / (a - 1.0), e);
  }
  return vec2f(u, 1.0);
}

// -(1-e) logsig(x) - e logsig(-x) (x) and its derivative (y): cdpo, aot, aot_unpaired.
fn smoothed(x: f32) -> vec2f {
  let e = p.eps;
  return vec2f(-(1.0 - e) * logsig(x) - e * logsig(-x), -(1.0 - e) * sigmoid(-x) + e * sigmoid(x));
}

// rank of v among xs (ascending, ties by index) where xs(j) = chosen-minus-rejected or one side's log-ratio.
// which: 0 policy diff pc - pr, 1 reference diff rc - rr, 2 chosen log-ratio, 3 rejected log-ratio.
fn value_of(which: u32, j: u32) -> f32 {
  let n = p.n;
  if (which == 0u) { return policy[j] - policy[n + j]; }
  if (which == 1u) { return ref_logp(j) - ref_logp(n + j); }
  if (which == 2u) { return logratio(j); }
  return logratio(n + j);
}

fn rank_of(which: u32, i: u32) -> u32 {
  let v = value_of(which, i);
  var k = 0u;
  for (var j = 0u; j < p.n; j++) {
    let x = value_of(which, j);
    if (x < v || (x == v && j < i)) { k++; }
  }
  return k;
}

// the element of `which` whose rank is k
fn at_rank(which: u32, k: u32) -> f32 {
  for (var j = 0u; j < p.n; j++) {
    if (rank_of(which, j) == k) { return value_of(which, j); }
  }
  return 0.0;
}

// loss (x), d/d chosen logp (y), d/d rejected logp (z) of pair i for a per-pair kind
fn pair_loss(kind: u32, i: u32) -> vec3f {
  let n = p.n;
  let beta = p.beta;
  let e = p.eps;
  let lc = logratio(i);
  let lr = logratio(n + i);
  let C = fscore(lc);
  let R = fscore(lr);
  let len_c = max(aux[i], 1.0);
  let len_r = max(aux[n + i], 1.0);
  let z = beta * (C.x - R.x);
  let rc = beta * lc;
  let rr = beta * lr;
  var loss = 0.0;
  var dz = 0.0;
  switch (kind) {
    case 0u: { loss = -logsig(z); dz = -sigmoid(-z); }
    case 1u: { let s = smoothed(z); loss = s.x; dz = s.y; }
    case 2u: {
      loss = (-(1.0 - e) * logsig(z) + e * logsig(-z)) / (1.0 - 2.0 * e);
      dz = (-(1.0 - e) * sigmoid(-z) - e * sigmoid(z)) / (1.0 - 2.0 * e);
    }
    case 3u: { loss = max(0.0, 1.0 - z); dz = select(0.0, -1.0, z < 1.0); } // torch: relu'(0) = 0
    case 4u: {
      let u = C.x / len_c - R.x / len_r - 0.5 / beta;
      return vec3f(u * u, 2.0 * u / len_c * C.y, -2.0 * u / len_r * R.y);
    }
    case 5u: {
      let qw = sigmoid(z);
      let ql = sigmoid(-z);
      let a = logsig(z) - log(1.0 - e);
      let b = logsig(-z) - log(e);
      loss = qw * a + ql * b;
      dz = qw * ql * (a - b);
    }
    case 6u: {
      return vec3f(-logsig(rc) - 0.5 * logsig(-rc) - 0.5 * logsig(-rr), beta * (-sigmoid(-rc) + 0.5 * sigmoid(rc)), beta * 0.5 * sigmoid(rr));
    }
    case 7u: { return vec3f(-logsig(rc) - logsig(-rr), -beta * sigmoid(-rc), beta * sigmoid(rr)); }
    case 8u: {
      let a = lc - 0.5 / beta;
      let b = lr + 0.5 / beta;
      return vec3f(a * a + b * b, 2.0 * a, 2.0 * b);
    }
    case 11u: {
      return vec3f(1.0 - sigmoid(rc) + sigmoid(rr), -beta * sigmoid(rc) * sigmoid(-rc), beta * sigmoid(rr) * sigmoid(-rr));
    }
    case 12u: {
      let zz = rc - rr;
      let g = sigmoid(zz) * sigmoid(-zz);
      return vec3f(sigmoid(rc) + 1.0 - sigmoid(zz), beta * (sigmoid(rc) * sigmoid(-rc) - g), beta * g);
    }
    case 13u: {
      let m = sigmoid(z / p.tau);
      let dm = m * (1.0 - m) / p.tau;
      let ez = exp(-z);
      loss = -logsig(z) * (1.0 - m) + ez * m;
      dz = -sigmoid(-z) * (1.0 - m) + logsig(z) * dm - ez * m + ez * dm;
    }
    case 15u: {
      let x = beta * (C.x / len_c - R.x / len_r);
      let d = -sigmoid(-x) * beta;
      return vec3f(-logsig(x), d / len_c * C.y, -d / len_r * R.y);
    }
    default: {}
  }
  return vec3f(loss, beta * dz * C.y, -beta * dz * R.y);
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  let n = p.n;
  let beta = p.beta;
  let g_scale = p.scale / f32(n);
  for (var i = li; i < n; i += 64u) {
    rewards[i] = beta * logratio(i);
    rewards[n + i] = beta * logratio(n + i);
    var wpair = 1.0;
    if (p.use_w != 0u) {
      wpair = exp(aux[4u * n + i] / max(aux[6u * n + i], 1.0)) * exp(aux[5u * n + i] / max(aux[7u * n + i], 1.0));
    }
    var loss = 0.0;
    var dc = 0.0; // d loss / d policy chosen logp
    var dr = 0.0; // d loss / d policy rejected logp
    var dplain = 0.0;
    for (var k = 0u; k < p.nterms; k++) {
      let kind = p.kinds[k / 4u][k % 4u];
      let w = p.weights[k / 4u][k % 4u];
      if (kind == 14u) {
        var sum = 0.0;
        for (var j = 0u; j < n; j++) { sum += aux[2u * n + j]; }
        let count = max(p.chosen_tokens, 1.0);
        loss += w * (-sum / count);
        dplain += -w / count; // the sft term is already a batch mean: not divided by N below
      } else if (kind == 9u) {
        // aot: sorted policy chosen-rejected differences minus sorted reference ones
        let k_i = rank_of(0u, i);
        let s = smoothed(beta * (value_of(0u, i) - at_rank(1u, k_i)));
        loss += w * s.x;
        dc += w * beta * s.y;
        dr -= w * beta * s.y;
      } else if (kind == 10u) {
        // aot_unpaired: sorted chosen log-ratios minus sorted rejected log-ratios
        let kc = rank_of(2u, i);
        let kr = rank_of(3u, i);
        let sc = smoothed(beta * (logratio(i) - at_rank(3u, kc)));
        let sr = smoothed(beta * (at_rank(2u, kr) - logratio(n + i)));
        loss += w * sc.x;
        dc += w * beta * sc.y;
        dr -= w * beta * sr.y;
      } else {
        let r = pair_loss(kind, i);
        loss += w * wpair * r.x;
        dc += w * wpair * r.y;
        dr += w * wpair * r.z;
      }
    }
    losses[i] = loss;
    grad[i] = g_scale * dc;
    grad[n + i] = g_scale * dr;
    grad[2u * n + i] = p.scale * dplain;
    grad[3u * n + i] = 0.0;
  }
}
