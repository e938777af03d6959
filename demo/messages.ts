import { StreamVlmError } from '../src/index';

/** What the page says about a failure: a title naming what went wrong, the detail, and what to do. */
export interface UserMessage {
  /** The error's code (or 'ERROR'); the page exposes it as data-code for tests and styling. */
  code: string;
  title: string;
  message: string;
  advice: string;
}

const TITLES: Record<string, string> = {
  GPU_UNAVAILABLE: 'WebGPU is not available',
  GPU_OUT_OF_MEMORY: 'The GPU ran out of memory',
  DEVICE_LOST: 'The GPU stopped responding',
  GPU_LIMIT: 'Too large for this GPU',
  MODEL_LOAD: 'The model could not be loaded',
  UNSUPPORTED_MODEL: 'This model is not supported',
  CAMERA_DENIED: 'No access to the camera',
  CAMERA_NOT_FOUND: 'No camera found',
  CAMERA_UNAVAILABLE: 'The camera could not be opened',
  INPUT: 'That did not work',
  QUOTA_EXCEEDED: "The browser's storage is full",
};

/** The advice when the page finds no `navigator.gpu` before anything is loaded. */
export const NO_WEBGPU: UserMessage = {
  code: 'GPU_UNAVAILABLE',
  title: TITLES.GPU_UNAVAILABLE,
  message: 'This browser does not offer WebGPU (navigator.gpu is missing), and the model runs on it.',
  advice: 'Use a recent Chrome or Edge (113 or later), or Safari 26 / Firefox 141 or later with WebGPU enabled; on Linux, start Chrome with --enable-unsafe-webgpu. Keep hardware acceleration on and open the page over https:// or localhost.',
};

/** Any thrown value → a message; the SDK's typed errors carry their own advice. */
export function describeError(error: unknown, context: string): UserMessage {
  if (error instanceof StreamVlmError) {
    const title = TITLES[error.code] ?? context;
    const message = error.code === 'MODEL_LOAD' && /config\.json/.test(error.message) ? `No model at that address: ${error.message}` : error.message;
    return { code: error.code, title, message, advice: error.advice || 'Reload the page and try again.' };
  }
  const e = error as { name?: string; message?: string } | null;
  return { code: 'ERROR', title: context, message: `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`, advice: 'Reload the page and try again; if it happens again, the browser console has the details.' };
}
