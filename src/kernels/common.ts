import prelude from '../../shaders/prelude.wgsl?raw';
import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import type { BindingDecls, BindingValues, ConstantDecls, KernelContract, OverrideValues, UniformDecls, UniformValues } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
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

/**
 * Whether kernels may use subgroup operations (the SUBGROUPS define, and `enable subgroups;` in the
 * prelude) where the device has the `subgroups` feature (GpuDevice.acquire requests it when offered).
 * OFF: no kernel has a subgroup path yet, and a subgroup reduction would add partial sums in a
 * different order than the workgroup-memory trees the CPU references and the transformers parity
 * were measured with, so f32 rounding — and so possibly a greedy token — could change. Turning it on
 * is this one switch (kernels then branch on `#if SUBGROUPS`), after the parity specs agree.
 */
export const SUBGROUP_REDUCTIONS = false;

/** Which variant of a kernel to run. */
export interface KernelCall<D extends string, O extends ConstantDecls = Record<never, number>> {
  precision: Precision;
  /** The kernel's declared defines to switch on for this call (every other one is off). */
  variant?: Readonly<Partial<Record<D, boolean>>>;
  entryPoint?: string;
  /** The kernel's declared `override` constants to set (the others keep their declared defaults). */
  overrides?: OverrideValues<O>;
}

/**
 * Looks up (or compiles) a kernel's pipeline: the shared prelude, the header generated from its
 * contract for this variant, then its shader body. The defines are the precision switch F16, the
 * SUBGROUPS switch and the kernel's declared variant switches — an undeclared one is an error.
 */
export function kernelPipeline<U extends UniformDecls, B extends BindingDecls, C extends ConstantDecls, D extends string, O extends ConstantDecls>(
  gpu: GpuDevice,
  kernel: KernelContract<U, B, C, D, O>,
  call: KernelCall<D, O>,
): GPUComputePipeline {
  // found by the call's own key after the first time: building the defines, header and sorted
  // cache key on every dispatch cost more host time than recording the dispatch (model-host.js)
  const key = callKey(call);
  return gpu.pipelines.found(kernel, key) ?? gpu.pipelines.remember(kernel, key, pipelineSpec(gpu, kernel, call));
}

/** A call's key, in the order its caller wrote the variant and overrides (no sorting). */
function callKey(call: KernelCall<string, ConstantDecls>): string {
  let key: string = call.precision;
  if (call.entryPoint) key += `@${call.entryPoint}`;
  const variant = call.variant as Record<string, boolean | undefined> | undefined;
  if (variant) for (const name in variant) key += variant[name] ? `|${name}` : `|!${name}`;
  const overrides = call.overrides as Record<string, number | undefined> | undefined;
  if (overrides) for (const name in overrides) key += `|${name}=${overrides[name]}`;
  return key;
}

function pipelineSpec<U extends UniformDecls, B extends BindingDecls, C extends ConstantDecls, D extends string, O extends ConstantDecls>(
  gpu: GpuDevice,
  kernel: KernelContract<U, B, C, D, O>,
  call: KernelCall<D, O>,
): PipelineSpec {
  checkPrecision(gpu, call.precision);
  const defines: Record<string, boolean> = { F16: call.precision === 'f16', SUBGROUPS: SUBGROUP_REDUCTIONS && gpu.features.subgroups };
  for (const name of kernel.defines) defines[name] = false;
  for (const [name, on] of Object.entries(call.variant ?? {})) {
    if (!(kernel.defines as readonly string[]).includes(name)) throw new Error(`kernel ${kernel.name}: ${name} is not one of its declared defines (${kernel.defines.join(', ') || 'none'})`);
    defines[name] = on === true;
  }
  return {
    name: kernel.name,
    sources: [prelude, kernel.header(defines), ...kernel.declaration.body],
    defines,
    overrides: kernel.overrideValues(call.overrides),
    entryPoint: call.entryPoint,
  };
}

/** Records one dispatch of a kernel: its pipeline for `call`, uniforms and bindings by name. */
export function dispatchKernel<U extends UniformDecls, B extends BindingDecls, C extends ConstantDecls, D extends string, O extends ConstantDecls>(
  rec: CommandRecorder,
  kernel: KernelContract<U, B, C, D, O>,
  call: KernelCall<D, O>,
  uniforms: UniformValues<U>,
  bindings: BindingValues<B>,
  workgroups: readonly [number, number?, number?],
): void {
  const pipeline = kernelPipeline(rec.gpu, kernel, call);
  rec.dispatch(pipeline, kernel.uniformBlock(uniforms), kernel.storage(bindings), workgroups);
}

/**
 * A workgroup sized to its work: the smallest power of two that is at least `needed`, and at least
 * `min`, at most `max` (both powers of two). Idle threads of a larger workgroup would only wait at
 * its barriers, which a CPU adapter (SwiftShader) pays per thread.
 */
export function threadsFor(needed: number, min: number, max: number): number {
  let threads = min;
  while (threads < needed && threads < max) threads *= 2;
  return threads;
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
