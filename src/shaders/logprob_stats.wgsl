// Per-token statistics of the next-token distribution that TRL 1.13's DPOTrainer logs or weights with, over
// vocabulary CHUNKS like logprob.wgsl (so [tokens x vocab] logits never exist at once):
//   entropy = -sum_v p log p (TRL's `entropy`), argmax == target (TRL's `mean_token_accuracy`),
//   log p(target) - log sum_v p^2 (WPO's aligned log-prob, use_weighting).
// State per row n in st[4N]: running max m | sum exp(l - m) | sum exp(l - m) * l | sum exp(2 (l - m)); the
// first index of the max in idx[N]. One invocation per row (no barriers, also right for CPU adapters).
// This file holds two kernels: the part before the first `//#kernel` line is shared.

const WG: u32 = 64u;
const NEG: f32 = -3.0e38;

fn linearGroup(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }

//#kernel update
// Merges a chunk [N, Vc] (vocabulary ids vOffset..vOffset+Vc-1) into the state; first != 0 starts it.
struct P { N: u32, Vc: u32, vOffset: u32, first: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> st: array<f32>;
@group(0) @binding(3) var<storage, read_write> idx: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = linearGroup(wid, nwg) * WG + li;
  if (n >= p.N) { return; }
  let N = p.N;
  let base = n * p.Vc;
  var mc = NEG;
  var ic = 0u;
  for (var v = 0u; v < p.Vc; v++) {
    let x = logits[base + v];
    if (x > mc) { mc = x; ic = v; } // strict: the first index of the max, like torch.argmax
  }
  var s = 0.0;
  var a = 0.0;
  var q = 0.0;
  for (var v = 0u; v < p.Vc; v++) {
    let x = logits[base + v];
    let e = exp(x - mc);
    s += e;
    a += e * x;
    q += e * e;
  }
  if (p.first != 0u) {
    st[n] = mc;
    st[N + n] = s;
    st[2u * N + n] = a;
    st[3u * N + n] = q;
    idx[n] = p.vOffset + ic;
    return;
  }
  let om = st[n];
  let mm = max(om, mc);
  let fo = exp(om - mm);
  let fc = exp(mc - mm);
  st[n] = mm;
  st[N + n] = st[N + n] * fo + s * fc;
  st[2u * N + n] = st[2u * N + n] * fo + a * fc;
  st[3u * N + n] = st[3u * N + n] * fo * fo + q * fc * fc;
  if (mc > om) { idx[n] = p.vOffset + ic; } // an earlier chunk keeps a tie
}

//#kernel finalize
// out[3N]: entropy | 1 where argmax == target, else 0 | log p(target) - log sum_v p(v)^2 (0 without a target).
struct P { N: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> st: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read> targets: array<u32>;
@group(0) @binding(4) var<storage, read> logp: array<f32>;
@group(0) @binding(5) var<storage, read_write> outv: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = linearGroup(wid, nwg) * WG + li;
  if (n >= p.N) { return; }
  let N = p.N;
  let m = st[n];
  let s = st[N + n];
  let a = st[2u * N + n];
  let q = st[3u * N + n];
  // H = lse - E[l] = m + log s - a / s; log sum p^2 = log q - 2 log s
  outv[n] = m + log(s) - a / s;
  outv[N + n] = select(0.0, 1.0, idx[n] == targets[n]);
  outv[2u * N + n] = logp[n] - log(q) + 2.0 * log(s);
}
