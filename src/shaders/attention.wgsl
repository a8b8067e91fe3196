// Causal multi-head attention with grouped-query heads, any head_dim. Straightforward kernels (the
// probabilities [B, H, T, T] are materialised and saved for backward); a flash-style fused version can
// replace them behind the same API.
// Layouts: q [B*T, H*D], k/v [B*T, KVH*D] (projection outputs, no transposes); query head h reads kv head
// h / (H / KVH). probs/dS: [B, H, T, T], entries j > i are 0.
// This file holds several kernels: the part before the first `//#kernel` line is shared, and each
// `//#kernel <name>` section is compiled with it as its own module (entry point `main`), so every module
// declares bindings 0, 1, 2, ... exactly once. softmax and ds (row reductions) also come as '_thread'
// variants without barriers for CPU adapters (src/gpu/ops/variant.ts); on those adapters, head dims that
// are a multiple of 4 use the '4' kernels (vec4 loads of head vectors: fewer loads and bounds checks).

struct P { B: u32, T: u32, H: u32, KVH: u32, D: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;

const WG: u32 = 64u;
var<workgroup> red: array<f32, 64>;

fn linearGroup(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }

// Tree reductions over the workgroup; every invocation must call them (uniform control flow).
fn reduceMax(v: f32, li: u32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] = max(red[li], red[li + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduceSum(v: f32, li: u32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] = red[li] + red[li + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

//#kernel softmax
// One workgroup per score row (b, h, i): probs[b,h,i,j] = softmax_j<=i(scale * q_i . k_j), 0 for j > i.
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = linearGroup(wid, nwg); // (b*H + h)*T + i
  if (row >= p.B * p.H * p.T) { return; }
  let T = p.T;
  let D = p.D;
  let i = row % T;
  let bh = row / T;
  let h = bh % p.H;
  let b = bh / p.H;
  let kh = h / (p.H / p.KVH);
  let qo = (b * T + i) * p.H * D + h * D;
  let base = row * T;
  var m = -3.0e38;
  for (var j = li; j <= i; j += WG) {
    let ko = (b * T + j) * p.KVH * D + kh * D;
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s += q[qo + d] * k[ko + d]; }
    s *= p.scale;
    probs[base + j] = s;
    m = max(m, s);
  }
  m = reduceMax(m, li);
  var sum = 0.0;
  for (var j = li; j <= i; j += WG) {
    let e = exp(probs[base + j] - m);
    probs[base + j] = e;
    sum += e;
  }
  let inv = 1.0 / reduceSum(sum, li);
  for (var j = li; j < T; j += WG) {
    if (j <= i) { probs[base + j] = probs[base + j] * inv; } else { probs[base + j] = 0.0; }
  }
}

//#kernel softmax_thread
// 'thread' variant of softmax for CPU adapters: one invocation per score row, no workgroup memory and no
// barriers (src/gpu/ops/variant.ts). Same math and bindings.
override TWG: u32 = 16;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;

@compute @workgroup_size(TWG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = linearGroup(wid, nwg) * TWG + li; // (b*H + h)*T + i
  if (row >= p.B * p.H * p.T) { return; }
  let T = p.T;
  let D = p.D;
  let i = row % T;
  let bh = row / T;
  let h = bh % p.H;
  let b = bh / p.H;
  let kh = h / (p.H / p.KVH);
  let qo = (b * T + i) * p.H * D + h * D;
  let base = row * T;
  var m = -3.0e38;
  for (var j = 0u; j <= i; j++) {
    let ko = (b * T + j) * p.KVH * D + kh * D;
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s += q[qo + d] * k[ko + d]; }
    s *= p.scale;
    probs[base + j] = s;
    m = max(m, s);
  }
  var sum = 0.0;
  for (var j = 0u; j <= i; j++) {
    let e = exp(probs[base + j] - m);
    probs[base + j] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j <= i; j++) { probs[base + j] = probs[base + j] * inv; }
  for (var j = i + 1u; j < T; j++) { probs[base + j] = 0.0; }
}

//#kernel softmax_thread4
// softmax_thread for head dims that are a multiple of 4: q and k read as vec4 (a quarter of the loads
// and bounds checks, which dominate on CPU adapters). Same math and bindings.
override TWG: u32 = 16;
@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> k: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;

@compute @workgroup_size(TWG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = linearGroup(wid, nwg) * TWG + li; // (b*H + h)*T + i
  if (row >= p.B * p.H * p.T) { return; }
  let T = p.T;
  let D4 = p.D / 4u;
  let i = row % T;
  let bh = row / T;
  let h = bh % p.H;
  let b = bh / p.H;
  let kh = h / (p.H / p.KVH);
  let qo = (b * T + i) * p.H * D4 + h * D4;
  let base = row * T;
  var m = -3.0e38;
  for (var j = 0u; j <= i; j++) {
    let ko = (b * T + j) * p.KVH * D4 + kh * D4;
    var s4 = vec4f(0.0);
    for (var d = 0u; d < D4; d++) { s4 += q[qo + d] * k[ko + d]; }
    let s = (s4.x + s4.y + s4.z + s4.w) * p.scale;
    probs[base + j] = s;
    m = max(m, s);
  }
  var sum = 0.0;
  for (var j = 0u; j <= i; j++) {
    let e = exp(probs[base + j] - m);
    probs[base + j] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j <= i; j++) { probs[base + j] = probs[base + j] * inv; }
  for (var j = i + 1u; j < T; j++) { probs[base + j] = 0.0; }
}

//#kernel pv
// One thread per output element (b, t, h, d): out = probs @ v.
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = linearGroup(wid, nwg) * WG + li;
  let D = p.D;
  let T = p.T;
  if (e >= p.B * T * p.H * D) { return; }
  let d = e % D;
  let h = (e / D) % p.H;
  let bt = e / (D * p.H);
  let t = bt % T;
  let b = bt / T;
  let kh = h / (p.H / p.KVH);
  let pr = ((b * p.H + h) * T + t) * T;
  var acc = 0.0;
  for (var j = 0u; j <= t; j++) {
    acc += probs[pr + j] * v[(b * T + j) * p.KVH * D + kh * D + d];
  }
  out[e] = acc;
}

//#kernel pv4
// pv for CPU adapters when D % 4 == 0: one invocation per 4 consecutive outputs (b, t, h, d..d+3), so each
// probability is loaded once per vec4 of v. Same math and bindings.
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = linearGroup(wid, nwg) * WG + li;
  let D4 = p.D / 4u;
  let T = p.T;
  if (e >= p.B * T * p.H * D4) { return; }
  let d = e % D4;
  let h = (e / D4) % p.H;
  let bt = e / (D4 * p.H);
  let t = bt % T;
  let b = bt / T;
  let kh = h / (p.H / p.KVH);
  let pr = ((b * p.H + h) * T + t) * T;
  var acc = vec4f(0.0);
  for (var j = 0u; j <= t; j++) {
    acc += probs[pr + j] * v[(b * T + j) * p.KVH * D4 + kh * D4 + d];
  }
  out[e] = acc;
}

//#kernel ds
// One workgroup per row (b, h, i): dP_ij = dout_i . v_j, dS_ij = scale * P_ij * (dP_ij - sum_j P_ij dP_ij)
// (the gradient with respect to q_i . k_j), 0 for j > i.
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> ds: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = linearGroup(wid, nwg);
  if (row >= p.B * p.H * p.T) { return; }
  let T = p.T;
  let D = p.D;
  let i = row % T;
  let bh = row / T;
  let h = bh % p.H;
  let b = bh / p.H;
  let kh = h / (p.H / p.KVH);
  let go = (b * T + i) * p.H * D + h * D;
  let base = row * T;
  var acc = 0.0;
  for (var j = li; j <= i; j += WG) {
    let vo = (b * T + j) * p.KVH * D + kh * D;
    var dp = 0.0;
    for (var d = 0u; d < D; d++) { dp += dout[go + d] * v[vo + d]; }
    ds[base + j] = dp;
    acc += probs[base + j] * dp;
  }
  let rowDot = reduceSum(acc, li);
  for (var j = li; j < T; j += WG) {
    if (j <= i) { ds[base + j] = p.scale * probs[base + j] * (ds[base + j] - rowDot); } else { ds[base + j] = 0.0; }
  }
}

//#kernel ds_thread
// 'thread' variant of ds for CPU adapters: one invocation per row, no barriers. Same math and bindings.
override TWG: u32 = 16;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> ds: array<f32>;

@compute @workgroup_size(TWG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = linearGroup(wid, nwg) * TWG + li;
  if (row >= p.B * p.H * p.T) { return; }
  let T = p.T;
  let D = p.D;
  let i = row % T;
  let bh = row / T;
  let h = bh % p.H;
  let b = bh / p.H;
  let kh = h / (p.H / p.KVH);
  let go = (b * T + i) * p.H * D + h * D;
  let base = row * T;
  var rowDot = 0.0;
  for (var j = 0u; j <= i; j++) {
    let vo = (b * T + j) * p.KVH * D + kh * D;
    var dp = 0.0;
    for (var d = 0u; d < D; d++) { dp += dout[go + d] * v[vo + d]; }
    ds[base + j] = dp;
    rowDot += probs[base + j] * dp;
  }
  for (var j = 0u; j <= i; j++) { ds[base + j] = p.scale * probs[base + j] * (ds[base + j] - rowDot); }
  for (var j = i + 1u; j < T; j++) { ds[base + j] = 0.0; }
}

//#kernel ds_thread4
// ds_thread for head dims that are a multiple of 4: dout and v read as vec4. Same math and bindings.
override TWG: u32 = 16;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<vec4f>;
@group(0) @binding(3) var<storage, read> v: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> ds: array<f32>;

@compute @workgroup_size(TWG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = linearGroup(wid, nwg) * TWG + li;
  if (row >= p.B * p.H * p.T) { return; }
  let T = p.T;
  let D4 = p.D / 4u;
  let i = row % T;
  let bh = row / T;
  let h = bh % p.H;
  let b = bh / p.H;
  let kh = h / (p.H / p.KVH);
  let go = (b * T + i) * p.H * D4 + h * D4;
  let base = row * T;
  var rowDot = 0.0;
  for (var j = 0u; j <= i; j++) {
    let vo = (b * T + j) * p.KVH * D4 + kh * D4;
    var dp4 = vec4f(0.0);
    for (var d = 0u; d < D4; d++) { dp4 += dout[go + d] * v[vo + d]; }
    let dp = dp4.x + dp4.y + dp4.z + dp4.w;
    ds[base + j] = dp;
    rowDot += probs[base + j] * dp;
  }
  for (var j = 0u; j <= i; j++) { ds[base + j] = p.scale * probs[base + j] * (ds[base + j] - rowDot); }
  for (var j = i + 1u; j < T; j++) { ds[base + j] = 0.0; }
}

//#kernel dq
// One thread per dq element (b, i, h, d): dq_i = sum_j<=i dS_ij k_j.
@group(0) @binding(1) var<storage, read> ds: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read_write> dq: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = linearGroup(wid, nwg) * WG + li;
  let D = p.D;
  let T = p.T;
  if (e >= p.B * T * p.H * D) { return; }
  let d = e % D;
  let h = (e / D) % p.H;
  let bt = e / (D * p.H);
  let i = bt % T;
  let b = bt / T;
  let kh = h / (p.H / p.KVH);
  let sr = ((b * p.H + h) * T + i) * T;
  var acc = 0.0;
  for (var j = 0u; j <= i; j++) {
    acc += ds[sr + j] * k[(b * T + j) * p.KVH * D + kh * D + d];
  }
  dq[e] = acc;
}

//#kernel dq4
// dq for CPU adapters when D % 4 == 0: one invocation per vec4 of dq. Same math and bindings.
@group(0) @binding(1) var<storage, read> ds: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dq: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = linearGroup(wid, nwg) * WG + li;
  let D4 = p.D / 4u;
  let T = p.T;
  if (e >= p.B * T * p.H * D4) { return; }
  let d = e % D4;
  let h = (e / D4) % p.H;
  let bt = e / (D4 * p.H);
  let i = bt % T;
  let b = bt / T;
  let kh = h / (p.H / p.KVH);
  let sr = ((b * p.H + h) * T + i) * T;
  var acc = vec4f(0.0);
  for (var j = 0u; j <= i; j++) {
    acc += ds[sr + j] * k[(b * T + j) * p.KVH * D4 + kh * D4 + d];
  }
  dq[e] = acc;
}

//#kernel dkv
// One thread per (b, j, kv head, d): dk_j = sum_{h in group} sum_i>=j dS_ij q_i, dv_j = sum P_ij dout_i.
@group(0) @binding(1) var<storage, read> ds: array<f32>;
@group(0) @binding(2) var<storage, read> probs: array<f32>;
@group(0) @binding(3) var<storage, read> q: array<f32>;
@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(5) var<storage, read_write> dk: array<f32>;
@group(0) @binding(6) var<storage, read_write> dv: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = linearGroup(wid, nwg) * WG + li;
  let D = p.D;
  let T = p.T;
  if (e >= p.B * T * p.KVH * D) { return; }
  let d = e % D;
  let kh = (e / D) % p.KVH;
  let bt = e / (D * p.KVH);
  let j = bt % T;
  let b = bt / T;
  let G = p.H / p.KVH;
  var ak = 0.0;
  var av = 0.0;
  for (var h = kh * G; h < kh * G + G; h++) {
    for (var i = j; i < T; i++) {
      let s = ((b * p.H + h) * T + i) * T + j;
      let x = (b * T + i) * p.H * D + h * D + d;
      ak += ds[s] * q[x];
      av += probs[s] * dout[x];
    }
  }
  dk[e] = ak;
  dv[e] = av;
}

//#kernel dkv4
// dkv for CPU adapters when D % 4 == 0: one invocation per vec4 of dk and dv. Same math and bindings.
@group(0) @binding(1) var<storage, read> ds: array<f32>;
@group(0) @binding(2) var<storage, read> probs: array<f32>;
@group(0) @binding(3) var<storage, read> q: array<vec4f>;
@group(0) @binding(4) var<storage, read> dout: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> dk: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> dv: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = linearGroup(wid, nwg) * WG + li;
  let D4 = p.D / 4u;
  let T = p.T;
  if (e >= p.B * T * p.KVH * D4) { return; }
  let d = e % D4;
  let kh = (e / D4) % p.KVH;
  let bt = e / (D4 * p.KVH);
  let j = bt % T;
  let b = bt / T;
  let G = p.H / p.KVH;
  var ak = vec4f(0.0);
  var av = vec4f(0.0);
  for (var h = kh * G; h < kh * G + G; h++) {
    for (var i = j; i < T; i++) {
      let s = ((b * p.H + h) * T + i) * T + j;
      let x = (b * T + i) * p.H * D4 + h * D4 + d;
      ak += ds[s] * q[x];
      av += probs[s] * dout[x];
    }
  }
  dk[e] = ak;
  dv[e] = av;
}
