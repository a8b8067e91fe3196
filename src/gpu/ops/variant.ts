// Kernel variants chosen by adapter. CPU WebGPU implementations (SwiftShader, llvmpipe, lavapipe) run
// the invocations of a workgroup as coroutines and switch every one of them at each workgroupBarrier(),
// so a tree reduction in workgroup memory costs far more than the arithmetic it saves. Real GPUs want the
// opposite: many threads per row and a reduction in workgroup memory.
// Measured on SwiftShader (npm run bench, one DPO step, GPU time relative to the unchanged matmul):
// tiny config 13x less non-matmul time (ln_forward 1118 -> 1 ms); 10m config softmax 5.7x, ds 7.8x,
// rms_forward 14x, rms_backward_dx 30x, non-matmul kernels 4.4x (49% -> 18% of the step).
import type { Gpu } from '../context';

/** True for adapters that run shaders on the CPU (SwiftShader, llvmpipe, lavapipe, anything named "cpu"). */
export function isCpuAdapter(gpu: Gpu): boolean {
  return /swiftshader|llvmpipe|lavapipe|cpu/i.test(gpu.info.adapterName);
}

/**
 * How row reductions (norm statistics, log-softmax over a vocabulary chunk, sequence sums, gradient
 * norm) are computed:
 * - 'workgroup': one workgroup per row, threads stride over the row, tree reduction in workgroup memory;
 * - 'thread': one invocation per row looping over it, no workgroup memory and no barriers.
 * Fused attention (flash-attention.ts) reads it too: 64 query/key rows per workgroup, or 16 on 'thread'.
 */
export type ReduceVariant = 'workgroup' | 'thread';

let setting: ReduceVariant | 'auto' = 'auto';

/** Forces a variant for every row-reduction op (tests, benchmarks); 'auto' picks 'thread' on CPU adapters, else 'workgroup'. */
export function setReduceVariant(v: ReduceVariant | 'auto'): void {
  if (v !== 'workgroup' && v !== 'thread' && v !== 'auto') throw new RangeError(`setReduceVariant: unknown variant "${String(v)}"; use 'workgroup', 'thread' or 'auto'.`);
  setting = v;
}

/** The variant the row-reduction ops use on this GPU under the current setting. */
export function reduceVariant(gpu: Gpu): ReduceVariant {
  if (setting !== 'auto') return setting;
  return isCpuAdapter(gpu) ? 'thread' : 'workgroup';
}

/** Invocations per workgroup for the 'thread' variants: small, so that few rows still spread over all CPU cores. */
export const THREAD_WG = 16;
