export { StreamVLM, type StreamVLMInfo, type StreamVLMStats, type StreamVLMEventMap, type AttachOptions } from './stream-vlm';
export type { StoragePersistence } from '../platform/browser/storage-persistence';
export type { DeviceEvent, RecoveryStats } from '../engine/recovery';
export type { StreamVLMOptions, TimestampMode } from './options';
export type { CaptureStats } from './capture-core';
export { resolveModelUrl, HUB_URL } from './model-url';
export { isOutOfMemory, classifyOutOfMemory, withOutOfMemoryScope } from '../gpu/out-of-memory';
