// LayerNorm (torch, biased variance) and RMSNorm (HF LlamaRMSNorm), forward and backward.
// Row kernels: one workgroup per row, threads stride over the columns, then a tree reduction in
// workgroup memory (GPUs); the '_thread' entry points at the end do one row per invocation with no
// barriers (CPU adapters, chosen in src/gpu/ops/variant.ts). Parameter gradients: a column kernel, one thread per column looping over a block
// of rows, writing per-block partial sums that are then summed in a fixed order (no float atomics,
// deterministic).

struct P { rows: u32, cols: u32, eps: f32, accumulate: u32, block: u32 }
@group(0) @binding(0) var<uniform> p: P;

override NWG: u32 = 128; // threads per row workgroup (a power of two)
var<workgroup> red: array<f32, NWG>;

fn row_index(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// Sum of v over the workgroup (every thread gets it). Called in uniform control flow.
fn workgroup_sum(v: f32, li: u32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = NWG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier(); // red is reused by the next call
  return r;
}

// ------------------------------------------------------------------ LayerNorm
@group(0) @binding(1) var<storage, read> lf_x: array<f32>;
@group(0) @binding(2) var<storage, read> lf_w: array<f32>;
@group(0) @binding(3) var<storage, read> lf_b: array<f32>;
@group(0) @binding(4) var<storage, read_write> lf_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lf_mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> lf_rstd: array<f32>;
@compute @workgroup_size(NWG)
fn ln_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var s = 0.0;
  for (var c = li; c < p.cols; c += NWG) { s += lf_x[base + c]; }
  let mean = workgroup_sum(s, li) / f32(p.cols);
  // Two passes (mean, then squared deviations): no cancellation for rows with a large mean.
  var q = 0.0;
  for (var c = li; c < p.cols; c += NWG) {
    let d = lf_x[base + c] - mean;
    q += d * d;
  }
  let rstd = inverseSqrt(workgroup_sum(q, li) / f32(p.cols) + p.eps);
  for (var c = li; c < p.cols; c += NWG) {
    lf_out[base + c] = (lf_x[base + c] - mean) * rstd * lf_w[c] + lf_b[c];
  }
  if (li == 0u) {
    lf_mean[row] = mean;
    lf_rstd[row] = rstd;
  }
}

// dx (=|+=) rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * w, xhat = (x - mean) * rstd
@group(0) @binding(1) var<storage, read> lb_dy: array<f32>;
@group(0) @binding(2) var<storage, read> lb_x: array<f32>;
@group(0) @binding(3) var<storage, read> lb_w: array<f32>;
@group(0) @binding(4) var<storage, read> lb_mean: array<f32>;
@group(0) @binding(5) var<storage, read> lb_rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> lb_dx: array<f32>;
@compute @workgroup_size(NWG)
fn ln_backward_dx(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let mean = lb_mean[row];
  let rstd = lb_rstd[row];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var c = li; c < p.cols; c += NWG) {
    let g = lb_dy[base + c] * lb_w[c];
    s1 += g;
    s2 += g * (lb_x[base + c] - mean) * rstd;
  }
  let inv = 1.0 / f32(p.cols);
  let mg = workgroup_sum(s1, li) * inv;
  let mgx = workgroup_sum(s2, li) * inv;
  for (var c = li; c < p.cols; c += NWG) {
    let i = base + c;
    let xhat = (lb_x[i] - mean) * rstd;
    var d = rstd * (lb_dy[i] * lb_w[c] - mg - xhat * mgx);
    if (p.accumulate == 1u) { d += lb_dx[i]; }
    lb_dx[i] = d;
  }
}

// Per row block b: pdw[b, c] (=|+=) sum dy * xhat, pdb[b, c] (=|+=) sum dy.
@group(0) @binding(1) var<storage, read> lp_dy: array<f32>;
@group(0) @binding(2) var<storage, read> lp_x: array<f32>;
@group(0) @binding(3) var<storage, read> lp_mean: array<f32>;
@group(0) @binding(4) var<storage, read> lp_rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> lp_dw: array<f32>;
@group(0) @binding(6) var<storage, read_write> lp_db: array<f32>;
@compute @workgroup_size(64)
fn ln_backward_params(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wid.x * 64u + li;
  if (c >= p.cols) { return; }
  let r0 = wid.y * p.block;
  let r1 = min(p.rows, r0 + p.block);
  var sw = 0.0;
  var sb = 0.0;
  for (var r = r0; r < r1; r++) {
    let i = r * p.cols + c;
    let dy = lp_dy[i];
    sw += dy * (lp_x[i] - lp_mean[r]) * lp_rstd[r];
    sb += dy;
  }
  let o = wid.y * p.cols + c;
  if (p.accumulate == 1u) {
    sw += lp_dw[o];
    sb += lp_db[o];
  }
  lp_dw[o] = sw;
  lp_db[o] = sb;
}

// ------------------------------------------------------------------ RMSNorm
@group(0) @binding(1) var<storage, read> rf_x: array<f32>;
@group(0) @binding(2) var<storage, read> rf_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> rf_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> rf_rstd: array<f32>;
@compute @workgroup_size(NWG)
fn rms_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var q = 0.0;
  for (var c = li; c < p.cols; c += NWG) {
    let v = rf_x[base + c];
    q += v * v;
  }
  let rstd = inverseSqrt(workgroup_sum(q, li) / f32(p.cols) + p.eps);
  for (var c = li; c < p.cols; c += NWG) { rf_out[base + c] = rf_w[c] * (rf_x[base + c] * rstd); }
  if (li == 0u) { rf_rstd[row] = rstd; }
}

// dx (=|+=) rstd * g - x * rstd^3 * mean(g * x), g = dy * w
@group(0) @binding(1) var<storage, read> rb_dy: array<f32>;
@group(0) @binding(2) var<storage, read> rb_x: array<f32>;
@group(0) @binding(3) var<storage, read> rb_w: array<f32>;
@group(0) @binding(4) var<storage, read> rb_rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> rb_dx: array<f32>;
@compute @workgroup_size(NWG)
fn rms_backward_dx(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let rstd = rb_rstd[row];
  var s = 0.0;
  for (var c = li; c < p.cols; c += NWG) { s += rb_dy[base + c] * rb_w[c] * rb_x[base + c]; }
  let k = workgroup_sum(s, li) / f32(p.cols) * rstd * rstd * rstd;
  for (var c = li; c < p.cols; c += NWG) {
    let i = base + c;
    var d = rstd * rb_dy[i] * rb_w[c] - rb_x[i] * k;
    if (p.accumulate == 1u) { d += rb_dx[i]; }
    rb_dx[i] = d;
  }
}

// Per row block b: pdw[b, c] (=|+=) sum dy * x * rstd.
@group(0) @binding(1) var<storage, read> rp_dy: array<f32>;
@group(0) @binding(2) var<storage, read> rp_x: array<f32>;
@group(0) @binding(3) var<storage, read> rp_rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> rp_dw: array<f32>;
@compute @workgroup_size(64)
fn rms_backward_params(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wid.x * 64u + li;
  if (c >= p.cols) { return; }
  let r0 = wid.y * p.block;
  let r1 = min(p.rows, r0 + p.block);
  var sw = 0.0;
  for (var r = r0; r < r1; r++) {
    let i = r * p.cols + c;
    sw += rp_dy[i] * rp_x[i] * rp_rstd[r];
  }
  let o = wid.y * p.cols + c;
  if (p.accumulate == 1u) { sw += rp_dw[o]; }
  rp_dw[o] = sw;
}

// ------------------------------------------------------------------ 'thread' variants (CPU adapters)
// One invocation per row, looping over the columns: no workgroup memory and no barriers (a barrier
// switches every invocation's coroutine on SwiftShader/llvmpipe, which costs more than the whole row).
// Same bindings and the same math as the workgroup kernels above.
override TWG: u32 = 16;

fn thread_row(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * TWG + li;
}

@compute @workgroup_size(TWG)
fn ln_forward_thread(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = thread_row(wid, nwg, li);
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var s = 0.0;
  for (var c = 0u; c < p.cols; c++) { s += lf_x[base + c]; }
  let mean = s / f32(p.cols);
  var q = 0.0;
  for (var c = 0u; c < p.cols; c++) {
    let d = lf_x[base + c] - mean;
    q += d * d;
  }
  let rstd = inverseSqrt(q / f32(p.cols) + p.eps);
  for (var c = 0u; c < p.cols; c++) {
    lf_out[base + c] = (lf_x[base + c] - mean) * rstd * lf_w[c] + lf_b[c];
  }
  lf_mean[row] = mean;
  lf_rstd[row] = rstd;
}

@compute @workgroup_size(TWG)
fn ln_backward_dx_thread(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = thread_row(wid, nwg, li);
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let mean = lb_mean[row];
  let rstd = lb_rstd[row];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var c = 0u; c < p.cols; c++) {
    let g = lb_dy[base + c] * lb_w[c];
    s1 += g;
    s2 += g * (lb_x[base + c] - mean) * rstd;
  }
  let inv = 1.0 / f32(p.cols);
  let mg = s1 * inv;
  let mgx = s2 * inv;
  for (var c = 0u; c < p.cols; c++) {
    let i = base + c;
    let xhat = (lb_x[i] - mean) * rstd;
    var d = rstd * (lb_dy[i] * lb_w[c] - mg - xhat * mgx);
    if (p.accumulate == 1u) { d += lb_dx[i]; }
    lb_dx[i] = d;
  }
}

@compute @workgroup_size(TWG)
fn rms_forward_thread(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = thread_row(wid, nwg, li);
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var q = 0.0;
  for (var c = 0u; c < p.cols; c++) {
    let v = rf_x[base + c];
    q += v * v;
  }
  let rstd = inverseSqrt(q / f32(p.cols) + p.eps);
  for (var c = 0u; c < p.cols; c++) { rf_out[base + c] = rf_w[c] * (rf_x[base + c] * rstd); }
  rf_rstd[row] = rstd;
}

@compute @workgroup_size(TWG)
fn rms_backward_dx_thread(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = thread_row(wid, nwg, li);
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let rstd = rb_rstd[row];
  var s = 0.0;
  for (var c = 0u; c < p.cols; c++) { s += rb_dy[base + c] * rb_w[c] * rb_x[base + c]; }
  let k = s / f32(p.cols) * rstd * rstd * rstd;
  for (var c = 0u; c < p.cols; c++) {
    let i = base + c;
    var d = rstd * rb_dy[i] * rb_w[c] - rb_x[i] * k;
    if (p.accumulate == 1u) { d += rb_dx[i]; }
    rb_dx[i] = d;
  }
}
