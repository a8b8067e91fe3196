// Elementwise ops: add, add-in-place, scale, fill. Flat f32 tensors of n elements.
import { f32, groups, type Gpu, type Tensor } from '../context';
import code from '../../shaders/elementwise.wgsl?raw';

const WG = 256;
const kernel = (entryPoint: string) => ({ name: 'elementwise', code, entryPoint });

/** Throws a RangeError naming the op and tensor when `t` holds fewer than `need` elements. */
export function requireSize(op: string, what: string, t: Tensor, need: number): void {
  if (!Number.isInteger(need) || need < 0) throw new RangeError(`${op}: ${what} needs a non-negative integer size, got ${need}.`);
  if (t.size < need) throw new RangeError(`${op}: ${what} holds ${t.size} elements but ${need} are needed (shape [${t.shape}]).`);
}

/** Throws when two tensors share a buffer where one of them is written (WebGPU forbids that aliasing). */
export function requireDistinct(op: string, written: Tensor, ...read: (Tensor | undefined)[]): void {
  for (const r of read) {
    if (r && r.buf === written.buf) throw new RangeError(`${op}: the output must not be the same buffer as an input.`);
  }
}

/** Throws unless `v` is an integer >= min. */
export function requireInt(op: string, what: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${op}: ${what} must be an integer >= ${min}, got ${v}.`);
}

/** out = a + b */
export function add(gpu: Gpu, a: Tensor, b: Tensor, out: Tensor, n: number): void {
  requireSize('add', 'a', a, n);
  requireSize('add', 'b', b, n);
  requireSize('add', 'out', out, n);
  requireDistinct('add', out, a, b);
  gpu.dispatch(kernel('add'), [a, b, out], [n, f32(0)], groups(n, WG));
}

/** out += a */
export function addInPlace(gpu: Gpu, out: Tensor, a: Tensor, n: number): void {
  requireSize('addInPlace', 'out', out, n);
  requireSize('addInPlace', 'a', a, n);
  requireDistinct('addInPlace', out, a);
  gpu.dispatch(kernel('add_inplace'), [out, a], [n, f32(0)], groups(n, WG));
}

/** out = s * x (x may not be out; use a copy first). */
export function scale(gpu: Gpu, x: Tensor, out: Tensor, n: number, s: number): void {
  requireSize('scale', 'x', x, n);
  requireSize('scale', 'out', out, n);
  requireDistinct('scale', out, x);
  gpu.dispatch(kernel('scale'), [x, out], [n, f32(s)], groups(n, WG));
}

/** out[0..n) = value */
export function fill(gpu: Gpu, out: Tensor, n: number, value: number): void {
  requireSize('fill', 'out', out, n);
  gpu.dispatch(kernel('fill'), [out], [n, f32(value)], groups(n, WG));
}
