// One AdamW step with torch.optim.AdamW's arithmetic (decoupled weight decay), on n elements.
// hyper = [lr, beta1, beta2, eps, 1 - beta1^t, 1 - beta2^t, (1 - beta1), (1 - beta2)] (written by the caller
// once per step, so the pipeline and its uniform block never change). The last two words are optional
// (p.has_one_minus = 1 when present): 1 - beta2 computed in float64 and rounded once is what torch multiplies by;
// 1 - f32(0.999) is 1.3e-5 off relative. clip[1] is the global-norm clip coefficient that
// multiplies the gradient first (1 when not clipping).

struct P { n: u32, wd: f32, has_one_minus: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> hyper: array<f32>;
@group(0) @binding(6) var<storage, read> clip: array<f32>;

const WG = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + li;
  if (i >= p.n) { return; }
  let lr = hyper[0];
  let beta1 = hyper[1];
  let beta2 = hyper[2];
  let eps = hyper[3];
  let bc1 = hyper[4];
  let bc2 = hyper[5];
  var one_m_b1 = 1.0 - beta1;
  var one_m_b2 = 1.0 - beta2;
  if (p.has_one_minus != 0u) {
    one_m_b1 = hyper[6];
    one_m_b2 = hyper[7];
  }
  let g = grad[i] * clip[1];
  let w = param[i] * (1.0 - lr * p.wd);
  let mi = m[i] + one_m_b1 * (g - m[i]); // torch: exp_avg.lerp_(grad, 1 - beta1)
  let vi = v[i] * beta2 + one_m_b2 * g * g;
  m[i] = mi;
  v[i] = vi;
  let denom = sqrt(vi) / sqrt(bc2) + eps;
  param[i] = w - (lr / bc1) * (mi / denom);
}
