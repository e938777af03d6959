import { DeviceLostError, GpuUnavailableError } from '../errors';
import { forgetBuffer } from './bind-groups';
import { PipelineCache } from './pipelines';
import { UniformArena } from './uniforms';

/** Optional features this runtime uses when the adapter offers them. */
export interface GpuFeatures {
  /** `shader-f16`: f16 arithmetic in shaders (f16 math variants). */
  f16: boolean;
  /** `subgroups`: subgroup reductions (reductions fall back to workgroup memory without it). */
  subgroups: boolean;
  /** `timestamp-query`: GPU-side timing of compute passes. */
  timestamps: boolean;
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface AcquireOptions {
  /** The WebGPU entry point. Defaults to `navigator.gpu`; in Node pass `create()` from `webgpu`. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Ignore `shader-f16` even when present (forces the f32-math path). */
  disableF16?: boolean;
}

/** Limits we ask for at their adapter maximum: large weights and long KV caches need them. */
const RAISED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

function gpuEntryPoint(explicit?: GPU): GPU {
  if (explicit) return explicit;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const insecure = typeof globalThis.isSecureContext === 'boolean' && !globalThis.isSecureContext;
  throw new GpuUnavailableError(
    insecure ? 'WebGPU is not available: this page is not a secure context.' : 'WebGPU is not available in this browser.',
    insecure
      ? 'Serve the page over https:// or from http://localhost.'
      : 'Use a recent Chrome or Edge (113+), or Safari 26+/Firefox 141+ with WebGPU enabled; on Linux start Chrome with --enable-unsafe-webgpu.',
  );
}

/**
 * A WebGPU device with the features and limits this runtime needs, plus an event for device loss.
 * DOM-free: works in a page, a worker and Node (Dawn).
 */
export class GpuDevice extends EventTarget {
  private lostError: DeviceLostError | null = null;
  private readonly arenas: UniformArena[] = [];
  /** Compiled pipelines of this device, keyed by kernel, variant and override constants. */
  readonly pipelines: PipelineCache;

  private constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    readonly features: GpuFeatures,
  ) {
    super();
    this.pipelines = new PipelineCache(device);
    device.lost.then((info) => {
      this.lostError = new DeviceLostError(info.reason ?? 'unknown', info.message || 'no message');
      // the lost device's bind groups can never be used again
      for (const buffer of this.live) forgetBuffer(buffer);
      this.dispatchEvent(new CustomEvent('lost', { detail: this.lostError }));
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Non-null once the device is lost; every later GPU call should refuse with it. */
  get lost(): DeviceLostError | null {
    return this.lostError;
  }

  /** How waits for GPU work are spent; null: a plain await (see paceWaits). */
  private pacing: (<T>(pending: Promise<T>) => Promise<T>) | null = null;

  /**
   * Awaits GPU work (a buffer map, onSubmittedWorkDone): every such wait of the runtime goes through
   * here, so a platform can pace it (src/platform/node/cpu-adapter-pacing.ts).
   */
  waitFor<T>(pending: Promise<T>): Promise<T> {
    return this.pacing ? this.pacing(pending) : pending;
  }

  /** Resolves when the work submitted to the queue so far is done. */
  workDone(): Promise<void> {
    return this.waitFor(this.device.queue.onSubmittedWorkDone());
  }

  /** Installs how waits for GPU work are spent (waitFor); the platform decides, once, after acquiring. */
  paceWaits(pacing: <T>(pending: Promise<T>) => Promise<T>): void {
    this.pacing = pacing;
  }

  /** Calls `listener` once with the reason when the device is lost. */
  onLost(listener: (error: DeviceLostError) => void): void {
    this.addEventListener('lost', (e) => listener((e as CustomEvent<DeviceLostError>).detail), { once: true });
  }

  private readonly live = new Set<GPUBuffer>();
  private liveBytes = 0;

  /** Bytes of the tensors created on this device and not yet destroyed (GPU memory in use by tensors). */
  get tensorBytes(): number {
    return this.liveBytes;
  }

  /** Tensor buffers created on this device and not yet destroyed (a leak shows as a count that keeps growing). */
  get tensorBuffers(): number {
    return this.live.size;
  }

  /** Counts a buffer in `tensorBytes` (Tensor does this; views of one buffer are counted once). */
  trackAllocation(buffer: GPUBuffer): void {
    if (this.live.has(buffer)) return;
    this.live.add(buffer);
    this.liveBytes += buffer.size;
  }

  trackRelease(buffer: GPUBuffer): void {
    forgetBuffer(buffer);
    if (!this.live.delete(buffer)) return;
    this.liveBytes -= buffer.size;
  }

  /** A uniform arena for one recorder; returned after its submit (arenas are reused, not freed). */
  acquireUniformArena(): UniformArena {
    return this.arenas.pop() ?? new UniformArena(this.device);
  }

  releaseUniformArena(arena: UniformArena): void {
    this.arenas.push(arena);
  }

  destroy(): void {
    this.device.destroy();
  }

  static async acquire(options: AcquireOptions = {}): Promise<GpuDevice> {
    const gpu = gpuEntryPoint(options.gpu);
    let adapter: GPUAdapter | null = null;
    try {
      adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
    } catch (cause) {
      throw new GpuUnavailableError('requestAdapter() failed.', 'Check that the GPU driver works, or enable WebGPU.', { cause });
    }
    if (!adapter) {
      throw new GpuUnavailableError(
        'No WebGPU adapter was found.',
        'The GPU may be blocklisted: try chrome://gpu, update drivers, or start Chrome with --enable-unsafe-webgpu.',
      );
    }
    const wanted: GPUFeatureName[] = [];
    const has = (name: string) => adapter!.features.has(name);
    if (has('shader-f16') && !options.disableF16) wanted.push('shader-f16');
    if (has('subgroups')) wanted.push('subgroups' as GPUFeatureName);
    if (has('timestamp-query')) wanted.push('timestamp-query');
    const requiredLimits: Record<string, number> = {};
    for (const name of RAISED_LIMITS) {
      const value = (adapter.limits as unknown as Record<string, number>)[name];
      if (typeof value === 'number') requiredLimits[name] = value;
    }
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ requiredFeatures: wanted, requiredLimits });
    } catch (cause) {
      throw new GpuUnavailableError('requestDevice() failed.', 'Close other GPU-heavy tabs and retry.', { cause });
    }
    const info = adapter.info ?? ({} as GPUAdapterInfo);
    const description: AdapterDescription = {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
    };
    return new GpuDevice(device, description, {
      f16: device.features.has('shader-f16'),
      subgroups: device.features.has('subgroups'),
      timestamps: device.features.has('timestamp-query'),
    });
  }
}
