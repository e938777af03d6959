import type { WeightFormat } from '../kernels/weights';
import type { KvStoreBits } from '../memory/frame-block';
import { DEFAULT_RETRIEVAL, type RetrievalPolicyName } from '../memory/retrieval/registry';

/**
 * Every setting's default, written once. The surfaces differ on purpose in a few, each said here:
 * the engine alone (tests, benchmarks) keeps everything in RAM and backs nothing up; the SDK, which
 * runs for hours in a tab and recovers from device loss, bounds RAM and backs the window up; the CLI
 * answers shortly and in exact-parity math (f32) unless told otherwise.
 */
export const ENGINE_DEFAULTS = {
  windowFrames: 16,
  kvBits: 4 as KvStoreBits,
  /** '' = the codec kvBits names (memory/codecs/registry.ts); the engine resolves it to an id. */
  kvCodec: '',
  topK: 8,
  maxQuestionTokens: 256,
  maxAnswerTokens: 128,
  frameResize: 'video' as 'video' | 'image',
  thumbnailEdge: 96,
  ramBudgetBytes: Infinity,
  retrievalLayer: 0,
  retrieval: DEFAULT_RETRIEVAL as RetrievalPolicyName,
  answerContext: 'reprefill' as 'reprefill' | 'restore',
  windowBackup: false,
};

/** SmolVlm.load's (and any family's load): f16 weight storage (half of f32's memory), f32 math (exact parity). */
export const MODEL_LOAD_DEFAULTS = {
  weightFormat: 'f16' as WeightFormat,
  precision: 'f32' as 'f16' | 'f32',
};

/** StreamVLM.load's (and the worker's, which gets them filled in from the page). */
export const SDK_DEFAULTS = {
  kvBits: ENGINE_DEFAULTS.kvBits,
  fps: 1,
  windowFrames: ENGINE_DEFAULTS.windowFrames,
  topK: ENGINE_DEFAULTS.topK,
  maxAnswerTokens: ENGINE_DEFAULTS.maxAnswerTokens,
  /** f16 math where the adapter has shader-f16 (resolvePrecision). */
  precision: 'auto' as 'auto' | 'f16' | 'f32',
  weightFormat: MODEL_LOAD_DEFAULTS.weightFormat,
  cache: true,
  timestamps: 'auto' as 'auto' | 'frames',
  frameResize: ENGINE_DEFAULTS.frameResize,
  queueCapacity: 4,
  /** About 28 minutes of 256M at 4 bits, 1 frame/s; beyond it, OPFS. */
  memoryRamMB: 1024,
  persistStorage: true,
  /** The worker recovers from device loss: the window's RAM copy lets it lose no frame. */
  windowBackup: true,
  /** Ranking worker threads: 'auto' is half the logical cores, at most 8 (worker/ranking-workers.ts). */
  rankingThreads: 'auto' as 'auto' | number,
};

/** The CLI's (`generate`, `watch`, `ask`). */
export const CLI_DEFAULTS = {
  fps: SDK_DEFAULTS.fps,
  /** A command-line answer is short. */
  maxAnswerTokens: 64,
  weightFormat: MODEL_LOAD_DEFAULTS.weightFormat,
  /** The exact-parity setting; --precision auto takes f16 where the adapter has it. */
  precision: 'f32' as 'auto' | 'f16' | 'f32',
};

/** The options that are set: spread over a surface's defaults, an explicit undefined leaves the default. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
