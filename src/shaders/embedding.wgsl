// Embedding lookup and its gradient, for tables split into row chunks (a binding holds at most
// 128 MiB on most browsers; GPT-2's 50257 x 768 table is 147 MiB). One dispatch per chunk; the chunk
// holds table rows [row0, row0 + rows).

struct P { n: u32, dim: u32, row0: u32, rows: u32, overwrite: u32 }
@group(0) @binding(0) var<uniform> p: P;

const WG = 256u;

// out[t, d] (=|+=) chunk[ids[t] - row0, d]. One thread per output element.
// overwrite = 1 (first chunk without accumulate): rows whose id lies outside this chunk are set to 0,
// so later chunks can add into them.
@group(0) @binding(1) var<storage, read> f_ids: array<u32>;
@group(0) @binding(2) var<storage, read> f_table: array<f32>;
@group(0) @binding(3) var<storage, read_write> f_out: array<f32>;
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + li;
  if (i >= p.n * p.dim) { return; }
  let t = i / p.dim;
  let d = i - t * p.dim;
  let r = f_ids[t] - p.row0; // wraps for ids below the chunk, so one comparison covers both sides
  let inside = r < p.rows;
  var v = 0.0;
  if (inside) { v = f_table[r * p.dim + d]; }
  if (p.overwrite == 1u) {
    f_out[i] = v;
  } else if (inside) {
    f_out[i] = f_out[i] + v;
  }
}

// grad[ids[t] - row0, d] += dout[t, d]. One thread per column d loops over all tokens in order, so
// repeated ids accumulate deterministically without atomics.
@group(0) @binding(1) var<storage, read> b_ids: array<u32>;
@group(0) @binding(2) var<storage, read> b_dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> b_grad: array<f32>;
@compute @workgroup_size(64)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let d = (wid.x + wid.y * nwg.x) * 64u + li;
  if (d >= p.dim) { return; }
  for (var t = 0u; t < p.n; t++) {
    let r = b_ids[t] - p.row0;
    if (r < p.rows) {
      let g = r * p.dim + d;
      b_grad[g] = b_grad[g] + b_dout[t * p.dim + d];
    }
  }
}
