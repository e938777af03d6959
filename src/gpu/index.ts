export { GpuDevice, type AcquireOptions, type AdapterDescription, type GpuFeatures } from './device';
export { Tensor, readBuffer, tensorBytes, elementCount, type DType, type TensorData } from './tensor';
export { CommandRecorder, type Binding } from './recorder';
export { GpuTimer } from './timer';
export { PipelineCache, type PipelineSpec } from './pipelines';
export { preprocessWgsl, type ShaderDefines } from './shader';
export { defineKernel, read, readWrite, KernelContract, type KernelDeclaration, type UniformType, type WgslType } from './kernel-contract';
export * from './f16';
