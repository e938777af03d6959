import { InputError } from '../errors';
import { WEIGHT_FORMATS, type WeightFormat } from '../kernels/weights';
import { KV_STORE_BITS, type KvStoreBits } from '../memory/frame-block';
import type { LoadProgress } from '../model/progress';
import type { WorkerLoadOptions } from '../worker/protocol';

/** How captured frames are stamped (see StreamVLMOptions.timestamps). */
export type TimestampMode = 'auto' | 'frames';

export interface StreamVLMOptions {
  /** Download / upload progress in bytes, then 'done' (LoadProgress). */
  onProgress?: (progress: LoadProgress) => void;
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
  const bad = (key: keyof StreamVLMOptions, rule: string) => new InputError(`${label(key)} must be ${rule}, not ${String(o[key])}`);
  const wholeAtLeast = (key: 'windowFrames' | 'topK' | 'maxAnswerTokens' | 'queueCapacity', min: number) => {
    const v = o[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw bad(key, min === 1 ? 'a positive integer' : `a whole number ≥ ${min}`);
  };
  if (o.kvBits !== undefined && !KV_STORE_BITS.includes(o.kvBits)) throw bad('kvBits', "8, 4, 2 or 'none'");
  if (o.fps !== undefined && !(typeof o.fps === 'number' && o.fps > 0 && o.fps <= 60)) throw bad('fps', 'a number in (0, 60]');
  wholeAtLeast('windowFrames', 1);
  // 0: answer from the window alone (no recall from memory)
  wholeAtLeast('topK', 0);
  wholeAtLeast('maxAnswerTokens', 1);
  wholeAtLeast('queueCapacity', 1);
  if (o.memoryRamMB !== undefined && !(typeof o.memoryRamMB === 'number' && o.memoryRamMB >= 0)) throw bad('memoryRamMB', 'a number ≥ 0 (Infinity: no limit)');
  if (o.precision !== undefined && !['auto', 'f16', 'f32'].includes(o.precision)) throw bad('precision', "'auto', 'f16' or 'f32'");
  if (o.weightFormat !== undefined && !WEIGHT_FORMATS.includes(o.weightFormat)) throw bad('weightFormat', `one of ${WEIGHT_FORMATS.join(', ')}`);
  if (o.timestamps !== undefined && !['auto', 'frames'].includes(o.timestamps)) throw bad('timestamps', "'auto' or 'frames'");
  if (o.frameResize !== undefined && !['video', 'image'].includes(o.frameResize)) throw bad('frameResize', "'video' or 'image'");
}

/**
 * Checks the options on the page (so a typo fails before a worker starts and a model downloads)
 * and fills in the SDK's defaults.
 */
export function checkOptions(options: StreamVLMOptions): Required<Omit<StreamVLMOptions, 'onProgress'>> {
  checkOptionValues(options);
  return { kvBits: 4 as KvStoreBits, fps: 1, windowFrames: 16, topK: 8, maxAnswerTokens: 128, precision: 'auto' as const, weightFormat: 'f16' as WeightFormat, cache: true, timestamps: 'auto' as TimestampMode, frameResize: 'video' as const, queueCapacity: 4, memoryRamMB: 1024, persistStorage: true, windowBackup: true, ...stripUndefined(options) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The worker's load options for checked SDK options and the precision chosen for this adapter. */
export function workerLoadOptions(o: ReturnType<typeof checkOptions>, precision: 'f16' | 'f32'): WorkerLoadOptions {
  return {
    engine: { windowFrames: o.windowFrames, kvBits: o.kvBits, topK: o.topK, maxAnswerTokens: o.maxAnswerTokens, frameResize: o.frameResize, ramBudgetBytes: o.memoryRamMB * 2 ** 20, windowBackup: o.windowBackup },
    model: { weightFormat: o.weightFormat, precision },
    fps: o.fps,
    queueCapacity: o.queueCapacity,
    cache: o.cache,
  };
}
