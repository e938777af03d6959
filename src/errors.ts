/**
 * Typed errors shared by every layer. A leaf module (imports nothing) so that the GPU core,
 * the model loader and the engine can all throw the same family of errors, and callers can
 * branch on `code` without string matching.
 */
export type ErrorCode =
  | 'GPU_UNAVAILABLE'
  | 'DEVICE_LOST'
  | 'GPU_LIMIT'
  | 'INPUT'
  | 'MODEL_LOAD'
  | 'UNSUPPORTED_MODEL'
  | 'GPU_OUT_OF_MEMORY'
  | 'CAMERA_DENIED'
  | 'CAMERA_NOT_FOUND'
  | 'CAMERA_UNAVAILABLE'
  | 'QUOTA_EXCEEDED';

export class StreamVlmError extends Error {
  /**
   * The class's name as a string, so that `error.name` and the worker boundary (which rebuilds
   * errors by name) do not depend on class names surviving an app's minifier.
   */
  static readonly errorName: string = 'StreamVlmError';
  /** What the user can do about it, in one sentence. */
  readonly advice: string;
  constructor(readonly code: ErrorCode, message: string, advice = '', options?: { cause?: unknown }) {
    super(message, options);
    this.name = (new.target as typeof StreamVlmError).errorName;
    this.advice = advice;
  }
}

/** WebGPU is missing, no adapter was found, or the device could not be created. */
export class GpuUnavailableError extends StreamVlmError {
  static override readonly errorName = 'GpuUnavailableError';
  constructor(message: string, advice: string, options?: { cause?: unknown }) {
    super('GPU_UNAVAILABLE', message, advice, options);
  }
}

/**
 * The GPU device was lost (driver reset, tab backgrounded for long, out of memory, destroy()). The
 * SDK's engine recovers by itself (a new device, the weights from the download cache, the memory
 * untouched); a call that was running on the lost device fails with this error and can be retried.
 */
export class DeviceLostError extends StreamVlmError {
  static override readonly errorName = 'DeviceLostError';
  constructor(
    readonly reason: string,
    message: string,
    advice = 'Ask again: the engine reloads the model on a new GPU device by itself and keeps its memory.',
  ) {
    super('DEVICE_LOST', `GPU device lost (${reason}): ${message}`, advice);
  }
}

/**
 * The browser's storage quota is full (a saved memory or the K/V spill could not be written). The
 * stream goes on; the previous save stays readable.
 */
export class QuotaError extends StreamVlmError {
  static override readonly errorName = 'QuotaError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('QUOTA_EXCEEDED', message, "Free space (deleteMemory of old saves, or the site's data in the browser's settings), then save again.", options);
  }
}

/** A tensor or dispatch would exceed a limit of this adapter. */
export class GpuLimitError extends StreamVlmError {
  static override readonly errorName = 'GpuLimitError';
  constructor(message: string) {
    super('GPU_LIMIT', message, 'Use a smaller model or input; this GPU cannot bind a buffer that large.');
  }
}

/** The caller passed something the API cannot use (bad shape, dtype, size, option). */
export class InputError extends StreamVlmError {
  static override readonly errorName = 'InputError';
  constructor(message: string) {
    super('INPUT', message);
  }
}

/** A model file is missing, truncated, malformed or inconsistent with its config. Names the file. */
export class ModelLoadError extends StreamVlmError {
  static override readonly errorName = 'ModelLoadError';
  constructor(readonly file: string, problem: string, options?: { cause?: unknown }) {
    super('MODEL_LOAD', `${file}: ${problem}`, 'Check the model URL or folder; files must be the unmodified Hugging Face ones.', options);
  }
}

/** The files are fine but describe a model this runtime does not run. */
export class UnsupportedModelError extends StreamVlmError {
  static override readonly errorName = 'UnsupportedModelError';
  constructor(message: string) {
    super('UNSUPPORTED_MODEL', message, 'Use a SmolVLM / SmolVLM2 (Idefics3 family) model.');
  }
}

/** The GPU ran out of memory (a buffer could not be allocated), typically while the weights upload. */
export class GpuOutOfMemoryError extends StreamVlmError {
  static override readonly errorName = 'GpuOutOfMemoryError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(
      'GPU_OUT_OF_MEMORY',
      message,
      "Use the smaller model (SmolVLM2-256M), f16 or q8 weights (weightFormat), fewer window frames, or close other GPU-heavy tabs.",
      options,
    );
  }
}

export type CameraErrorCode = 'CAMERA_DENIED' | 'CAMERA_NOT_FOUND' | 'CAMERA_UNAVAILABLE';

const CAMERA_ADVICE: Record<CameraErrorCode, string> = {
  CAMERA_DENIED: "Allow camera access for this site (the camera icon in the address bar), then try again.",
  CAMERA_NOT_FOUND: 'Connect a camera, or attach a <video> element or another MediaStream instead.',
  CAMERA_UNAVAILABLE: 'Close other apps or tabs using the camera, and serve the page over https:// or localhost.',
};

/** The camera could not be opened: permission denied, no camera, or in use / not allowed here. */
export class CameraError extends StreamVlmError {
  static override readonly errorName = 'CameraError';
  constructor(code: CameraErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, CAMERA_ADVICE[code], options);
  }
}
