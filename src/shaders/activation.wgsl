// Activations, forward and backward side by side.
// GPT-2 gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// SwiGLU (Llama MLP): out = silu(gate) * up, silu(g) = g * sigmoid(g).

struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;

const WG = 256u;
const GELU_C = 0.7978845608028654; // sqrt(2/pi)
const GELU_A = 0.044715;

fn index(wid: vec3u, nwg: vec3u, li: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + li;
}

// tanh of a large argument is NaN on some drivers (exp overflow): clamp, tanh(15) == 1 in f32.
fn safe_tanh(u: f32) -> f32 {
  return tanh(clamp(u, -15.0, 15.0));
}

fn sigmoid(g: f32) -> f32 {
  // exp(-g) overflows to inf for g < -88, giving 1/(1+inf) = 0: the right limit.
  return 1.0 / (1.0 + exp(-g));
}

@group(0) @binding(1) var<storage, read> gf_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> gf_out: array<f32>;
@compute @workgroup_size(WG)
fn gelu_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i >= p.n) { return; }
  let x = gf_x[i];
  gf_out[i] = 0.5 * x * (1.0 + safe_tanh(GELU_C * (x + GELU_A * x * x * x)));
}

// dx = dy * gelu'(x), gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3a x^2)
@group(0) @binding(1) var<storage, read> gb_x: array<f32>;
@group(0) @binding(2) var<storage, read> gb_dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gb_dx: array<f32>;
@compute @workgroup_size(WG)
fn gelu_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i >= p.n) { return; }
  let x = gb_x[i];
  let t = safe_tanh(GELU_C * (x + GELU_A * x * x * x));
  let d = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * x * x);
  gb_dx[i] = gb_dy[i] * d;
}

@group(0) @binding(1) var<storage, read> sf_gate: array<f32>;
@group(0) @binding(2) var<storage, read> sf_up: array<f32>;
@group(0) @binding(3) var<storage, read_write> sf_out: array<f32>;
@compute @workgroup_size(WG)
fn swiglu_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i >= p.n) { return; }
  let g = sf_gate[i];
  sf_out[i] = g * sigmoid(g) * sf_up[i];
}

// dgate = dy * up * silu'(g), silu'(g) = s (1 + g (1 - s)); dup = dy * silu(g)
@group(0) @binding(1) var<storage, read> sb_gate: array<f32>;
@group(0) @binding(2) var<storage, read> sb_up: array<f32>;
@group(0) @binding(3) var<storage, read> sb_dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> sb_dgate: array<f32>;
@group(0) @binding(5) var<storage, read_write> sb_dup: array<f32>;
@compute @workgroup_size(WG)
fn swiglu_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = index(wid, nwg, li);
  if (i >= p.n) { return; }
  let g = sb_gate[i];
  let s = sigmoid(g);
  let dy = sb_dy[i];
  sb_dgate[i] = dy * sb_up[i] * s * (1.0 + g * (1.0 - s));
  sb_dup[i] = dy * g * s;
}
