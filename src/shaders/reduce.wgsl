// Reductions: per-sequence masked sums of token log-probs (and their backward), a masked sum into one
// scalar slot, and the global gradient L2 norm with torch's clip coefficient. All sums are f32 with a
// strided per-thread loop followed by a tree reduction in workgroup memory (GPUs); the '_thread' entry
// points at the end do each sum in one invocation without barriers (CPU adapters).
// Several entry points share this module; each declares its own uniform block at @binding(0) (WGSL
// allows that as long as no entry point uses two of them).

const WG = 256u;
var<workgroup> red: array<f32, 256>;

// Tree reduction of red[0..WG) into red[0]. Every invocation of the workgroup must call it.
fn reduce_wg(li: u32) {
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (li < s) { red[li] = red[li] + red[li + s]; }
  }
  workgroupBarrier();
}

// ---------------------------------------------------------------- sequence log-probs
// out[s] = sum_t tok[s*T+t] * mask[s*T+t]; one workgroup per sequence.
struct PSeq { S: u32, T: u32 }
@group(0) @binding(0) var<uniform> ps: PSeq;
@group(0) @binding(1) var<storage, read> seq_tok: array<f32>;
@group(0) @binding(2) var<storage, read> seq_mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> seq_out: array<f32>;
@compute @workgroup_size(WG)
fn seq_logps(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let s = wid.x + wid.y * nwg.x; // uniform across the workgroup: the early return keeps barriers uniform
  if (s >= ps.S) { return; }
  let base = s * ps.T;
  var acc = 0.0;
  for (var t = li; t < ps.T; t += WG) { acc += seq_tok[base + t] * seq_mask[base + t]; }
  red[li] = acc;
  reduce_wg(li);
  if (li == 0u) { seq_out[s] = red[0]; }
}

// dtoken[s*T+t] = dseq[s] * mask[s*T+t] (overwrite); one thread per token.
@group(0) @binding(1) var<storage, read> sb_dseq: array<f32>;
@group(0) @binding(2) var<storage, read> sb_mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> sb_dtok: array<f32>;
@compute @workgroup_size(WG)
fn seq_logps_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + li;
  if (i >= ps.S * ps.T) { return; }
  sb_dtok[i] = sb_dseq[i / ps.T] * sb_mask[i];
}

// ---------------------------------------------------------------- masked sum into out[outIndex]
struct PMs { R: u32, outIndex: u32 }
@group(0) @binding(0) var<uniform> pm: PMs;
@group(0) @binding(1) var<storage, read> ms_x: array<f32>;
@group(0) @binding(2) var<storage, read> ms_mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> ms_out: array<f32>;
@compute @workgroup_size(WG)
fn masked_sum(@builtin(local_invocation_index) li: u32) {
  var acc = 0.0;
  for (var r = li; r < pm.R; r += WG) { acc += ms_x[r] * ms_mask[r]; }
  red[li] = acc;
  reduce_wg(li);
  if (li == 0u) { ms_out[pm.outIndex] = red[0]; }
}

// ---------------------------------------------------------------- gradient norm
// Stage 1, one dispatch per gradient tensor: exactly G workgroups, workgroup g writes
// scratch[offset + g] = sum of g^2 over its strided share of the tensor (0 when it has none).
struct PSq { n: u32, offset: u32, G: u32 }
@group(0) @binding(0) var<uniform> pq: PSq;
@group(0) @binding(1) var<storage, read> sq_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> sq_scratch: array<f32>;
@compute @workgroup_size(WG)
fn sum_squares_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let g = wid.x;
  var acc = 0.0;
  let stride = pq.G * WG;
  for (var i = g * WG + li; i < pq.n; i += stride) {
    let x = sq_x[i];
    acc += x * x;
  }
  red[li] = acc;
  reduce_wg(li);
  if (li == 0u) { sq_scratch[pq.offset + g] = red[0]; }
}

// Stage 2: workgroup i sums scratch[i*G .. i*G+G) into partial[i].
struct PSf { count: u32, G: u32 }
@group(0) @binding(0) var<uniform> pf: PSf;
@group(0) @binding(1) var<storage, read> sf_scratch: array<f32>;
@group(0) @binding(2) var<storage, read_write> sf_partial: array<f32>;
@compute @workgroup_size(WG)
fn sum_squares_finish(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wid.x;
  var acc = 0.0;
  for (var g = li; g < pf.G; g += WG) { acc += sf_scratch[i * pf.G + g]; }
  red[li] = acc;
  reduce_wg(li);
  if (li == 0u) { sf_partial[i] = red[0]; }
}

// out[0] = sqrt(sum partial[0..count)), out[1] = torch clip_grad_norm_'s coefficient
// min(1, maxNorm / (norm + 1e-6)), or 1 when clipping is off.
struct PClip { count: u32, clip: u32, maxNorm: f32 }
@group(0) @binding(0) var<uniform> pc: PClip;
@group(0) @binding(1) var<storage, read> cl_partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> cl_out: array<f32>;
@compute @workgroup_size(WG)
fn grad_norm_clip(@builtin(local_invocation_index) li: u32) {
  var acc = 0.0;
  for (var i = li; i < pc.count; i += WG) { acc += cl_partial[i]; }
  red[li] = acc;
  reduce_wg(li);
  if (li == 0u) {
    let norm = sqrt(red[0]);
    cl_out[0] = norm;
    var coef = 1.0;
    if (pc.clip != 0u) { coef = min(1.0, pc.maxNorm / (norm + 1e-6)); }
    cl_out[1] = coef;
  }
}

// ---------------------------------------------------------------- 'thread' variants (CPU adapters)
// Same bindings and results, but each sum is one invocation's loop: no workgroup memory and no barriers
// (a barrier switches every invocation's coroutine on SwiftShader/llvmpipe). Chosen in
// src/gpu/ops/variant.ts.
override TWG: u32 = 16;

// out[s] = sum_t tok[s*T+t] * mask[s*T+t]; one invocation per sequence.
@compute @workgroup_size(TWG)
fn seq_logps_thread(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let s = (wid.x + wid.y * nwg.x) * TWG + li;
  if (s >= ps.S) { return; }
  let base = s * ps.T;
  var acc = 0.0;
  for (var t = 0u; t < ps.T; t++) { acc += seq_tok[base + t] * seq_mask[base + t]; }
  seq_out[s] = acc;
}

// out[outIndex] = sum_r x[r] * mask[r]; a single invocation.
@compute @workgroup_size(1)
fn masked_sum_thread() {
  var acc = 0.0;
  for (var r = 0u; r < pm.R; r++) { acc += ms_x[r] * ms_mask[r]; }
  ms_out[pm.outIndex] = acc;
}

// Stage 1: exactly G invocations (rounded up to whole workgroups), invocation g writes
// scratch[offset + g] = sum of x^2 over i = g, g + G, g + 2G, ...
@compute @workgroup_size(TWG)
fn sum_squares_partial_thread(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let g = wid.x * TWG + li;
  if (g >= pq.G) { return; }
  var acc = 0.0;
  for (var i = g; i < pq.n; i += pq.G) {
    let x = sq_x[i];
    acc += x * x;
  }
  sq_scratch[pq.offset + g] = acc;
}

// Stage 2: invocation i sums scratch[i*G .. i*G+G) into partial[i].
@compute @workgroup_size(TWG)
fn sum_squares_finish_thread(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wid.x * TWG + li;
  if (i >= pf.count) { return; }
  var acc = 0.0;
  for (var g = 0u; g < pf.G; g++) { acc += sf_scratch[i * pf.G + g]; }
  sf_partial[i] = acc;
}

// out[0] = global norm, out[1] = clip coefficient (as grad_norm_clip); a single invocation.
@compute @workgroup_size(1)
fn grad_norm_clip_thread() {
  var acc = 0.0;
  for (var i = 0u; i < pc.count; i++) { acc += cl_partial[i]; }
  let norm = sqrt(acc);
  cl_out[0] = norm;
  var coef = 1.0;
  if (pc.clip != 0u) { coef = min(1.0, pc.maxNorm / (norm + 1e-6)); }
  cl_out[1] = coef;
}
