// CPU reference (float64) for rotate-half RoPE, as Hugging Face's apply_rotary_pos_emb.

export interface RopeShape {
  rows: number; // B*T
  T: number;
  heads: number;
  D: number;
}

/** cos/sin of pos * theta^(-2i/D), [T, D/2] row-major. */
export function ropeTableCpu(T: number, D: number, theta: number): { cos: Float64Array; sin: Float64Array } {
  const half = D / 2;
  const cos = new Float64Array(T * half);
  const sin = new Float64Array(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * Math.pow(theta, (-2 * i) / D);
      cos[t * half + i] = Math.cos(a);
      sin[t * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

function rotate(x: ArrayLike<number>, cos: ArrayLike<number>, sin: ArrayLike<number>, o: RopeShape, sign: number): Float64Array {
  const { rows, T, heads, D } = o;
  const half = D / 2;
  const y = new Float64Array(rows * heads * D);
  for (let r = 0; r < rows; r++) {
    const pos = r % T;
    for (let h = 0; h < heads; h++) {
      const base = (r * heads + h) * D;
      for (let i = 0; i < half; i++) {
        const c = cos[pos * half + i];
        const s = sign * sin[pos * half + i];
        const x1 = x[base + i];
        const x2 = x[base + i + half];
        y[base + i] = x1 * c - x2 * s;
        y[base + i + half] = x2 * c + x1 * s;
      }
    }
  }
  return y;
}

/** x * cos + rotate_half(x) * sin, per head; x [rows, heads*D], position of row r is r % T. */
export function ropeForwardCpu(x: ArrayLike<number>, table: { cos: ArrayLike<number>; sin: ArrayLike<number> }, o: RopeShape): Float64Array {
  return rotate(x, table.cos, table.sin, o, 1);
}

/** Transpose of ropeForwardCpu (the inverse rotation): dx from dy. */
export function ropeBackwardCpu(dy: ArrayLike<number>, table: { cos: ArrayLike<number>; sin: ArrayLike<number> }, o: RopeShape): Float64Array {
  return rotate(dy, table.cos, table.sin, o, -1);
}
