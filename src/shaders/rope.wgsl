// Rotate-half RoPE (Hugging Face Llama/Qwen apply_rotary_pos_emb):
//   out[i]       = x[i] * cos - x[i + D/2] * sin
//   out[i + D/2] = x[i + D/2] * cos + x[i] * sin        (i < D/2)
// The backward pass is the inverse rotation, i.e. the same kernel with sin negated (sign = -1).
// One thread per rotated pair (row, head, i). Position of row r is r % T.

struct P { rows: u32, T: u32, heads: u32, D: u32, sign: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> cosT: array<f32>; // [T, D/2]
@group(0) @binding(3) var<storage, read> sinT: array<f32>; // [T, D/2]
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let idx = (wid.x + wid.y * nwg.x) * 64u + li;
  let half = p.D / 2u;
  if (idx >= p.rows * p.heads * half) { return; }
  let i = idx % half;
  let rh = idx / half; // row * heads + head
  let r = rh / p.heads;
  let pos = r % p.T;
  let c = cosT[pos * half + i];
  let s = p.sign * sinT[pos * half + i];
  let base = rh * p.D; // row r, head h starts at r * heads * D + h * D
  let x1 = x[base + i];
  let x2 = x[base + i + half];
  y[base + i] = x1 * c - x2 * s;
  y[base + i + half] = x2 * c + x1 * s;
}
