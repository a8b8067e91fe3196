// Elementwise ops on flat f32 arrays: add, add-in-place, scale, fill.
// One thread per element; the workgroup index is linear (x folded into y by Gpu.dispatch).

struct P { n: u32, s: f32 }
@group(0) @binding(0) var<uniform> p: P;

const WG = 256u;

fn index(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + li;
}

// out = a + b
@group(0) @binding(1) var<storage, read> add_a: array<f32>;
@group(0) @binding(2) var<storage, read> add_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> add_out: array<f32>;
@compute @workgroup_size(WG)
fn add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i < p.n) { add_out[i] = add_a[i] + add_b[i]; }
}

// out += a  (bindings: out, a)
@group(0) @binding(1) var<storage, read_write> acc_out: array<f32>;
@group(0) @binding(2) var<storage, read> acc_a: array<f32>;
@compute @workgroup_size(WG)
fn add_inplace(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i < p.n) { acc_out[i] = acc_out[i] + acc_a[i]; }
}

// out = s * x
@group(0) @binding(1) var<storage, read> sc_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> sc_out: array<f32>;
@compute @workgroup_size(WG)
fn scale(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i < p.n) { sc_out[i] = p.s * sc_x[i]; }
}

// out = s
@group(0) @binding(1) var<storage, read_write> fill_out: array<f32>;
@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i < p.n) { fill_out[i] = p.s; }
}
