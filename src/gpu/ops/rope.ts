// Rotate-half RoPE (Hugging Face Llama/Qwen). The cos/sin tables are computed once on the CPU in float64
// and cached per (gpu, T, D, theta); forward rotates, backward applies the inverse rotation (the transpose).
import { f32, groups, type Gpu, type Kernel, type Tensor } from '../context';
import src from '../../shaders/rope.wgsl?raw';
import { ropeTableCpu } from '../reference/rope';

export interface RopeTable {
  cos: Tensor; // [T, D/2]
  sin: Tensor; // [T, D/2]
}

export interface RopeOptions {
  rows: number; // B*T
  T: number;
  heads: number;
  D: number;
}

const kernel: Kernel = { name: 'rope', code: src };
const tables = new WeakMap<Gpu, Map<string, RopeTable>>();

function checkDims(what: string, o: Record<string, number>): void {
  for (const [k, v] of Object.entries(o)) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${what}: ${k} must be a positive integer, got ${v}.`);
  }
}

/** cos/sin tables [T, D/2] of pos * theta^(-2i/D); cached, never release them. */
export function ropeTable(gpu: Gpu, T: number, D: number, theta: number): RopeTable {
  checkDims('ropeTable', { T, D });
  if (D % 2 !== 0) throw new RangeError(`ropeTable: rotate-half RoPE needs an even head dimension, got D = ${D}.`);
  if (!(theta > 0) || !Number.isFinite(theta)) throw new RangeError(`ropeTable: rope_theta must be a positive number, got ${theta}.`);
  let m = tables.get(gpu);
  if (!m) tables.set(gpu, (m = new Map()));
  const key = `${T}|${D}|${theta}`;
  let t = m.get(key);
  if (!t) {
    const cpu = ropeTableCpu(T, D, theta);
    t = { cos: gpu.upload(Float32Array.from(cpu.cos), [T, D / 2]), sin: gpu.upload(Float32Array.from(cpu.sin), [T, D / 2]) };
    m.set(key, t);
  }
  return t;
}

function run(gpu: Gpu, x: Tensor, y: Tensor, table: RopeTable, o: RopeOptions, sign: number, what: string): void {
  checkDims(what, { rows: o.rows, T: o.T, heads: o.heads, D: o.D });
  if (o.D % 2 !== 0) throw new RangeError(`${what}: rotate-half RoPE needs an even head dimension, got D = ${o.D}.`);
  const n = o.rows * o.heads * o.D;
  if (x.size !== n || y.size !== n) {
    throw new RangeError(`${what}: input and output must hold rows*heads*D = ${n} values, got ${x.size} and ${y.size}.`);
  }
  if (x.buf === y.buf) throw new Error(`${what}: input and output must be different tensors (WebGPU cannot bind one buffer as read and read_write in one dispatch).`);
  const [tT, tHalf] = table.cos.shape;
  if (tHalf !== o.D / 2 || tT < o.T) {
    throw new RangeError(`${what}: the RoPE table is [${table.cos.shape}] but positions up to T = ${o.T} with D/2 = ${o.D / 2} are needed.`);
  }
  gpu.dispatch(kernel, [x, table.cos, table.sin, y], [o.rows, o.T, o.heads, o.D, f32(sign)], groups(o.rows * o.heads * (o.D / 2), 64));
}

/** out = x*cos + rotate_half(x)*sin per head; x, out [rows, heads*D] (distinct); row r has position r % T. */
export function ropeForward(gpu: Gpu, x: Tensor, out: Tensor, table: RopeTable, o: RopeOptions): void {
  run(gpu, x, out, table, o, 1, 'ropeForward');
}

/** dx = transpose of the rotation applied to dy (the inverse rotation); overwrites dx. */
export function ropeBackward(gpu: Gpu, dy: Tensor, dx: Tensor, table: RopeTable, o: RopeOptions): void {
  run(gpu, dy, dx, table, o, -1, 'ropeBackward');
}
