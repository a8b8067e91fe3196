// GPU faults as the engine reports them: one typed error for every way WebGPU can fail a step (the
// device lost, out of memory, a validation or internal error), with a sentence saying what happened and
// what to do. The worker adds what only it knows (the step, the saved state, the memory estimate).

export type GpuFaultKind = 'device-lost' | 'out-of-memory' | 'validation' | 'internal';

export class GpuFaultError extends Error {
  override name = 'GpuFaultError';
  constructor(
    readonly kind: GpuFaultKind,
    message: string,
    /** WebGPU's own words (first line), for a bug report; the message already quotes it briefly. */
    readonly detail = '',
    /** Bytes the engine's buffer pool surely held before the failed work (what the GPU gave before refusing). */
    readonly allocatedBytes = 0,
  ) {
    super(message);
  }
}

/** The first line of a WebGPU message, short enough to quote in a sentence. */
export function firstLine(message: string): string {
  const line = (message.split('\n').find((l) => l.trim()) ?? '').trim().replace(/\.$/, '');
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** The kind of a GPUError, from its class (GPUOutOfMemoryError, GPUValidationError, GPUInternalError). */
export function errorKind(e: GPUError): GpuFaultKind {
  const g = globalThis as { GPUOutOfMemoryError?: Function; GPUValidationError?: Function };
  if ((g.GPUOutOfMemoryError && e instanceof g.GPUOutOfMemoryError) || e.constructor?.name === 'GPUOutOfMemoryError') return 'out-of-memory';
  if ((g.GPUValidationError && e instanceof g.GPUValidationError) || e.constructor?.name === 'GPUValidationError') return 'validation';
  return 'internal';
}

/** The engine's sentence for a fault (what happened, what to do); the worker may add the step and the saved state. */
export function faultMessage(kind: GpuFaultKind, detail: string): string {
  const why = detail ? ` (${detail})` : '';
  switch (kind) {
    case 'device-lost':
      return `The GPU device was lost${why}, so the work in progress did not finish. Browsers lose the GPU when its process restarts, the driver updates or the computer sleeps; the run can go on from its last saved state on a new device.`;
    case 'out-of-memory':
      return `The GPU ran out of memory${why}, so the work in progress did not finish. Lower per_device_train_batch_size or max_length, or turn on LoRA, gradient_checkpointing or precompute_ref_log_probs.`;
    case 'validation':
      return `WebGPU refused this step's work as invalid${why}, so none of it was applied. This is a bug in the playground, not in your settings: please report it with this message.`;
    case 'internal':
      return `The GPU driver reported an internal error${why}, so the work in progress did not finish. Continue from the last saved state; if it happens again, reload the page.`;
  }
}

export function gpuFault(kind: GpuFaultKind, rawMessage: string, allocatedBytes = 0): GpuFaultError {
  const detail = firstLine(rawMessage);
  return new GpuFaultError(kind, faultMessage(kind, detail), detail, allocatedBytes);
}
