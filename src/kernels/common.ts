import prelude from '../../shaders/prelude.wgsl?raw';
import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import type { PipelineSpec } from '../gpu/pipelines';
import type { Tensor } from '../gpu/tensor';

/**
 * Math precision of a kernel call. `f16` stores activations as f16 and multiplies in f16 (needs
 * `shader-f16`); accumulations, norms and softmax stay in f32 either way.
 */
export type Precision = 'f32' | 'f16';

/** The activation dtype a precision uses. */
export function actDType(precision: Precision): 'f32' | 'f16' {
  return precision;
}

export function checkPrecision(gpu: GpuDevice, precision: Precision): void {
  if (precision === 'f16' && !gpu.features.f16) {
    throw new InputError('f16 math needs the shader-f16 feature, which this GPU adapter does not offer; use f32.');
  }
}

/** Looks up (or compiles) a kernel's pipeline with the shared prelude and the precision switch. */
export function pipeline(
  gpu: GpuDevice,
  spec: { name: string; source: string | readonly string[]; precision: Precision; defines?: Record<string, boolean>; overrides?: Record<string, number>; entryPoint?: string },
): GPUComputePipeline {
  checkPrecision(gpu, spec.precision);
  const full: PipelineSpec = {
    name: spec.name,
    sources: [prelude, ...(typeof spec.source === 'string' ? [spec.source] : spec.source)],
    defines: { F16: spec.precision === 'f16', SUBGROUPS: false, ...spec.defines },
    overrides: spec.overrides,
    entryPoint: spec.entryPoint,
  };
  return gpu.pipelines.get(full);
}

/** Splits a 1-D workgroup count over x and y to respect maxComputeWorkgroupsPerDimension. */
export function grid(gpu: GpuDevice, workgroups: number): [number, number] {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups <= max) return [workgroups, 1];
  const y = Math.ceil(workgroups / max);
  return [Math.ceil(workgroups / y), y];
}

export function expectDType(t: Tensor, dtype: string, what: string): void {
  if (t.dtype !== dtype) throw new InputError(`${what}: expected a ${dtype} tensor, got ${t.dtype}`);
}

export function expectSize(t: Tensor, size: number, what: string): void {
  if (t.size < size) throw new InputError(`${what}: needs ${size} elements, tensor has ${t.size}`);
}
