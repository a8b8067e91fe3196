// Overflow-safe scalar helpers shared by the fused loss kernels (prepended to their code).

// log(1 + t) for t in [0, 1], accurate for small t (WGSL has no log1p).
fn log1p_01(t: f32) -> f32 {
  if (t < 1e-3) { return t * (1.0 - t * (0.5 - t / 3.0)); }
  return log(1.0 + t);
}

// log(sigmoid(x)) without overflow.
fn logsig(x: f32) -> f32 {
  return min(x, 0.0) - log1p_01(exp(-abs(x)));
}

// sigmoid(x) without overflow of exp for large |x|.
fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

