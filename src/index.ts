/// <reference types="@webgpu/types" preserve="true" />
// (the public types name GPUDevice and friends: a consumer type-checking its dependencies needs them)
/**
 * streamvlm — the browser SDK entry: `StreamVLM` (a model in a worker watching a camera or video,
 * remembering it and answering questions), the worker client under it, saved memories, and the
 * lower layers for direct use: the GPU core and the SmolVLM model. The kernel self-check (and the
 * CPU references it compares against) is a separate entry, `streamvlm/selfcheck`, so the SDK bundle
 * does not carry it.
 */
export { GpuDevice, type AcquireOptions, type AdapterDescription, type GpuFeatures } from './gpu/device';
export { Tensor, type DType } from './gpu/tensor';
export { CommandRecorder } from './gpu/recorder';
export { GpuTimer } from './gpu/timer';
export type { Precision } from './kernels/common';
export { SmolVlm } from './families/smolvlm/smolvlm';
export { loadModel, familyFor } from './families/registry';
export type { ModelFamily, VisionLanguageModel, ModelLoadOptions, KvShape, StreamLayout, FrameEncoder, GenerateRequest, GenerateResult, VideoInput } from './families/family';
export { UrlSource, type ModelSource } from './model/source';
export type { FileReadOptions } from './model/source';
export { CachedUrlSource, clearModelCache, cachedModelFiles, MODEL_CACHE_NAME } from './platform/browser/cached-source';
export type { LoadProgress, LoadPhase, LoadProgressCallback } from './model/progress';
export type { SmolVlmLoadOptions } from './families/smolvlm/smolvlm';
export * from './errors';
export { EngineWorkerClient } from './worker/client';
export type { WorkerLoadOptions, WorkerLoadInfo, WorkerStats, OpenMemoryReport } from './worker/protocol';
export type { WorkerFrame } from './worker/frames';
export { Scheduler, type SchedulableEngine, type SchedulerOptions, type SchedulerStats, type OfferResult } from './engine/scheduler';
export type { FrameBlock, FrameBlockInfo, FrameBlockMeta, LazyFrameBlock, KvStoreBits, Thumbnail } from './memory/frame-block';
export { MemoryFileError, MEMORY_FORMAT_VERSION, type SaveReport, type SavedMemory, type PersistOptions } from './memory/persist';
export { saveMemory, openMemory, listMemories, deleteMemory } from './platform/browser/saved-memories';
export { StreamVLM, type StreamVLMInfo, type StreamVLMStats, type StreamVLMEventMap, type StoragePersistence, type DeviceEvent, type RecoveryStats, type AttachOptions, type StreamVLMOptions, type TimestampMode, type CaptureStats, resolveModelUrl, HUB_URL } from './sdk/index';
export type { AskEvent, AskOptions, AskTiming, Moment, FrameSummary, StreamEngineOptions, EngineStats } from './engine/types';
export { RecoverableStream, type StreamFactory } from './engine/recoverable-stream';
export type { EngineState } from './engine/engine-state';
