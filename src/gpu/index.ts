export { GpuDevice, type AcquireOptions, type AdapterDescription, type GpuFeatures } from './device';
export { Tensor, readBuffer, tensorBytes, elementCount, type DType, type TensorData } from './tensor';
export { CommandRecorder, type Binding } from './recorder';
export { GpuTimer } from './timer';
export { PipelineCache, type PipelineSpec } from './pipelines';
export { preprocessWgsl, type ShaderDefines } from './shader';
export { UniformWriter } from './uniforms';
export * from './f16';
