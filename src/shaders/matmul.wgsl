// C[M,N] (=|+=) alpha * opA @ opB (+ bias[N]), opA = A [M,K] or A^T with A stored [K,M] (TRANS_A),
// opB = B [K,N] or B^T with B stored [N,K] (TRANS_B). Two variants of one computation:
//  - main_tiled:    64x64 output tile per 256-thread workgroup, BK-deep slabs of A and B staged in
//                   workgroup memory, 4x4 outputs per thread. The right choice on real GPUs.
//  - main_register: no workgroup memory and no barriers; each thread computes an RM x RN block
//                   straight from global memory (caches do the reuse). ~10x faster on CPU
//                   implementations (SwiftShader, llvmpipe), where barriers are expensive.
// Plus a deterministic column sum (bias gradients): sum_partial + sum_final. The store epilogue adds
// alpha, bias, accumulation (the residual stream) and optionally gelu_new forward or backward, so the
// MLP's bias + activation cost no dispatch of their own.

struct P { M: u32, N: u32, K: u32, alpha: f32, has_bias: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
// Epilogue operand (a 1-element stand-in when EPILOGUE = 0): the gelu output (EPILOGUE 1) or the
// pre-activation whose gelu' scales the result (EPILOGUE 2).
@group(0) @binding(5) var<storage, read_write> X: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
// 0: C (=|+=) r. 1 (GPT-2 MLP up-projection, bias + gelu fused): C = r, X = gelu_new(r).
// 2 (its backward through gelu): C = r * gelu_new'(X).
override EPILOGUE: u32 = 0u;

const GELU_C = 0.7978845608028654; // sqrt(2/pi), as activation.wgsl
const GELU_A = 0.044715;

fn gelu_t(x: f32) -> f32 {
  return tanh(clamp(GELU_C * (x + GELU_A * x * x * x), -15.0, 15.0));
}

// Element (row m, depth k) of opA and (depth k, column n) of opB.
fn a_index(m: u32, k: u32) -> u32 {
  if (TRANS_A) { return k * p.M + m; }
  return m * p.K + k;
}
fn b_index(k: u32, n: u32) -> u32 {
  if (TRANS_B) { return n * p.K + k; }
  return k * p.N + n;
}

fn store(m: u32, n: u32, v: f32) {
  if (m >= p.M || n >= p.N) { return; }
  var r = p.alpha * v;
  if (p.has_bias == 1u) { r += bias[n]; }
  let i = m * p.N + n;
  if (EPILOGUE == 2u) {
    let x = X[i];
    let t = gelu_t(x);
    r *= 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * x * x);
  }
  if (p.accumulate == 1u) { r += C[i]; }
  C[i] = r;
  if (EPILOGUE == 1u) { X[i] = 0.5 * r * (1.0 + gelu_t(r)); }
}

// ------------------------------------------------------------------ register-blocked, no barriers
// Each thread computes 8 rows x 8 columns, written out by hand: CPU shader compilers (SwiftShader's
// Subzero) keep arrays indexed in loops in memory. CPU implementations run neighbouring invocations
// as SIMD lanes, so a thread's columns are strided by the workgroup width: lanes then read
// neighbouring elements of B (one vector load instead of a gather). 8x8 measured best on
// SwiftShader (~5 GFLOP/s at 512^3 on 2 cores vs ~3 for 4x8/8x4 and ~1 for 4x4).
override RWX: u32 = 8; // workgroup threads along N
override RWY: u32 = 8; // workgroup threads along M

@compute @workgroup_size(RWX, RWY)
fn main_register(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let m0 = (wid.y * RWY + lid.y) * 8u; // rows m0 .. m0 + 7
  let n0 = wid.x * RWX * 8u + lid.x; // columns n0 + j * RWX, j = 0 .. 7
  let w = RWX;
  if (m0 >= p.M || n0 >= p.N) { return; }
  // Strides of opA along m and k, of opB along k and n.
  let sam = select(p.K, 1u, TRANS_A);
  let sak = select(1u, p.M, TRANS_A);
  let sbk = select(p.N, 1u, TRANS_B);
  let sbn = select(1u, p.K, TRANS_B);
  // Out-of-range rows/columns read a clamped (valid) element and are dropped at the store: no
  // branches in the inner loop.
  let lm = p.M - 1u;
  let ln = p.N - 1u;
  let a0 = min(m0 + 0u, lm) * sam;
  let a1 = min(m0 + 1u, lm) * sam;
  let a2 = min(m0 + 2u, lm) * sam;
  let a3 = min(m0 + 3u, lm) * sam;
  let a4 = min(m0 + 4u, lm) * sam;
  let a5 = min(m0 + 5u, lm) * sam;
  let a6 = min(m0 + 6u, lm) * sam;
  let a7 = min(m0 + 7u, lm) * sam;
  let b0 = min(n0 + 0u * w, ln) * sbn;
  let b1 = min(n0 + 1u * w, ln) * sbn;
  let b2 = min(n0 + 2u * w, ln) * sbn;
  let b3 = min(n0 + 3u * w, ln) * sbn;
  let b4 = min(n0 + 4u * w, ln) * sbn;
  let b5 = min(n0 + 5u * w, ln) * sbn;
  let b6 = min(n0 + 6u * w, ln) * sbn;
  let b7 = min(n0 + 7u * w, ln) * sbn;
  var c00 = vec4f(0.0); var c01 = vec4f(0.0);
  var c10 = vec4f(0.0); var c11 = vec4f(0.0);
  var c20 = vec4f(0.0); var c21 = vec4f(0.0);
  var c30 = vec4f(0.0); var c31 = vec4f(0.0);
  var c40 = vec4f(0.0); var c41 = vec4f(0.0);
  var c50 = vec4f(0.0); var c51 = vec4f(0.0);
  var c60 = vec4f(0.0); var c61 = vec4f(0.0);
  var c70 = vec4f(0.0); var c71 = vec4f(0.0);
  var ka = 0u;
  var kb = 0u;
  for (var k = 0u; k < p.K; k++) {
    let x0 = vec4f(B[kb + b0], B[kb + b1], B[kb + b2], B[kb + b3]);
    let x1 = vec4f(B[kb + b4], B[kb + b5], B[kb + b6], B[kb + b7]);
    let y0 = vec4f(A[ka + a0]);
    let y1 = vec4f(A[ka + a1]);
    let y2 = vec4f(A[ka + a2]);
    let y3 = vec4f(A[ka + a3]);
    let y4 = vec4f(A[ka + a4]);
    let y5 = vec4f(A[ka + a5]);
    let y6 = vec4f(A[ka + a6]);
    let y7 = vec4f(A[ka + a7]);
    c00 = fma(y0, x0, c00); c01 = fma(y0, x1, c01);
    c10 = fma(y1, x0, c10); c11 = fma(y1, x1, c11);
    c20 = fma(y2, x0, c20); c21 = fma(y2, x1, c21);
    c30 = fma(y3, x0, c30); c31 = fma(y3, x1, c31);
    c40 = fma(y4, x0, c40); c41 = fma(y4, x1, c41);
    c50 = fma(y5, x0, c50); c51 = fma(y5, x1, c51);
    c60 = fma(y6, x0, c60); c61 = fma(y6, x1, c61);
    c70 = fma(y7, x0, c70); c71 = fma(y7, x1, c71);
    ka += sak;
    kb += sbk;
  }
  store8(m0 + 0u, n0, w, c00, c01);
  store8(m0 + 1u, n0, w, c10, c11);
  store8(m0 + 2u, n0, w, c20, c21);
  store8(m0 + 3u, n0, w, c30, c31);
  store8(m0 + 4u, n0, w, c40, c41);
  store8(m0 + 5u, n0, w, c50, c51);
  store8(m0 + 6u, n0, w, c60, c61);
  store8(m0 + 7u, n0, w, c70, c71);
}

fn store8(m: u32, n: u32, w: u32, v: vec4f, u: vec4f) {
  store(m, n, v.x);
  store(m, n + w, v.y);
  store(m, n + 2u * w, v.z);
  store(m, n + 3u * w, v.w);
  store(m, n + 4u * w, u.x);
  store(m, n + 5u * w, u.y);
  store(m, n + 6u * w, u.z);
  store(m, n + 7u * w, u.w);
}

// ------------------------------------------------------------------ workgroup-memory tiles
const TM = 4u; // rows per thread
const TN = 4u; // columns per thread
override WX: u32 = 16; // threads along N
override WY: u32 = 16; // threads along M
override BK: u32 = 16; // depth of a slab
// Tile slabs, stored [k][m] and [k][n] so the inner loop reads rows of both.
var<workgroup> As: array<f32, BK * WY * TM>;
var<workgroup> Bs: array<f32, BK * WX * TN>;

@compute @workgroup_size(WX, WY)
fn main_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let BM = WY * TM;
  let BN = WX * TN;
  let NT = WX * WY;
  let tileM = wid.y * BM;
  let tileN = wid.x * BN;
  var acc: array<f32, TM * TN>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // Stage the slabs; consecutive threads read consecutive addresses of the stored layout.
    for (var e = li; e < BM * BK; e += NT) {
      var m: u32; var kk: u32;
      if (TRANS_A) { kk = e / BM; m = e % BM; } else { m = e / BK; kk = e % BK; }
      let gm = tileM + m;
      let gk = k0 + kk;
      var v = 0.0;
      if (gm < p.M && gk < p.K) { v = A[a_index(gm, gk)]; }
      As[kk * BM + m] = v;
    }
    for (var e = li; e < BN * BK; e += NT) {
      var n: u32; var kk: u32;
      if (TRANS_B) { n = e / BK; kk = e % BK; } else { kk = e / BN; n = e % BN; }
      let gn = tileN + n;
      let gk = k0 + kk;
      var v = 0.0;
      if (gn < p.N && gk < p.K) { v = B[b_index(gk, gn)]; }
      Bs[kk * BN + n] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      // Thread rows/columns are strided by WY/WX: coalesced stores, no shared-memory bank conflicts.
      var a: array<f32, TM>;
      var b: array<f32, TN>;
      for (var i = 0u; i < TM; i++) { a[i] = As[kk * BM + lid.y + i * WY]; }
      for (var j = 0u; j < TN; j++) { b[j] = Bs[kk * BN + lid.x + j * WX]; }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(a[i], b[j], acc[i * TN + j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TM; i++) {
    for (var j = 0u; j < TN; j++) { store(tileM + lid.y + i * WY, tileN + lid.x + j * WX, acc[i * TN + j]); }
  }
}

// ------------------------------------------------------------------ column sums (bias gradients)
// out[b, c] (=|+=) sum of x[r, c] over rows r in block b = [b*block, min(rows, (b+1)*block)).
// Called twice for many rows (blocks into partial sums, then one block over the partials), in a
// fixed order: deterministic, no atomics.
struct SP { rows: u32, cols: u32, block: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> sp: SP;
@group(0) @binding(1) var<storage, read> sx: array<f32>;
@group(0) @binding(2) var<storage, read_write> sout: array<f32>;

@compute @workgroup_size(64)
fn sum_cols(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wid.x * 64u + li;
  if (c >= sp.cols) { return; }
  let r0 = wid.y * sp.block;
  let r1 = min(sp.rows, r0 + sp.block);
  var s = 0.0;
  for (var r = r0; r < r1; r++) { s += sx[r * sp.cols + c]; }
  let o = wid.y * sp.cols + c;
  if (sp.accumulate == 1u) { s += sout[o]; }
  sout[o] = s;
}
