import type { OfferResult, SchedulerStats } from '../engine/scheduler';
import type { EngineStats, StreamEngineOptions } from '../engine/types';
import type { AdapterDescription } from '../gpu/device';
import type { StoreMeta } from '../memory/store';
import type { ModelLoadOptions } from '../families/family';
import type { RecoveryStats } from '../engine/recovery';

export type { OfferResult };

/** What the page and the engine worker say to each other (types only; both sides import them). */

export interface WorkerLoadOptions {
  /** The engine's settings (window, KV bits, top-k, …). */
  engine?: StreamEngineOptions;
  /** Weight storage and activation precision (default: settings' MODEL_LOAD_DEFAULTS; the SDK fills in its own). */
  model?: Omit<ModelLoadOptions, 'onProgress'>;
  /** Frames per second taken from the pushed frames (default SDK_DEFAULTS.fps). */
  fps?: number;
  /** Frames that may wait while the engine is busy (default SDK_DEFAULTS.queueCapacity); the oldest is dropped beyond it. */
  queueCapacity?: number;
  /** Keep the model files in the browser's Cache Storage (default SDK_DEFAULTS.cache). */
  cache?: boolean;
  /** Ranking worker threads: 'auto' (default) or a count, 0 for none (StreamVLMOptions.rankingThreads). */
  rankingThreads?: 'auto' | number;
  /**
   * Test hook (never set unless a test asks): the model loads, counted from 0 (the first load,
   * then each try after a lost device: a retry of the start or a recovery's reload), whose GPU
   * device the worker destroys when their first weights go to it, as a driver reset would.
   */
  loseDeviceDuringLoadsForTesting?: number[];
}

export interface WorkerLoadInfo {
  adapter: AdapterDescription;
  precision: 'f32' | 'f16';
  meta: StoreMeta;
  /** The engine settings in force (defaults filled in). */
  engine: Required<StreamEngineOptions>;
}

export interface WorkerStats {
  /** Frames offered, taken, ingested, dropped (and why), queue depth, questions waiting. */
  frames: SchedulerStats;
  /** Window and store sizes in frames and bytes, GPU bytes, time per stage; null before load. */
  engine: EngineStats | null;
  /** While the GPU device is lost and not yet replaced: why. Null while a device runs the stream. */
  deviceLost: string | null;
  /** Device losses and recoveries (null before load). */
  recovery: RecoveryStats | null;
  /**
   * Why stored frames are ranked in plain JavaScript instead of WebAssembly SIMD (engine.ranking
   * says which runs): typically a Content-Security-Policy without 'wasm-unsafe-eval'. Null: SIMD.
   */
  rankingFallback: string | null;
}

export interface OpenMemoryReport {
  /** Frames restored into the memory store. */
  frames: number;
  /** The stream's clock after restoring: new frames must come later than this. */
  lastTimestampMs: number | null;
}
