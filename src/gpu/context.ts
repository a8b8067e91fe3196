// The engine's view of the GPU: a buffer pool, a pipeline cache, tensors, dispatch helpers and
// readback. Everything recorded between two submits goes into ONE command encoder (a training step),
// and nothing is read back to the CPU except what the caller asks for at the end.
//
// GPU faults: the first GPU call after a checkpoint opens one pair of error scopes (out-of-memory,
// validation); the next readback (read, checkpoint, sync) closes them and throws GpuFaultError if the
// work in between raised an error, was refused, or the device was lost. So a step that reads its scalars
// at the end never returns numbers computed from invalid work, at the cost of one scope pair per step.
import { acquireDevice, type DeviceInfo, type DeviceOptions } from './device';
import { errorKind, GpuFaultError, gpuFault } from './fault';

export { GpuFaultError, type GpuFaultKind } from './fault';

/** How long a failed WebGPU call waits for device.lost to settle before it is called an internal fault. */
const LOST_GRACE_MS = 2000;

export type DType = 'f32' | 'u32' | 'i32';

export interface Tensor {
  readonly buf: GPUBuffer;
  readonly shape: readonly number[];
  readonly size: number; // number of 32-bit elements
  readonly dtype: DType;
}

/** A f32 uniform word (plain numbers are u32). */
export interface F32 {
  f: number;
}
export const f32 = (f: number): F32 => ({ f });
/** A i32 uniform word. */
export const i32 = (i: number): { i: number } => ({ i });
export type Word = number | F32 | { i: number };

export interface Kernel {
  /** Unique name of the WGSL source + entry point; the cache key also includes the constants. */
  name: string;
  code: string;
  entryPoint?: string;
  /** Pipeline-overridable constants (`override` in WGSL): tile shapes, workgroup sizes. */
  constants?: Record<string, number>;
}


export const MAX_WG_PER_DIM = 65535;

function bucketBytes(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 256) * 256);
  const p = 2 ** Math.floor(Math.log2(b));
  if (b === p) return b;
  if (b <= p * 1.25) return Math.ceil((p * 1.25) / 256) * 256;
  if (b <= p * 1.5) return Math.ceil((p * 1.5) / 256) * 256;
  if (b <= p * 1.75) return Math.ceil((p * 1.75) / 256) * 256;
  return 2 * p;
}

export class Gpu {
  readonly device: GPUDevice;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly uniforms = new Map<string, GPUBuffer>();
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly bufferBytes = new Map<GPUBuffer, number>();
  /** Bytes currently handed out by the pool and the peak seen (for the memory report). */
  liveBytes = 0;
  peakBytes = 0;
  /** Bytes of every buffer the pool holds (handed out or free). */
  allocatedBytes = 0;
  /** allocatedBytes when the current error scope opened: what the GPU surely gave (a refused buffer comes after). */
  private scopeStartBytes = 0;
  dispatchCount = 0;
  private readonly usage: number;
  /** True while this step's error scopes are pushed (see openScope). */
  private scoped = false;
  /** Uncaptured errors (info.errors) already turned into a fault. */
  private errorsSeen = 0;

  constructor(readonly info: DeviceInfo) {
    this.device = info.device;
    this.usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  }

  static async create(opts?: DeviceOptions): Promise<Gpu> {
    return new Gpu(await acquireDevice(opts));
  }

  get maxBindingBytes(): number {
    return this.info.limits.maxStorageBufferBindingSize;
  }

  get lost(): boolean {
    return this.info.lost !== null;
  }

  checkAlive(): void {
    if (this.info.lost) throw this.lostFault();
  }

  private lostFault(): GpuFaultError {
    const l = this.info.lost!;
    return gpuFault('device-lost', l.message ? `${l.reason}: ${l.message}` : l.reason, this.allocatedBytes);
  }

  // ---------------------------------------------------------------- faults

  /** Pushes the step's error scopes, once, before the first GPU call after a checkpoint. */
  private openScope(): void {
    if (this.scoped) return;
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    this.scoped = true;
    this.scopeStartBytes = this.allocatedBytes;
  }

  /** Pops the step's scopes: the errors they caught, out-of-memory first (it says what to change). */
  private closeScope(): Promise<(GPUError | null)[]> {
    if (!this.scoped) return Promise.resolve([]);
    this.scoped = false;
    const validation = this.device.popErrorScope().catch(() => null);
    const oom = this.device.popErrorScope().catch(() => null);
    return Promise.all([oom, validation]);
  }

  /** Throws the fault behind the scopes' errors, an uncaptured error since the last check, or a lost device. */
  private raise(scoped: (GPUError | null)[]): void {
    this.checkAlive();
    const uncaptured = this.info.errors.slice(this.errorsSeen);
    this.errorsSeen = this.info.errors.length;
    const err = scoped.find((e) => e);
    if (err) throw gpuFault(errorKind(err), err.message, this.scopeStartBytes);
    if (uncaptured.length) {
      const u = uncaptured.find((x) => x.kind === 'out-of-memory') ?? uncaptured[0];
      throw gpuFault(u.kind, u.message, this.allocatedBytes);
    }
  }

  /**
   * The fault behind an error thrown while the GPU was in use: GpuFaultError('device-lost') when the
   * device is lost (waiting briefly for device.lost, which can settle after the failed call: a crashed
   * GPU process first shows as a raw mapAsync exception), an internal fault for any other error a
   * WebGPU call threw (`fromWebGpu`), else `e` itself.
   */
  async faultOf(e: unknown, fromWebGpu = false): Promise<unknown> {
    if (e instanceof GpuFaultError) return e;
    if (!this.info.lost) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.info.whenLost, new Promise((r) => (timer = setTimeout(r, LOST_GRACE_MS)))]);
      clearTimeout(timer);
    }
    if (this.info.lost) return this.lostFault();
    if (fromWebGpu) return gpuFault('internal', e instanceof Error ? `${e.name}: ${e.message}` : String(e), this.allocatedBytes);
    return e;
  }

  /**
   * Submits what is recorded and throws GpuFaultError if any GPU work since the last readback raised an
   * error: the end of a step whose last work (the optimizer update) is not read back.
   */
  async checkpoint(): Promise<void> {
    try {
      this.flush();
      this.raise(await this.closeScope());
    } catch (e) {
      throw await this.faultOf(e, true);
    }
  }

  // ---------------------------------------------------------------- buffers and tensors

  private acquireBuffer(bytes: number): GPUBuffer {
    this.openScope();
    const size = bucketBytes(bytes);
    if (size > this.info.limits.maxBufferSize) {
      throw new RangeError(`A ${(size / 2 ** 20).toFixed(1)} MiB buffer exceeds this GPU's limit of ${(this.info.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB.`);
    }
    const list = this.free.get(size);
    let buf = list?.pop();
    if (!buf) {
      buf = this.device.createBuffer({ size, usage: this.usage });
      this.bufferBytes.set(buf, size);
      this.allocatedBytes += size;
    }
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return buf;
  }

  /** A new tensor from the pool. Contents are undefined unless `zero` is set. */
  tensor(shape: readonly number[], dtype: DType = 'f32', zero = false): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const buf = this.acquireBuffer(Math.max(4, size * 4));
    const t: Tensor = { buf, shape: [...shape], size, dtype };
    if (zero) this.zero(t);
    return t;
  }

  /** A tensor filled from CPU data (written on the queue before the next submit). */
  upload(data: Float32Array | Uint32Array | Int32Array, shape?: readonly number[]): Tensor {
    const dtype: DType = data instanceof Float32Array ? 'f32' : data instanceof Uint32Array ? 'u32' : 'i32';
    const t = this.tensor(shape ?? [data.length], dtype);
    this.write(t, data);
    return t;
  }

  write(t: Tensor, data: Float32Array | Uint32Array | Int32Array, offsetElems = 0): void {
    // Encoded work that reads t must run after this write: submit what is pending first.
    if (this.encoder) this.flush();
    this.openScope();
    this.device.queue.writeBuffer(t.buf, offsetElems * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  release(...ts: (Tensor | null | undefined)[]): void {
    for (const t of ts) {
      if (!t) continue;
      const size = this.bufferBytes.get(t.buf);
      if (size === undefined) continue;
      this.liveBytes -= size;
      let list = this.free.get(size);
      if (!list) this.free.set(size, (list = []));
      list.push(t.buf);
    }
  }

  /** Frees the pool's idle buffers (e.g. after the reference model is dropped). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) {
      this.allocatedBytes -= this.bufferBytes.get(b) ?? 0;
      this.bufferBytes.delete(b);
      b.destroy();
    }
    this.free.clear();
  }

  view(t: Tensor, shape: readonly number[]): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== t.size) throw new Error(`view: cannot view ${t.shape} as ${shape}`);
    return { ...t, shape: [...shape] };
  }

  // ---------------------------------------------------------------- pipelines and dispatch

  pipeline(k: Kernel): GPUComputePipeline {
    const key = `${k.name}|${k.entryPoint ?? 'main'}|${JSON.stringify(k.constants ?? {})}`;
    let p = this.pipelines.get(key);
    if (!p) {
      this.openScope();
      const module = this.device.createShaderModule({ code: k.code, label: k.name });
      p = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module, entryPoint: k.entryPoint ?? 'main', constants: k.constants },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  private uniform(words: readonly Word[]): GPUBuffer {
    const data = new ArrayBuffer(Math.max(16, Math.ceil((words.length * 4) / 16) * 16));
    const u = new Uint32Array(data);
    const f = new Float32Array(data);
    const s = new Int32Array(data);
    words.forEach((w, i) => {
      if (typeof w === 'number') {
        if (!Number.isInteger(w) || w < 0) throw new Error(`uniform word ${i} = ${w} is not a u32; wrap floats in f32()`);
        u[i] = w;
      } else if ('f' in w) f[i] = w.f;
      else s[i] = w.i;
    });
    const key = Array.from(u).join(',');
    let buf = this.uniforms.get(key);
    if (!buf) {
      if (this.uniforms.size > 8192) {
        // Shapes change rarely; when they do, drop the old parameter blocks once submitted.
        this.flush();
        for (const b of this.uniforms.values()) b.destroy();
        this.uniforms.clear();
      }
      this.openScope();
      buf = this.device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
      new Uint32Array(buf.getMappedRange()).set(u);
      buf.unmap();
      this.uniforms.set(key, buf);
    }
    return buf;
  }

  private computePass(): GPUComputePassEncoder {
    this.checkAlive();
    this.openScope();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    return this.pass;
  }

  private commandEncoder(): GPUCommandEncoder {
    this.checkAlive();
    this.openScope();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  /**
   * Records one dispatch. Binding convention for every kernel in src/shaders: if `params` is given it is
   * a uniform struct at @group(0) @binding(0); the tensors follow at bindings 1, 2, ... in order.
   * `workgroups` may exceed 65535 in x: it is then folded into y (kernels use `linearWorkgroup`).
   */
  dispatch(k: Kernel, tensors: readonly (Tensor | GPUBuffer)[], params: readonly Word[] | null, workgroups: number | readonly number[]): void {
    const pipeline = this.pipeline(k);
    const entries: GPUBindGroupEntry[] = [];
    if (params) entries.push({ binding: 0, resource: { buffer: this.uniform(params) } });
    tensors.forEach((t, i) => {
      const buffer = 'buf' in t ? t.buf : t;
      const bytes = 'buf' in t ? Math.max(4, t.size * 4) : undefined;
      entries.push({ binding: i + 1, resource: bytes === undefined ? { buffer } : { buffer, size: bytes } });
    });
    this.openScope();
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    let [x, y, z] = typeof workgroups === 'number' ? [workgroups, 1, 1] : [workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1];
    if (x === 0 || y === 0 || z === 0) return;
    if (x > MAX_WG_PER_DIM) {
      if (y !== 1) throw new Error(`dispatch ${k.name}: too many workgroups (${x} x ${y})`);
      y = Math.ceil(x / MAX_WG_PER_DIM);
      x = MAX_WG_PER_DIM;
    }
    const prof = this.profiler;
    let pass: GPUComputePassEncoder;
    if (prof && prof.next + 2 <= prof.capacity) {
      // one pass per dispatch, with GPU timestamps at its start and end (timestamp-query)
      const enc = this.commandEncoder();
      pass = enc.beginComputePass({ timestampWrites: { querySet: prof.querySet, beginningOfPassWriteIndex: prof.next, endOfPassWriteIndex: prof.next + 1 } });
      prof.names.push(k.name + (k.entryPoint && k.entryPoint !== 'main' ? `:${k.entryPoint}` : '') + (this.profileShapes ? ` [${x}x${y}x${z}] ${JSON.stringify(params)}` : ''));
      prof.next += 2;
      this.pass = pass;
    } else {
      pass = this.computePass();
    }
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatchCount++;
  }

  /** Profile per kernel AND dispatch shape (workgroups and parameters), to find the slow shapes. */
  profileShapes = false;
  private profiler: { querySet: GPUQuerySet; capacity: number; next: number; names: string[]; totals: Map<string, { ns: number; count: number }> } | null = null;

  /** Per-kernel GPU time with timestamp queries (when the adapter has them); see profileResults(). */
  enableProfiling(capacity = 4096): boolean {
    if (!this.info.features.has('timestamp-query')) return false;
    this.flush();
    this.openScope();
    this.profiler = { querySet: this.device.createQuerySet({ type: 'timestamp', count: capacity }), capacity, next: 0, names: [], totals: new Map() };
    return true;
  }

  /** Resolves the timestamps recorded so far and accumulates them per kernel name. */
  async collectProfile(): Promise<Map<string, { ns: number; count: number }>> {
    const prof = this.profiler;
    if (!prof) return new Map();
    if (prof.next > 0) {
      const enc = this.commandEncoder();
      const resolve = this.device.createBuffer({ size: prof.next * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const staging = this.device.createBuffer({ size: prof.next * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      enc.resolveQuerySet(prof.querySet, 0, prof.next, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, staging, 0, prof.next * 8);
      this.flush();
      await staging.mapAsync(GPUMapMode.READ);
      const ts = new BigInt64Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      resolve.destroy();
      prof.names.forEach((name, i) => {
        const ns = Number(ts[2 * i + 1] - ts[2 * i]);
        const t = prof.totals.get(name) ?? { ns: 0, count: 0 };
        t.ns += Math.max(0, ns);
        t.count++;
        prof.totals.set(name, t);
      });
      prof.next = 0;
      prof.names = [];
    }
    return prof.totals;
  }

  zero(t: Tensor): void {
    this.commandEncoder().clearBuffer(t.buf, 0, Math.ceil((t.size * 4) / 4) * 4);
  }

  copy(src: Tensor, dst: Tensor, srcOffsetElems = 0, dstOffsetElems = 0, elems = src.size): void {
    this.commandEncoder().copyBufferToBuffer(src.buf, srcOffsetElems * 4, dst.buf, dstOffsetElems * 4, elems * 4);
  }

  /** Submits everything recorded so far (one command buffer). */
  flush(): void {
    if (!this.encoder) return;
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
  }

  /** Submits and waits until the GPU is idle; throws GpuFaultError if the work raised an error. */
  async sync(): Promise<void> {
    try {
      this.flush();
      await this.device.queue.onSubmittedWorkDone();
    } catch (e) {
      throw await this.faultOf(e, true);
    }
    await this.checkpoint();
  }

  /**
   * Reads tensors back (one submit, one map per tensor). Use only at the end of a step. Throws
   * GpuFaultError, and returns nothing, when the work since the last readback raised an error.
   */
  async read(...ts: Tensor[]): Promise<Float32Array[]> {
    const staging: GPUBuffer[] = [];
    try {
      const enc = this.commandEncoder();
      for (const t of ts) {
        const bytes = Math.max(4, t.size * 4);
        const s = this.device.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        enc.copyBufferToBuffer(t.buf, 0, s, 0, bytes);
        staging.push(s);
      }
      this.flush();
      const scoped = this.closeScope();
      const maps = staging.map((s) => s.mapAsync(GPUMapMode.READ));
      // a map that fails because of a fault is superseded by that fault (no unhandled rejection)
      for (const m of maps) m.catch(() => undefined);
      this.raise(await scoped);
      const out: Float32Array[] = [];
      for (const [i, s] of staging.entries()) {
        await maps[i];
        out.push(new Float32Array(s.getMappedRange().slice(0)));
        s.unmap();
      }
      this.checkAlive();
      return out;
    } catch (e) {
      throw await this.faultOf(e, true);
    } finally {
      for (const s of staging) s.destroy();
    }
  }

  async readU32(t: Tensor): Promise<Uint32Array> {
    const [f] = await this.read(t);
    return new Uint32Array(f.buffer);
  }
}

/**
 * Splits a WGSL family file into one module per `//#kernel <name>` section, the part before the first
 * section prepended to each, so every module declares its bindings 0, 1, 2... exactly once.
 */
export function kernelSections(name: string, code: string): Record<string, Kernel> {
  const parts = code.split(/^\/\/#kernel[ \t]+/m);
  const common = parts[0];
  const out: Record<string, Kernel> = {};
  for (const part of parts.slice(1)) {
    const nl = part.indexOf('\n');
    const k = part.slice(0, nl).trim();
    out[k] = { name: `${name}.${k}`, code: `${common}\n${part.slice(nl + 1)}` };
  }
  return out;
}

/** Number of workgroups for `n` invocations of size `wg` (folded by `dispatch` when > 65535). */
export const groups = (n: number, wg: number): number => Math.ceil(n / wg);
