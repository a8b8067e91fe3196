import { describe, expect, it } from 'vitest';
import { testGpu } from './helpers/gpu';

const scaleKernel = {
  name: 'test-scale',
  code: /* wgsl */ `
struct P { n: u32, s: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * 64u + li;
  if (i < p.n) { y[i] = x[i] * p.s; }
}`,
};

describe('Gpu context', () => {
  it('dispatches, folds >65535 workgroups into y, and reads back', async () => {
    const gpu = await testGpu();
    const n = 65536 * 64 + 37; // forces workgroups.x > 65535
    const x = new Float32Array(n).map((_, i) => i % 1000);
    const tx = gpu.upload(x);
    const ty = gpu.tensor([n]);
    const { f32 } = await import('../src/gpu/context');
    gpu.dispatch(scaleKernel, [tx, ty], [n, f32(0.5)], Math.ceil(n / 64));
    const [y] = await gpu.read(ty);
    expect(y[n - 1]).toBe(((n - 1) % 1000) * 0.5);
    expect(y[12345]).toBe((12345 % 1000) * 0.5);
    gpu.release(tx, ty);
    // the pool hands the same buffer back for the same size bucket
    const again = gpu.tensor([n]);
    expect(again.buf === tx.buf || again.buf === ty.buf).toBe(true);
  });
});
