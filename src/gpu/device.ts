// Getting a GPUDevice: navigator.gpu in the browser and in workers; the `webgpu` (Dawn) package in Node.
// In Node, when no hardware adapter is found, we fall back to SwiftShader's Vulkan driver shipped by
// Debian's chromium package (see DESIGN.md, "Testing without a GPU").

import { errorKind, type GpuFaultKind } from './fault';

export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

export interface DeviceInfo {
  device: GPUDevice;
  adapterName: string;
  features: Set<string>;
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number; maxComputeWorkgroupsPerDimension: number };
  /** Set once the device is lost; every engine entry point checks it and throws GpuFaultError('device-lost'). */
  lost: { reason: string; message: string } | null;
  /** Resolves when the device is lost (device.lost, with `lost` set first). */
  whenLost: Promise<void>;
  /** WebGPU errors raised outside the engine's error scopes (uncapturederror), oldest first. */
  errors: { kind: GpuFaultKind; message: string }[];
}

// Dawn in Node: the object returned by create() must stay referenced for the life of the process.
let nodeGpu: GPU | undefined;
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

async function nodeAdapter(powerPreference: GPUPowerPreference): Promise<GPUAdapter | null> {
  const proc = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
  const env = proc?.env ?? {};
  // The Vulkan loader complains on stderr without it (headless machines, CI).
  env.XDG_RUNTIME_DIR ??= '/tmp';
  // If the caller did not choose a Vulkan driver and there is no GPU, point the loader at SwiftShader
  // before Dawn starts (the env var is read when the Vulkan loader initialises).
  if (!env.VK_ICD_FILENAMES && !env.DPO_NO_SWIFTSHADER_FALLBACK) {
    const fs = await import('node:fs');
    // A GPU shows up as a DRM render node or an NVIDIA device file; without one, Mesa's ICDs find nothing.
    const hasGpu =
      (fs.existsSync('/dev/dri') && fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'))) ||
      fs.existsSync('/dev/nvidia0');
    if (!hasGpu && fs.existsSync(SWIFTSHADER_ICD)) {
      env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      if (!fs.existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1')) {
        env.LD_LIBRARY_PATH = `/usr/lib/chromium:${env.LD_LIBRARY_PATH ?? ''}`;
      }
    }
  }
  const mod = (await import(/* @vite-ignore */ 'webgpu')) as unknown as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, mod.globals);
  nodeGpu ??= mod.create(['backend=vulkan']);
  (globalThis as Record<string, unknown>).__dpoKeepGpu = nodeGpu;
  return nodeGpu.requestAdapter({ powerPreference });
}

export interface DeviceOptions {
  /** Ask for larger storage bindings than WebGPU's default 128 MiB (the engine never needs it). */
  maxStorageBufferBindingSize?: number;
  powerPreference?: GPUPowerPreference;
}

export async function acquireDevice(opts: DeviceOptions = {}): Promise<DeviceInfo> {
  const powerPreference = opts.powerPreference ?? 'high-performance';
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  let adapter: GPUAdapter | null = null;
  if (nav?.gpu) {
    adapter = await nav.gpu.requestAdapter({ powerPreference });
  } else if (typeof (globalThis as { process?: unknown }).process !== 'undefined') {
    adapter = await nodeAdapter(powerPreference);
  }
  if (!adapter) {
    throw new GpuUnavailableError(
      'No WebGPU adapter was found. Use a browser with WebGPU enabled (Chrome or Edge 113+, Safari 26+, Firefox 141+ on Windows) and a GPU driver that supports it.',
    );
  }
  const features: GPUFeatureName[] = [];
  for (const f of ['timestamp-query', 'subgroups', 'shader-f16'] as GPUFeatureName[]) {
    if (adapter.features.has(f)) features.push(f);
  }
  const al = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxBufferSize: Math.min(al.maxBufferSize, 1 << 30),
    maxStorageBuffersPerShaderStage: Math.min(al.maxStorageBuffersPerShaderStage, 10),
    maxComputeWorkgroupStorageSize: al.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: Math.min(al.maxComputeInvocationsPerWorkgroup, 256),
  };
  if (opts.maxStorageBufferBindingSize) {
    requiredLimits.maxStorageBufferBindingSize = Math.min(al.maxStorageBufferBindingSize, opts.maxStorageBufferBindingSize);
  }
  const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  const info: DeviceInfo = {
    device,
    adapterName: [adapter.info?.vendor, adapter.info?.architecture, adapter.info?.device, adapter.info?.description]
      .filter(Boolean)
      .join(' ') || 'unknown adapter',
    features: new Set(features),
    limits: {
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
      maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    },
    lost: null,
    whenLost: Promise.resolve(),
    errors: [],
  };
  // Errors outside an error scope (src/gpu/context.ts opens one per step) land here; the next readback
  // turns them into a GpuFaultError, so a step never reports metrics computed from invalid work.
  device.addEventListener('uncapturederror', (ev) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    const message = err?.message ?? String(ev);
    info.errors.push({ kind: err ? errorKind(err) : 'internal', message });
    console.error(`WebGPU error: ${message}`);
  });
  info.whenLost = device.lost.then((l) => {
    info.lost = { reason: l.reason ?? 'unknown', message: l.message ?? '' };
  });
  return info;
}
