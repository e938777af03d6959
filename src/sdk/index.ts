export { StreamVLM, type StreamVLMInfo, type StreamVLMStats, type AttachOptions } from './stream-vlm';
export type { StreamVLMOptions, TimestampMode } from './options';
export type { CaptureStats } from './capture-core';
export { resolveModelUrl, HUB_URL } from './model-url';
export { isOutOfMemory, classifyOutOfMemory, withOutOfMemoryScope } from '../gpu/out-of-memory';
