/**
 * streamvlm — the browser SDK entry. For now it exposes the GPU core and the kernel self-check;
 * the model, streaming memory and `StreamVLM` API build on these.
 */
export { GpuDevice, type AcquireOptions, type AdapterDescription, type GpuFeatures } from './gpu/device';
export { Tensor, type DType } from './gpu/tensor';
export { CommandRecorder } from './gpu/recorder';
export { GpuTimer } from './gpu/timer';
export type { Precision } from './kernels/common';
export { checks, runChecks, precisionsOf, type CheckReport, type KernelCheck } from './selfcheck/index';
export * from './errors';
