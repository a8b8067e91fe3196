// Per-token log-softmax + gather over vocabulary CHUNKS, so [tokens x vocab] logits never exist at once.
// State per row n: running max, running sum of exp(logit - max), the target's logit (+ a found flag) and
// the sum of raw logits. Rows whose target is outside the vocabulary get logp = 0.
// This file holds several kernels: the part before the first `//#kernel` line is shared, and each
// `//#kernel <name>` section is compiled with it as its own module (entry point `main`), so every module
// declares bindings 0, 1, 2, ... exactly once. The row reductions (update, kl) also come as '_thread'
// variants without barriers for CPU adapters (src/gpu/ops/variant.ts).

const WG: u32 = 64u;
const NEG: f32 = -3.0e38; // "minus infinity" that stays finite (exp(NEG - x) == 0, NEG - NEG == 0)

fn linearGroup(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }

var<workgroup> redM: array<f32, 64>;
var<workgroup> redS: array<f32, 64>;
var<workgroup> redL: array<f32, 64>;

//#kernel init
struct P { N: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> smax: array<f32>;
@group(0) @binding(2) var<storage, read_write> sumExp: array<f32>;
@group(0) @binding(3) var<storage, read_write> tgt: array<f32>;
@group(0) @binding(4) var<storage, read_write> logitSum: array<f32>;
@group(0) @binding(5) var<storage, read_write> found: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = linearGroup(wid, nwg) * WG + li;
  if (n >= p.N) { return; }
  smax[n] = NEG;
  sumExp[n] = 0.0;
  tgt[n] = 0.0;
  logitSum[n] = 0.0;
  found[n] = 0u;
}

//#kernel update
// One workgroup per row: each thread keeps an online (max, sum exp) over its strided columns, then a tree
// merge; thread 0 merges the chunk into the running state and picks up the target logit.
struct P { N: u32, Vc: u32, vOffset: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logits: array<f32>; // [N, Vc]
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> smax: array<f32>;
@group(0) @binding(4) var<storage, read_write> sumExp: array<f32>;
@group(0) @binding(5) var<storage, read_write> tgt: array<f32>;
@group(0) @binding(6) var<storage, read_write> logitSum: array<f32>;
@group(0) @binding(7) var<storage, read_write> found: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = linearGroup(wid, nwg);
  if (n >= p.N) { return; }
  let base = n * p.Vc;
  var m = NEG;
  var s = 0.0;
  var l = 0.0;
  for (var v = li; v < p.Vc; v += WG) {
    let x = logits[base + v];
    l += x;
    if (x > m) { s = s * exp(m - x) + 1.0; m = x; } else { s += exp(x - m); }
  }
  redM[li] = m;
  redS[li] = s;
  redL[li] = l;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st = st / 2u) {
    if (li < st) {
      let m1 = redM[li];
      let m2 = redM[li + st];
      let mm = max(m1, m2);
      redS[li] = redS[li] * exp(m1 - mm) + redS[li + st] * exp(m2 - mm);
      redM[li] = mm;
      redL[li] = redL[li] + redL[li + st];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    let mc = redM[0];
    let om = smax[n];
    let mm = max(om, mc);
    sumExp[n] = sumExp[n] * exp(om - mm) + redS[0] * exp(mc - mm);
    smax[n] = mm;
    logitSum[n] = logitSum[n] + redL[0];
    let t = targets[n];
    if (t >= p.vOffset && t - p.vOffset < p.Vc) {
      tgt[n] = logits[base + (t - p.vOffset)];
      found[n] = 1u;
    }
  }
}

//#kernel update_thread
// 'thread' variant of update for CPU adapters (src/gpu/ops/variant.ts): one invocation per row runs the
// online (max, sum exp) over the whole chunk, no workgroup memory and no barriers. Same bindings.
override TWG: u32 = 16;
struct P { N: u32, Vc: u32, vOffset: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logits: array<f32>; // [N, Vc]
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> smax: array<f32>;
@group(0) @binding(4) var<storage, read_write> sumExp: array<f32>;
@group(0) @binding(5) var<storage, read_write> tgt: array<f32>;
@group(0) @binding(6) var<storage, read_write> logitSum: array<f32>;
@group(0) @binding(7) var<storage, read_write> found: array<u32>;

@compute @workgroup_size(TWG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = linearGroup(wid, nwg) * TWG + li;
  if (n >= p.N) { return; }
  let base = n * p.Vc;
  // max first, then one exp per logit (the online form needs a second exp whenever the max grows)
  var mc = NEG;
  var l = 0.0;
  for (var v = 0u; v < p.Vc; v++) {
    let x = logits[base + v];
    l += x;
    mc = max(mc, x);
  }
  let om = smax[n];
  let mm = max(om, mc);
  var s = 0.0;
  for (var v = 0u; v < p.Vc; v++) { s += exp(logits[base + v] - mm); }
  sumExp[n] = sumExp[n] * exp(om - mm) + s;
  smax[n] = mm;
  logitSum[n] = logitSum[n] + l;
  let t = targets[n];
  if (t >= p.vOffset && t - p.vOffset < p.Vc) {
    tgt[n] = logits[base + (t - p.vOffset)];
    found[n] = 1u;
  }
}

//#kernel finalize
struct P { N: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> smax: array<f32>;
@group(0) @binding(2) var<storage, read> sumExp: array<f32>;
@group(0) @binding(3) var<storage, read> tgt: array<f32>;
@group(0) @binding(4) var<storage, read> found: array<u32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<storage, read_write> logp: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = linearGroup(wid, nwg) * WG + li;
  if (n >= p.N) { return; }
  let z = smax[n] + log(sumExp[n]);
  lse[n] = z;
  logp[n] = select(0.0, tgt[n] - z, found[n] != 0u);
}

//#kernel backward
// One thread per logit: dlogits[n,v] = g[n] * ([v + vOffset == targets[n]] - exp(logits[n,v] - lse[n])).
struct P { N: u32, Vc: u32, vOffset: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = linearGroup(wid, nwg) * WG + li;
  if (e >= p.N * p.Vc) { return; }
  let n = e / p.Vc;
  let v = e % p.Vc;
  let t = targets[n];
  let hit = t >= p.vOffset && t - p.vOffset == v;
  dlogits[e] = g[n] * (select(0.0, 1.0, hit) - exp(logits[e] - lse[n]));
}

//#kernel kl
// One workgroup per row: kl[n] += sum_v p(v) * ((pl - polLse) - (rl - refLse)), p = exp(pl - polLse).
struct P { N: u32, Vc: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> pol: array<f32>;
@group(0) @binding(2) var<storage, read> refl: array<f32>;
@group(0) @binding(3) var<storage, read> polLse: array<f32>;
@group(0) @binding(4) var<storage, read> refLse: array<f32>;
@group(0) @binding(5) var<storage, read_write> kl: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = linearGroup(wid, nwg);
  if (n >= p.N) { return; }
  let base = n * p.Vc;
  let pz = polLse[n];
  let rz = refLse[n];
  var acc = 0.0;
  for (var v = li; v < p.Vc; v += WG) {
    let a = pol[base + v] - pz;
    acc += exp(a) * (a - (refl[base + v] - rz));
  }
  redS[li] = acc;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st = st / 2u) {
    if (li < st) { redS[li] = redS[li] + redS[li + st]; }
    workgroupBarrier();
  }
  if (li == 0u) { kl[n] = kl[n] + redS[0]; }
}

//#kernel kl_thread
// 'thread' variant of kl for CPU adapters: one invocation per row, no barriers. Same bindings.
override TWG: u32 = 16;
struct P { N: u32, Vc: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> pol: array<f32>;
@group(0) @binding(2) var<storage, read> refl: array<f32>;
@group(0) @binding(3) var<storage, read> polLse: array<f32>;
@group(0) @binding(4) var<storage, read> refLse: array<f32>;
@group(0) @binding(5) var<storage, read_write> kl: array<f32>;

@compute @workgroup_size(TWG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = linearGroup(wid, nwg) * TWG + li;
  if (n >= p.N) { return; }
  let base = n * p.Vc;
  let pz = polLse[n];
  let rz = refLse[n];
  var acc = 0.0;
  for (var v = 0u; v < p.Vc; v++) {
    let a = pol[base + v] - pz;
    acc += exp(a) * (a - (refl[base + v] - rz));
  }
  kl[n] = kl[n] + acc;
}
