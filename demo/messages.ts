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

/** What the user was doing when it failed: the advice depends on it. */
export type Situation = 'load' | 'camera' | 'file' | 'clip' | 'engine' | 'question';

/** What to do about bad input, by what the user was doing (the SDK's InputError has no advice of its own). */
const INPUT_ADVICE: Record<Situation, string> = {
  load: 'Fix the setting named above in the page address (?fps=, ?kvBits=, ?window=…) or remove it, then press Load model.',
  camera: 'Try another camera, or open a video file instead.',
  file: 'Pick another video file, one this browser can play.',
  clip: 'Pick another seed and press Play again.',
  engine: 'Press Play or start the camera again; what was already seen is kept.',
  question: 'Change the question and ask again.',
};

/**
 * A model that did not load, told apart by cause: the server unreachable (not the model's fault),
 * nothing at that address, a web page where the files should be, or access refused.
 */
function modelLoadMessage(error: StreamVlmError): { message: string; advice: string } {
  const m = error.message;
  if (/network error|could not be fetched|broke off/.test(m)) {
    return {
      message: `The model's server could not be reached: ${m}`,
      advice: 'Check the internet connection (or that the server hosting the model is running), then press Load model again. A model loaded once before also loads offline, from the browser cache.',
    };
  }
  if (/HTML page/.test(m)) return { message: m, advice: 'Serve the model folder as plain static files (a missing file must answer 404, not the site\'s page), or pick another model.' };
  if (/HTTP 40[13]\b/.test(m)) return { message: `The server refused access to the model: ${m}`, advice: 'Check the model URL or hub id; private models cannot be loaded from this page.' };
  if (/config\.json/.test(m)) return { message: `No model at that address: ${m}`, advice: 'Check the model URL or hub id (owner/name): the folder must hold config.json and the model\'s other files.' };
  return { message: m, advice: error.advice };
}

/** Any thrown value → a message for people; the SDK's typed errors carry their own advice, refined here by cause. */
export function describeError(error: unknown, context: string, situation: Situation): UserMessage {
  if (error instanceof StreamVlmError) {
    const title = TITLES[error.code] ?? context;
    if (error.code === 'MODEL_LOAD') return { code: error.code, title, ...modelLoadMessage(error) };
    if (error.code === 'INPUT') {
      if (/no frame has been seen yet/.test(error.message)) {
        return { code: error.code, title: 'Nothing to answer about yet', message: 'The model has not seen any video yet.', advice: 'Start the camera, open a video file or play a needle clip, then ask.' };
      }
      // the engine's "ingest: …" prefix is API wording
      const message = error.message.replace(/^ingest: /, 'A video frame could not be used: ');
      return { code: error.code, title: context, message, advice: error.advice || INPUT_ADVICE[situation] };
    }
    return { code: error.code, title, message: error.message, advice: error.advice || 'Try again.' };
  }
  const e = error as { name?: string; message?: string } | null;
  return { code: 'ERROR', title: context, message: `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`, advice: 'Try again; if it happens again, the browser console has the details.' };
}
