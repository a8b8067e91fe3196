// Fused causal attention (FlashAttention-2 style) with grouped-query heads: the [B, H, T, T] probability
// matrix never reaches global memory. Forward: online softmax over key tiles, saving out and the per-row
// logsumexp L = max + log(sum exp) of the scaled scores. Backward recomputes P = exp(scale q.k - L) tile by
// tile: rowdot computes Dr_i = dout_i . out_i (= sum_j P_ij dP_ij), dq runs over key tiles per query row,
// dkv over query tiles per key row (summing the query heads of the group), so no float atomics are needed.
// Layouts as in the rest of the engine: q/out/dout [B*T, H*D], k/v [B*T, KVH*D]; L and Dr [B*H*T] at
// (b*H + h)*T + i; query head h reads kv head h / (H / KVH).
// Mask: causal plus a key length per sequence (right padding, as transformers' attention_mask gives): query i
// of sequence b sees keys j <= i with j < len_b, so a pad query (i >= len_b) attends to the real keys of its row
// only and no query sees a pad key. Rows i < len_b are computed exactly as without the mask. fwd reads the
// lengths from its own binding; dq and dkv from the tail of dr (dkv already uses the 8 storage buffers every
// adapter offers), where flash-attention.ts copies them; dq and dkv read dr as u32 (row dots as f32 bits) so a
// length is never loaded as a float (small integers are f32 denormals, which a GPU may flush to 0).
// src/gpu/ops/flash-attention.ts prepends `const HD` (the head dim) and `const BT` (rows per workgroup-
// memory tile), so per-invocation head vectors live in registers; each `//#kernel` section is its own module.
// Head vectors in registers and tiles are vec4 (HD4 of them, zero-padded past HD): a quarter of the loop
// trips, which dominate on CPU adapters. Padded lanes of q, dout (and k, v in dkv) are 0, so every dot
// product is exact; padded lanes of accumulators are never written out.

struct P { B: u32, T: u32, H: u32, KVH: u32, D: u32, scale: f32 }
const HD4: u32 = (HD + 3u) / 4u;
const RW: u32 = HD4 * 4u; // padded row width of a tile
@group(0) @binding(0) var<uniform> p: P;

fn linearGroup(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }

// Keys query row i of a sequence with key length len sees: j < keyEnd(i, len).
fn keyEnd(i: u32, len: u32) -> u32 { return min(i + 1u, clamp(len, 1u, p.T)); }

// The (sequence b, query head h, its kv head kh, first query row) of a workgroup of `wg` query rows;
// valid is false for the padding workgroups past the last (sequence, head). Uniform per workgroup.
struct QueryBlock { b: u32, h: u32, kh: u32, row0: u32, valid: bool }
fn queryBlock(wid: vec3u, nwg: vec3u, wg: u32) -> QueryBlock {
  let nqb = (p.T + wg - 1u) / wg;
  let g = linearGroup(wid, nwg);
  let bh = g / nqb;
  let h = bh % p.H;
  return QueryBlock(bh / p.H, h, h / (p.H / p.KVH), (g % nqb) * wg, bh < p.B * p.H);
}

//#kernel fwd
// One workgroup per (query block of WG rows, head, sequence), one invocation per query row. Key/value
// tiles of BT rows go through workgroup memory; each row rescales its accumulator once per tile.
override WG: u32 = 64;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<storage, read> klen: array<u32>; // [B] key length of each sequence
var<workgroup> kt: array<vec4f, BT * HD4>;
var<workgroup> vt: array<vec4f, BT * HD4>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let T = p.T;
  let blk = queryBlock(wid, nwg, WG);
  if (!blk.valid) { return; }
  let h = blk.h;
  let b = blk.b;
  let kh = blk.kh;
  let bh = b * p.H + h;
  let i = blk.row0 + li;
  let live = i < T;
  let qo = (b * T + min(i, T - 1u)) * p.H * HD + h * HD;
  var qr: array<vec4f, HD4>;
  var acc: array<vec4f, HD4>;
  for (var c = 0u; c < HD4; c++) { qr[c] = vec4f(0.0); acc[c] = vec4f(0.0); }
  for (var d = 0u; d < HD; d++) { qr[d / 4u][d % 4u] = q[qo + d] * p.scale; }
  var sc: array<f32, BT>;
  var m = -3.0e38;
  var l = 0.0;
  let kEnd = keyEnd(i, klen[b]);
  let jEnd = min(T, blk.row0 + WG); // the last row of this block sees keys up to jEnd - 1
  for (var j0 = 0u; j0 < jEnd; j0 += BT) {
    let n = min(BT, jEnd - j0);
    for (var e = li; e < n * RW; e += WG) {
      let c = e % RW;
      var kx = 0.0;
      var vx = 0.0;
      if (c < HD) {
        let o = (b * T + j0 + e / RW) * p.KVH * HD + kh * HD + c;
        kx = k[o];
        vx = v[o];
      }
      kt[e / 4u][c % 4u] = kx;
      vt[e / 4u][c % 4u] = vx;
    }
    workgroupBarrier();
    if (live && j0 < kEnd) {
      let cnt = min(n, kEnd - j0);
      var tm = m;
      for (var r = 0u; r < cnt; r++) {
        var s4 = vec4f(0.0);
        for (var c = 0u; c < HD4; c++) { s4 += qr[c] * kt[r * HD4 + c]; }
        let s = s4.x + s4.y + s4.z + s4.w;
        sc[r] = s;
        tm = max(tm, s);
      }
      let f = exp(m - tm);
      m = tm;
      l *= f;
      for (var c = 0u; c < HD4; c++) { acc[c] *= f; }
      for (var r = 0u; r < cnt; r++) {
        let e = exp(sc[r] - m);
        l += e;
        for (var c = 0u; c < HD4; c++) { acc[c] += e * vt[r * HD4 + c]; }
      }
    }
    workgroupBarrier();
  }
  if (live) {
    let inv = 1.0 / l;
    for (var d = 0u; d < HD; d++) { out[qo + d] = acc[d / 4u][d % 4u] * inv; }
    lse[bh * T + i] = m + log(l);
  }
}

//#kernel rowdot
// Dr[(b*H + h)*T + i] = dout_i . out_i for head h: one invocation per row.
@group(0) @binding(1) var<storage, read> out: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dr: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = linearGroup(wid, nwg) * 64u + li; // (b*H + h)*T + i
  if (row >= p.B * p.H * p.T) { return; }
  let i = row % p.T;
  let bh = row / p.T;
  let h = bh % p.H;
  let b = bh / p.H;
  let o = (b * p.T + i) * p.H * HD + h * HD;
  var s = 0.0;
  for (var d = 0u; d < HD; d++) { s += dout[o + d] * out[o + d]; }
  dr[row] = s;
}

//#kernel dq
// One workgroup per (query block, head, sequence), one invocation per query row, key/value tiles in
// workgroup memory: dq_i = scale * sum_j<keyEnd(i) P_ij (dout_i . v_j - Dr_i) k_j.
override WG: u32 = 64;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> dr: array<u32>; // [B*H*T] row dots (f32 bits), then [B] key lengths
@group(0) @binding(6) var<storage, read> dout: array<f32>;
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;
var<workgroup> kt: array<vec4f, BT * HD4>;
var<workgroup> vt: array<vec4f, BT * HD4>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let T = p.T;
  let blk = queryBlock(wid, nwg, WG);
  if (!blk.valid) { return; }
  let h = blk.h;
  let b = blk.b;
  let kh = blk.kh;
  let bh = b * p.H + h;
  let i = blk.row0 + li;
  let live = i < T;
  let ic = min(i, T - 1u);
  let qo = (b * T + ic) * p.H * HD + h * HD;
  var qr: array<vec4f, HD4>;
  var gr: array<vec4f, HD4>;
  var acc: array<vec4f, HD4>;
  for (var c = 0u; c < HD4; c++) { qr[c] = vec4f(0.0); gr[c] = vec4f(0.0); acc[c] = vec4f(0.0); }
  for (var d = 0u; d < HD; d++) { qr[d / 4u][d % 4u] = q[qo + d] * p.scale; gr[d / 4u][d % 4u] = dout[qo + d]; }
  let L = lse[bh * T + ic];
  let Di = bitcast<f32>(dr[bh * T + ic]);
  let kEnd = keyEnd(i, dr[p.B * p.H * T + b]);
  let jEnd = min(T, blk.row0 + WG);
  for (var j0 = 0u; j0 < jEnd; j0 += BT) {
    let n = min(BT, jEnd - j0);
    for (var e = li; e < n * RW; e += WG) {
      let c = e % RW;
      var kx = 0.0;
      var vx = 0.0;
      if (c < HD) {
        let o = (b * T + j0 + e / RW) * p.KVH * HD + kh * HD + c;
        kx = k[o];
        vx = v[o];
      }
      kt[e / 4u][c % 4u] = kx;
      vt[e / 4u][c % 4u] = vx;
    }
    workgroupBarrier();
    if (live && j0 < kEnd) {
      let cnt = min(n, kEnd - j0);
      for (var r = 0u; r < cnt; r++) {
        var s4 = vec4f(0.0);
        var dp4 = vec4f(0.0);
        for (var c = 0u; c < HD4; c++) {
          s4 += qr[c] * kt[r * HD4 + c];
          dp4 += gr[c] * vt[r * HD4 + c];
        }
        let s = s4.x + s4.y + s4.z + s4.w;
        let dp = dp4.x + dp4.y + dp4.z + dp4.w;
        let ds = exp(s - L) * (dp - Di);
        for (var c = 0u; c < HD4; c++) { acc[c] += ds * kt[r * HD4 + c]; }
      }
    }
    workgroupBarrier();
  }
  if (live) {
    for (var d = 0u; d < HD; d++) { dq[qo + d] = acc[d / 4u][d % 4u] * p.scale; }
  }
}

//#kernel dkv
// One workgroup per (key block of WG rows, kv head, sequence), one invocation per key row j; tiles of q,
// dout, L and Dr for query rows i >= (first key of the block) go through workgroup memory, for every query
// head of the group: dv_j = sum P_ij dout_i, dk_j = scale * sum P_ij (dout_i . v_j - Dr_i) q_i over the
// queries i >= j that see key j: all of them for a real key (pad queries see every real key), none for a pad key.
override WG: u32 = 64;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> dr: array<u32>; // [B*H*T] row dots (f32 bits), then [B] key lengths
@group(0) @binding(6) var<storage, read> dout: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;
var<workgroup> qt: array<vec4f, BT * HD4>;
var<workgroup> gt: array<vec4f, BT * HD4>;
var<workgroup> lt: array<f32, BT>;
var<workgroup> dt: array<f32, BT>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let T = p.T;
  let nkb = (T + WG - 1u) / WG;
  let g = linearGroup(wid, nwg);
  let kb = g % nkb;
  let bk = g / nkb; // b * KVH + kh
  if (bk >= p.B * p.KVH) { return; }
  let kh = bk % p.KVH;
  let b = bk / p.KVH;
  let G = p.H / p.KVH;
  let j = kb * WG + li;
  let live = j < T;
  let seen = j < clamp(dr[p.B * p.H * T + b], 1u, T); // a pad key: its gradients are 0
  let ko = (b * T + min(j, T - 1u)) * p.KVH * HD + kh * HD;
  var kr: array<vec4f, HD4>;
  var vr: array<vec4f, HD4>;
  var ak: array<vec4f, HD4>;
  var av: array<vec4f, HD4>;
  for (var c = 0u; c < HD4; c++) { kr[c] = vec4f(0.0); vr[c] = vec4f(0.0); ak[c] = vec4f(0.0); av[c] = vec4f(0.0); }
  for (var d = 0u; d < HD; d++) { kr[d / 4u][d % 4u] = k[ko + d] * p.scale; vr[d / 4u][d % 4u] = v[ko + d]; }
  for (var h = kh * G; h < kh * G + G; h++) {
    let bh = b * p.H + h;
    for (var i0 = kb * WG; i0 < T; i0 += BT) {
      let n = min(BT, T - i0);
      for (var e = li; e < n * RW; e += WG) {
        let c = e % RW;
        var qx = 0.0;
        var gx = 0.0;
        if (c < HD) {
          let o = (b * T + i0 + e / RW) * p.H * HD + h * HD + c;
          qx = q[o];
          gx = dout[o];
        }
        qt[e / 4u][c % 4u] = qx;
        gt[e / 4u][c % 4u] = gx;
      }
      for (var r = li; r < n; r += WG) {
        lt[r] = lse[bh * T + i0 + r];
        dt[r] = bitcast<f32>(dr[bh * T + i0 + r]);
      }
      workgroupBarrier();
      if (live && seen && i0 + n > j) {
        // rows i0 + r >= j only (causal)
        for (var r = select(0u, j - i0, j > i0); r < n; r++) {
          var s4 = vec4f(0.0);
          var dp4 = vec4f(0.0);
          for (var c = 0u; c < HD4; c++) {
            s4 += qt[r * HD4 + c] * kr[c];
            dp4 += gt[r * HD4 + c] * vr[c];
          }
          let pij = exp(s4.x + s4.y + s4.z + s4.w - lt[r]);
          let ds = pij * (dp4.x + dp4.y + dp4.z + dp4.w - dt[r]);
          for (var c = 0u; c < HD4; c++) {
            av[c] += pij * gt[r * HD4 + c];
            ak[c] += ds * qt[r * HD4 + c];
          }
        }
      }
      workgroupBarrier();
    }
  }
  if (live) {
    for (var d = 0u; d < HD; d++) { dk[ko + d] = ak[d / 4u][d % 4u] * p.scale; dv[ko + d] = av[d / 4u][d % 4u]; }
  }
}

