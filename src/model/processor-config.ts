import { ModelLoadError } from '../errors';
import { LIMITS } from '../limits';
import type { SmolVlmConfig } from './config';
import { parseJsonObject } from './json-file';

/**
 * SmolVLM processor settings, read from either layout the hub / transformers write:
 *
 * - transformers 4 (what the hub serves): a flat `preprocessor_config.json` with the image
 *   processor's keys at top level (`do_image_splitting`, `size`, `max_image_size`, `resample`,
 *   `rescale_factor`, `image_mean`, `image_std`, `video_sampling`, ...) and, separately, a small
 *   `processor_config.json` holding `image_seq_len` (and sometimes `chat_template`).
 * - transformers 5: one nested `processor_config.json`
 *   (`{ image_processor: {...}, video_processor: {...}, image_seq_len, chat_template? }`).
 *
 * Missing keys take SmolVLMImageProcessor's class defaults, except `image_seq_len`, which falls
 * back to the value config.json implies (the class default 169 is wrong for every SmolVLM2). A
 * folder with no image processor settings at all is refused (the class defaults fit no SmolVLM2).
 */

/** Rescale and normalization, shared by the image and the video processor. */
export interface PixelNormalization {
  rescaleFactor: number;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
}

export interface ImageProcessorSettings extends PixelNormalization {
  doConvertRgb: boolean;
  doResize: boolean;
  doImageSplitting: boolean;
  doRescale: boolean;
  doNormalize: boolean;
  doPad: boolean;
  /** size.longest_edge: stage-1 resize target (2048 on the hub). */
  longestEdge: number;
  /** max_image_size.longest_edge: tile side (512 on the hub). */
  maxImageSize: number;
  /** PIL resample code (1 = LANCZOS). */
  resample: number;
}

export interface VideoProcessorSettings extends PixelNormalization {
  /** Target sampling rate, frames per second (video_sampling.fps). */
  fps: number;
  /** Most frames sampled (video_sampling.max_frames / num_frames). */
  maxFrames: number;
  /**
   * First per-frame resize: longest edge. transformers overwrites video_sampling.video_size with
   * the config's `size` when both are present (flat hub layout ⇒ 2048, spec §5).
   */
  longestEdge: number;
  /** Frames are then squashed to exactly maxImageSize × maxImageSize. */
  maxImageSize: number;
  resample: number;
}

export interface ProcessorSettings {
  image: ImageProcessorSettings;
  video: VideoProcessorSettings;
  /** `<image>` tokens per tile. */
  imageSeqLen: number;
  /** A chat template stored in processor_config.json, if any. */
  chatTemplate?: string;
  /** Which layout the settings came from. */
  layout: 'transformers4' | 'transformers5';
}

export interface ProcessorFiles {
  /** Text of processor_config.json (transformers 5 nested, or transformers 4's small one), if present. */
  processorConfig?: string;
  /** Text of preprocessor_config.json (transformers 4 flat), if present. */
  preprocessorConfig?: string;
}

type Json = Record<string, unknown>;

const PROCESSOR = 'processor_config.json';
const PREPROCESSOR = 'preprocessor_config.json';

function sub(file: string, obj: Json, key: string, where: string): Json | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ModelLoadError(file, `${where}${key} must be an object, got ${JSON.stringify(v)}`);
  return v as Json;
}

function bool(file: string, obj: Json, key: string, fallback: boolean, where: string): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new ModelLoadError(file, `${where}${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function num(file: string, obj: Json, key: string, fallback: number, where: string): number {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelLoadError(file, `${where}${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/** A positive integer up to `max`: these sizes drive resizes, tile grids and frame loops, so absurd ones stop here. */
function posInt(file: string, what: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new ModelLoadError(file, `${what} must be a positive integer, got ${v}`);
  if (v > max) throw new ModelLoadError(file, `${what} is ${v}, more than the ${max} this runtime accepts`);
  return v;
}

function triple(file: string, obj: Json, key: string, fallback: [number, number, number], where: string): [number, number, number] {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number' && Number.isFinite(v)) return [v, v, v];
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new ModelLoadError(file, `${where}${key} must be a list of 3 numbers, got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1], v[2]];
}

/** `{longest_edge: n}` (or a plain number); other size forms (height/width) are not SmolVLM's. */
function longestEdge(file: string, obj: Json, key: string, fallback: number, where: string): number {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return posInt(file, `${where}${key}`, v, LIMITS.resizeEdge);
  if (typeof v !== 'object' || Array.isArray(v) || typeof (v as Json).longest_edge !== 'number') {
    throw new ModelLoadError(file, `${where}${key} must be {"longest_edge": n}, got ${JSON.stringify(v)}`);
  }
  return posInt(file, `${where}${key}.longest_edge`, (v as Json).longest_edge as number, LIMITS.resizeEdge);
}

// SmolVLMImageProcessor class defaults (transformers); the hub files override all of them.
const DEFAULT_LONGEST_EDGE = 4 * 364;
const DEFAULT_MAX_IMAGE_SIZE = 364;
const HALF: [number, number, number] = [0.5, 0.5, 0.5];

/** PIL's resample codes are 0–5; the factor and deviations divide pixels, so they must be usable. */
function checkPixelMath<T extends PixelNormalization & { resample: number }>(file: string, s: T, where: string): T {
  if (!Number.isInteger(s.resample) || s.resample < 0 || s.resample > 5) throw new ModelLoadError(file, `${where}resample must be a PIL resample code 0–5, got ${s.resample}`);
  if (!(s.rescaleFactor > 0)) throw new ModelLoadError(file, `${where}rescale_factor must be positive, got ${s.rescaleFactor}`);
  if (!s.imageStd.every((x) => x !== 0)) throw new ModelLoadError(file, `${where}image_std must not be 0`);
  return s;
}

function imageSettings(file: string, p: Json, where: string): ImageProcessorSettings {
  return checkPixelMath(file, {
    doConvertRgb: bool(file, p, 'do_convert_rgb', true, where),
    doResize: bool(file, p, 'do_resize', true, where),
    doImageSplitting: bool(file, p, 'do_image_splitting', true, where),
    doRescale: bool(file, p, 'do_rescale', true, where),
    doNormalize: bool(file, p, 'do_normalize', true, where),
    doPad: bool(file, p, 'do_pad', true, where),
    longestEdge: longestEdge(file, p, 'size', DEFAULT_LONGEST_EDGE, where),
    maxImageSize: longestEdge(file, p, 'max_image_size', DEFAULT_MAX_IMAGE_SIZE, where),
    resample: num(file, p, 'resample', 1, where),
    rescaleFactor: num(file, p, 'rescale_factor', 1 / 255, where),
    imageMean: triple(file, p, 'image_mean', HALF, where),
    imageStd: triple(file, p, 'image_std', HALF, where),
  }, where);
}

/**
 * Video settings. `v` is the video processor's own dict (nested layout) or the flat image
 * processor dict (flat layout: transformers builds the video processor from it, so a top-level
 * `size` overrides `video_sampling.video_size`).
 */
function videoSettings(file: string, v: Json, image: ImageProcessorSettings, where: string): VideoProcessorSettings {
  const sampling = sub(file, v, 'video_sampling', where) ?? {};
  const sw = `${where}video_sampling.`;
  const fps = num(file, sampling, 'fps', num(file, v, 'fps', 1, where), sw);
  if (!(fps > 0)) throw new ModelLoadError(file, `${sw}fps must be positive, got ${fps}`);
  if (fps > LIMITS.fps) throw new ModelLoadError(file, `${sw}fps is ${fps}, more than the ${LIMITS.fps} this runtime accepts`);
  const maxFrames = posInt(file, `${sw}max_frames`, num(file, sampling, 'max_frames', num(file, v, 'num_frames', 64, where), sw), LIMITS.videoFrames);
  const sizeFromSampling = longestEdge(file, sampling, 'video_size', image.maxImageSize, sw);
  return checkPixelMath(file, {
    fps,
    maxFrames,
    longestEdge: v.size !== undefined && v.size !== null ? longestEdge(file, v, 'size', 0, where) : sizeFromSampling,
    maxImageSize: longestEdge(file, v, 'max_image_size', image.maxImageSize, where),
    resample: num(file, v, 'resample', image.resample, where),
    rescaleFactor: num(file, v, 'rescale_factor', image.rescaleFactor, where),
    imageMean: triple(file, v, 'image_mean', image.imageMean, where),
    imageStd: triple(file, v, 'image_std', image.imageStd, where),
  }, where);
}

function chatTemplateOf(file: string, obj: Json): string | undefined {
  const t = obj.chat_template;
  if (t === undefined || t === null) return undefined;
  if (typeof t !== 'string') throw new ModelLoadError(file, `chat_template must be a string, got ${typeof t}`);
  return t;
}

/**
 * Reads the processor settings. Pass whichever of the two files the model folder has (the image
 * processor settings must be in one of them), and the parsed config.json to derive image_seq_len
 * when no file states it. A stated image_seq_len that disagrees with config.json is an error:
 * the model emits exactly config.imageSeqLen features per tile.
 */
export function parseProcessorConfig(files: ProcessorFiles, config?: SmolVlmConfig): ProcessorSettings {
  const nested = files.processorConfig !== undefined ? (parseJsonObject(PROCESSOR, files.processorConfig) as Json) : undefined;
  const flat = files.preprocessorConfig !== undefined ? (parseJsonObject(PREPROCESSOR, files.preprocessorConfig) as Json) : undefined;

  let image: ImageProcessorSettings;
  let video: VideoProcessorSettings;
  let layout: ProcessorSettings['layout'];
  const nestedImage = nested ? sub(PROCESSOR, nested, 'image_processor', '') : undefined;
  if (nested && nestedImage) {
    image = imageSettings(PROCESSOR, nestedImage, 'image_processor.');
    const nestedVideo = sub(PROCESSOR, nested, 'video_processor', '');
    video = nestedVideo ? videoSettings(PROCESSOR, nestedVideo, image, 'video_processor.') : videoSettings(PROCESSOR, nestedImage, image, 'image_processor.');
    layout = 'transformers5';
  } else if (flat) {
    image = imageSettings(PREPROCESSOR, flat, '');
    video = videoSettings(PREPROCESSOR, flat, image, '');
    layout = 'transformers4';
  } else {
    // The class defaults (1456 / 364 px) fit no SmolVLM2 checkpoint: refuse rather than guess.
    throw new ModelLoadError(PREPROCESSOR, nested
      ? 'missing, and processor_config.json has no image_processor section'
      : 'missing (and no processor_config.json): the image processor settings are needed');
  }

  let imageSeqLen: number | undefined;
  let seqFile = PROCESSOR;
  if (nested && nested.image_seq_len !== undefined && nested.image_seq_len !== null) {
    imageSeqLen = posInt(PROCESSOR, 'image_seq_len', num(PROCESSOR, nested, 'image_seq_len', 0, ''), LIMITS.imageSeqLen);
  } else if (flat && flat.image_seq_len !== undefined && flat.image_seq_len !== null) {
    seqFile = PREPROCESSOR;
    imageSeqLen = posInt(PREPROCESSOR, 'image_seq_len', num(PREPROCESSOR, flat, 'image_seq_len', 0, ''), LIMITS.imageSeqLen);
  }
  if (imageSeqLen === undefined) {
    if (!config) throw new ModelLoadError(PROCESSOR, 'no image_seq_len, and no config.json to derive it from');
    imageSeqLen = config.imageSeqLen;
  } else if (config && imageSeqLen !== config.imageSeqLen) {
    throw new ModelLoadError(seqFile, `image_seq_len ${imageSeqLen} disagrees with config.json, which implies ${config.imageSeqLen} tokens per tile`);
  }
  if (image.maxImageSize > LIMITS.imageSize || video.maxImageSize > LIMITS.imageSize) {
    throw new ModelLoadError(layout === 'transformers4' ? PREPROCESSOR : PROCESSOR, `max_image_size.longest_edge is more than the ${LIMITS.imageSize} this runtime accepts`);
  }
  if (config && image.maxImageSize !== config.vision.imageSize) {
    const file = layout === 'transformers4' ? PREPROCESSOR : PROCESSOR;
    throw new ModelLoadError(file, `max_image_size.longest_edge ${image.maxImageSize} differs from the vision encoder's image_size ${config.vision.imageSize}`);
  }

  const chatTemplate = (nested ? chatTemplateOf(PROCESSOR, nested) : undefined) ?? (flat ? chatTemplateOf(PREPROCESSOR, flat) : undefined);
  return { image, video, imageSeqLen, layout, ...(chatTemplate !== undefined ? { chatTemplate } : {}) };
}
