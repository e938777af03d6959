import { InputError } from '../errors';
import type { RgbImage } from '../model/preprocess';

/** Largest frame side accepted (larger frames are a caller error: downscale before pushing). */
export const MAX_FRAME_SIDE = 8192;

/** Throws InputError unless `frame` is a well-formed RGB/RGBA image of a sane size. */
export function checkFrame(frame: RgbImage): void {
  if (!frame || typeof frame !== 'object') throw new InputError('ingest: the frame must be an image {width, height, data}');
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new InputError(`ingest: frame size ${width}×${height} is not a positive whole size`);
  if (width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE) throw new InputError(`ingest: a ${width}×${height} frame exceeds ${MAX_FRAME_SIDE} px a side; downscale it first`);
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) throw new InputError('ingest: frame data must be a Uint8Array or Uint8ClampedArray of RGB or RGBA bytes');
  const channels = frame.channels ?? (data.length === width * height * 4 ? 4 : 3);
  if ((channels !== 3 && channels !== 4) || data.length !== width * height * channels) {
    throw new InputError(`ingest: ${data.length} bytes do not make a ${width}×${height} RGB or RGBA frame`);
  }
}
