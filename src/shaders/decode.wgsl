// Attention of ONE query row (the token being decoded, at position p) against a KV cache holding the
// keys/values of positions 0..p (GQA: query head h reads kv head h / (H / KVH)). Two kernels, no
// workgroup memory or barriers (fast on CPU adapters, fine for the small models generated here):
//   scores: s[h, j] = scale * q_h . k_j           one thread per (head, position j <= p)
//   pv:     out[h, d] = sum_j softmax_j(s[h, :]) v_j[d]   one thread per (head, d), max-subtracted
// k/v caches are [L, KVH*D] (L = capacity, rows > p are never read); scores are [H, L].

struct P { pos: u32, H: u32, KVH: u32, D: u32, L: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;

//#kernel scores
@group(0) @binding(1) var<storage, read> q: array<f32>;      // [H*D]
@group(0) @binding(2) var<storage, read> kc: array<f32>;     // [L, KVH*D]
@group(0) @binding(3) var<storage, read_write> s: array<f32>; // [H, L]

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let idx = (wid.x + wid.y * nwg.x) * 64u + li;
  let n = p.pos + 1u;
  if (idx >= p.H * n) { return; }
  let h = idx / n;
  let j = idx % n;
  let kvh = h / (p.H / p.KVH);
  let qb = h * p.D;
  let kb = j * p.KVH * p.D + kvh * p.D;
  var acc = 0.0;
  for (var d = 0u; d < p.D; d++) { acc += q[qb + d] * kc[kb + d]; }
  s[h * p.L + j] = acc * p.scale;
}

//#kernel pv
@group(0) @binding(1) var<storage, read> s: array<f32>;        // [H, L]
@group(0) @binding(2) var<storage, read> vc: array<f32>;       // [L, KVH*D]
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [H*D]

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let idx = (wid.x + wid.y * nwg.x) * 64u + li;
  if (idx >= p.H * p.D) { return; }
  let h = idx / p.D;
  let d = idx % p.D;
  let kvh = h / (p.H / p.KVH);
  let sb = h * p.L;
  var m = s[sb];
  for (var j = 1u; j <= p.pos; j++) { m = max(m, s[sb + j]); }
  var z = 0.0;
  var acc = 0.0;
  for (var j = 0u; j <= p.pos; j++) {
    let e = exp(s[sb + j] - m);
    z += e;
    acc += e * vc[j * p.KVH * p.D + kvh * p.D + d];
  }
  out[idx] = acc / z;
}
