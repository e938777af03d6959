import { MAX_FRAME_SIDE, checkFrame } from '../engine/frame-check';
import { InputError } from '../errors';
import type { RgbImage } from '../model/preprocess';

/**
 * The frame types the worker takes. VideoFrame (camera tracks through MediaStreamTrackProcessor,
 * WebCodecs decoders) and ImageBitmap are transferred by the caller, held while they wait in the
 * queue and closed here once converted or dropped; ImageData and RgbImage are copied.
 */
export type WorkerFrame = VideoFrame | ImageBitmap | ImageData | RgbImage;

type Kind = 'VideoFrame' | 'ImageBitmap' | 'ImageData' | 'RgbImage';

const isA = <T>(ctor: string, x: unknown): x is T => {
  const c = (globalThis as Record<string, unknown>)[ctor];
  return typeof c === 'function' && x instanceof (c as new () => unknown);
};

function kindOf(frame: unknown): Kind | null {
  if (isA<VideoFrame>('VideoFrame', frame)) return 'VideoFrame';
  if (isA<ImageBitmap>('ImageBitmap', frame)) return 'ImageBitmap';
  if (isA<ImageData>('ImageData', frame)) return 'ImageData';
  if (frame && typeof frame === 'object' && 'width' in frame && 'height' in frame && 'data' in frame) return 'RgbImage';
  return null;
}

/** Frees what a frame holds (VideoFrames pin camera or decoder buffers). Safe to call twice. */
export function releaseFrame(frame: unknown): void {
  if (isA<VideoFrame>('VideoFrame', frame) || isA<ImageBitmap>('ImageBitmap', frame)) frame.close();
}

/**
 * Checks a pushed frame at once (before it waits in the queue): a known type, not closed, a
 * positive size within MAX_FRAME_SIDE. Throws InputError and releases the frame otherwise.
 */
export function checkWorkerFrame(frame: unknown): asserts frame is WorkerFrame {
  const kind = kindOf(frame);
  try {
    if (!kind) throw new InputError('pushFrame: the frame must be a VideoFrame, ImageBitmap, ImageData or {width, height, data} RGB/RGBA image');
    if (kind === 'RgbImage') {
      checkFrame(frame as RgbImage);
      return;
    }
    const f = frame as VideoFrame | ImageBitmap | ImageData;
    const rect = kind === 'VideoFrame' ? (f as VideoFrame).visibleRect : (f as ImageBitmap | ImageData);
    const [w, h] = [rect?.width ?? 0, rect?.height ?? 0];
    // a closed VideoFrame reports a null format and no visible rect; a closed ImageBitmap is 0×0
    if (kind === 'VideoFrame' && (f as VideoFrame).visibleRect === null) throw new InputError('pushFrame: the VideoFrame is closed (was it transferred with comlink.transfer, or closed by the caller?)');
    if (!(w >= 1 && h >= 1)) throw new InputError(`pushFrame: the ${kind} is ${w}×${h}; a frame needs pixels${kind === 'ImageBitmap' ? ' (a closed ImageBitmap is 0×0)' : ''}`);
    if (w > MAX_FRAME_SIDE || h > MAX_FRAME_SIDE) throw new InputError(`pushFrame: a ${w}×${h} frame exceeds ${MAX_FRAME_SIDE} px a side; downscale it first`);
  } catch (e) {
    releaseFrame(frame);
    throw e;
  }
}

/** Canvas route: what every browser can do with an ImageBitmap (and with a VideoFrame through one). */
function bitmapPixels(bitmap: ImageBitmap): RgbImage {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new InputError('pushFrame: no 2D canvas in this context to read the frame’s pixels');
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return { width: bitmap.width, height: bitmap.height, data, channels: 4 };
}

/**
 * A VideoFrame's visible pixels as RGBA. `copyTo({format: 'RGBA'})` converts any pixel format
 * Chromium decodes or captures (I420, NV12, RGBA, BGRA…) on the CPU without a canvas; where that is
 * refused (older browsers, GPU-backed frames without a mappable format) the frame goes through
 * createImageBitmap and a canvas.
 */
async function videoFramePixels(frame: VideoFrame): Promise<RgbImage> {
  const { width, height } = frame.visibleRect!;
  if (frame.format !== null) {
    try {
      const data = new Uint8Array(width * height * 4);
      await frame.copyTo(data, { format: 'RGBA', colorSpace: 'srgb' } as VideoFrameCopyToOptions);
      return { width, height, data, channels: 4 };
    } catch {
      // fall through to the canvas route
    }
  }
  const bitmap = await createImageBitmap(frame, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  try {
    return bitmapPixels(bitmap);
  } finally {
    bitmap.close();
  }
}

/** Converts a checked frame to the engine's RgbImage and releases it (VideoFrame/ImageBitmap closed). */
export async function toRgbImage(frame: WorkerFrame): Promise<RgbImage> {
  try {
    switch (kindOf(frame)) {
      case 'VideoFrame':
        return await videoFramePixels(frame as VideoFrame);
      case 'ImageBitmap':
        return bitmapPixels(frame as ImageBitmap);
      case 'ImageData': {
        const d = frame as ImageData;
        return { width: d.width, height: d.height, data: d.data, channels: 4 };
      }
      case 'RgbImage':
        return frame as RgbImage;
      default:
        throw new InputError('pushFrame: unknown frame type');
    }
  } finally {
    releaseFrame(frame);
  }
}
