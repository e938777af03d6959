import type { WeightFormat } from '../kernels/weights';
import type { KvStoreBits } from '../memory/frame-block';
import { checkSetting, definedOnly, SDK_DEFAULTS } from '../settings/index';
import type { LoadProgress } from '../model/progress';
import type { WorkerLoadOptions } from '../worker/protocol';
import type { DeviceEvent } from '../engine/recovery';
import { InputError } from '../errors';

/** How captured frames are stamped (see StreamVLMOptions.timestamps). */
export type TimestampMode = 'auto' | 'frames';

export interface StreamVLMOptions {
  /** Download / upload progress in bytes, then 'done' (LoadProgress). */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * The device events of the load itself, before the StreamVLM exists to dispatch them: a GPU
   * device lost while the weights upload ('devicelost'; the load starts again on a new device, the
   * files already downloaded from the cache), then 'recovered' once a new device holds the model.
   * After load() the StreamVLM dispatches its device events as DOM events instead.
   */
  onDeviceEvent?: (event: DeviceEvent) => void;
  /**
   * Test hook, not a setting (tests and bench/device-loss-browser use it): the model loads, counted
   * from 0 (the first, then each try after a lost device), whose GPUDevice is destroyed as their
   * first weights upload, as a driver reset would. Unset, nothing is destroyed.
   * @internal
   */
  loseDeviceDuringLoadsForTesting?: number[];
  /** Bits per value of the frames kept in memory beyond the window: 8, 4, 2, or 'none' (raw). Default 4. */
  kvBits?: KvStoreBits;
  /** Frames per second taken from the video (attach) or from pushed frames. Default 1. */
  fps?: number;
  /** Recent frames kept at full precision on the GPU. Default 16. */
  windowFrames?: number;
  /** Frames recalled from memory per question. Default 8. */
  topK?: number;
  /** Longest answer in tokens. Default 128. */
  maxAnswerTokens?: number;
  /** Activation precision: 'auto' (default) is f16 where the adapter has shader-f16, else f32. */
  precision?: 'auto' | 'f16' | 'f32';
  /** How the weights are stored on the GPU. Default 'f16' (half the memory of f32). */
  weightFormat?: WeightFormat;
  /** Keep the model files in the browser's Cache Storage. Default true. */
  cache?: boolean;
  /**
   * Capture timestamps: 'auto' (default) uses the media time for a video file and the time since
   * attach for a live stream; 'frames' stamps sample i with i·1000/fps (deterministic, for tests).
   */
  timestamps?: TimestampMode;
  /** Frame resize: 'video' (default, SmolVLM2's video processor) or 'image' (the image processor's, unsplit). */
  frameResize?: 'video' | 'image';
  /** Frames that may wait while the engine is busy before the oldest is dropped. Default 4. */
  queueCapacity?: number;
  /**
   * Megabytes of remembered frames' K/V kept in RAM; older frames' K/V move to the browser's
   * private disk (OPFS) and are read back only when a question recalls them. Default 1024 (about
   * 28 minutes of 256M at 4 bits, 1 frame/s); Infinity keeps everything in RAM.
   */
  memoryRamMB?: number;
  /**
   * Ask the browser to keep this origin's storage (saved memories, the model cache) under storage
   * pressure (navigator.storage.persist()); its answer is stats().storage and a 'storage' event. Default true.
   */
  persistStorage?: boolean;
  /**
   * Keep a RAM copy of the recent window's K/V (one frame's worth per window frame) so that a lost
   * GPU device loses no frame: the window is rebuilt from it on the new device. Off: the window's
   * frames at the moment of a loss are lost (counted in stats().engine.framesLostToDeviceLoss).
   * Default true.
   */
  windowBackup?: boolean;
  /**
   * Worker threads that rank remembered frames for a question, each keeping a share of their
   * retrieval keys: ranking reads every stored frame, so on a long stream this is most of the time
   * to the first token that grows with the stream, divided among the threads (same answers).
   * 'auto' (default): half the logical cores, at most 8 (none below 4 cores); 0: rank in the engine's worker.
   */
  rankingThreads?: 'auto' | number;
}


/**
 * How an option is named in a refusal: the SDK says `StreamVLM.load: fps`, the CLI `--fps`. One set
 * of checks serves both, so `streamvlm` and `StreamVLM.load` accept exactly the same values.
 */
export type OptionLabel = (key: keyof StreamVLMOptions) => string;

const sdkLabel: OptionLabel = (key) => `StreamVLM.load: ${key}`;

/**
 * Checks the options that are set (undefined ones are left to the defaults); InputError naming the
 * first bad one by `label`.
 */
export function checkOptionValues(o: StreamVLMOptions, label: OptionLabel = sdkLabel): void {
  const names = ['kvBits', 'fps', 'windowFrames', 'topK', 'maxAnswerTokens', 'queueCapacity', 'memoryRamMB', 'precision', 'weightFormat', 'timestamps', 'frameResize', 'rankingThreads'] as const;
  for (const name of names) checkSetting(name, o[name], label(name));
}

/**
 * Checks the options on the page (so a typo fails before a worker starts and a model downloads)
 * and fills in the SDK's defaults.
 */
export function checkOptions(options: StreamVLMOptions): Required<Omit<StreamVLMOptions, 'onProgress' | 'onDeviceEvent' | 'loseDeviceDuringLoadsForTesting'>> {
  checkOptionValues(options);
  checkTestHook(options.loseDeviceDuringLoadsForTesting);
  return { ...SDK_DEFAULTS, ...definedOnly(options) };
}

/** The device-loss test hook: a list of load numbers (whole, 0…63), or unset. */
function checkTestHook(loads: unknown): void {
  if (loads === undefined) return;
  if (!Array.isArray(loads) || !loads.every((n) => Number.isInteger(n) && n >= 0 && n < 64)) {
    throw new InputError('StreamVLM.load: loseDeviceDuringLoadsForTesting must be a list of load numbers (whole numbers 0…63)');
  }
}

/** The worker's load options for checked SDK options and the precision chosen for this adapter. */
export function workerLoadOptions(o: ReturnType<typeof checkOptions>, precision: 'f16' | 'f32', loseDeviceDuringLoadsForTesting?: number[]): WorkerLoadOptions {
  return {
    ...(loseDeviceDuringLoadsForTesting?.length ? { loseDeviceDuringLoadsForTesting } : {}),
    engine: { windowFrames: o.windowFrames, kvBits: o.kvBits, topK: o.topK, maxAnswerTokens: o.maxAnswerTokens, frameResize: o.frameResize, ramBudgetBytes: o.memoryRamMB * 2 ** 20, windowBackup: o.windowBackup },
    model: { weightFormat: o.weightFormat, precision },
    fps: o.fps,
    queueCapacity: o.queueCapacity,
    cache: o.cache,
    rankingThreads: o.rankingThreads,
  };
}
