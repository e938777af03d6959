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


function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new InputError(`StreamVLM.load: ${name} must be a positive integer, not ${String(value)}`);
}

/**
 * Checks the options on the page (so a typo fails before a worker starts and a model downloads)
 * and fills in the SDK's defaults.
 */
export function checkOptions(options: StreamVLMOptions): Required<Omit<StreamVLMOptions, 'onProgress'>> {
  const o = { kvBits: 4 as KvStoreBits, fps: 1, windowFrames: 16, topK: 8, maxAnswerTokens: 128, precision: 'auto' as const, weightFormat: 'f16' as WeightFormat, cache: true, timestamps: 'auto' as TimestampMode, frameResize: 'video' as const, queueCapacity: 4, memoryRamMB: 1024, persistStorage: true, windowBackup: true, ...stripUndefined(options) };
  if (!KV_STORE_BITS.includes(o.kvBits)) throw new InputError(`StreamVLM.load: kvBits must be 8, 4, 2 or 'none', not ${String(o.kvBits)}`);
  if (!(typeof o.fps === 'number' && o.fps > 0 && o.fps <= 60)) throw new InputError(`StreamVLM.load: fps must be a number in (0, 60], not ${String(o.fps)}`);
  positiveInteger('windowFrames', o.windowFrames);
  positiveInteger('topK', o.topK);
  positiveInteger('maxAnswerTokens', o.maxAnswerTokens);
  positiveInteger('queueCapacity', o.queueCapacity);
  if (!(typeof o.memoryRamMB === 'number' && o.memoryRamMB >= 0)) throw new InputError(`StreamVLM.load: memoryRamMB must be a number ≥ 0 (Infinity: no limit), not ${String(o.memoryRamMB)}`);
  if (!['auto', 'f16', 'f32'].includes(o.precision)) throw new InputError(`StreamVLM.load: precision must be 'auto', 'f16' or 'f32', not ${String(o.precision)}`);
  if (!WEIGHT_FORMATS.includes(o.weightFormat)) throw new InputError(`StreamVLM.load: weightFormat must be one of ${WEIGHT_FORMATS.join(', ')}, not ${String(o.weightFormat)}`);
  if (!['auto', 'frames'].includes(o.timestamps)) throw new InputError(`StreamVLM.load: timestamps must be 'auto' or 'frames', not ${String(o.timestamps)}`);
  if (!['video', 'image'].includes(o.frameResize)) throw new InputError(`StreamVLM.load: frameResize must be 'video' or 'image', not ${String(o.frameResize)}`);
  return o;
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
