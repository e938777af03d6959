import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { InputError } from '../errors';
import { LIMITS } from '../limits';
import { readInputFile } from '../platform/node/files';
import { checkPngInflate, jpegHeader, pngHeader, type ImageHeader } from './image-header';
import type { RgbImage } from '../model/preprocess';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/**
 * PNG or JPEG bytes → interleaved RGBA. The format is told by the magic bytes, not the file
 * name. Both decoders give straight (unpremultiplied) 8-bit values without colour management,
 * as Pillow's convert("RGB") sees them; 16-bit PNGs are scaled to 8 bits by pngjs. The dimensions
 * are read from the header and bounded (LIMITS.imageSide, LIMITS.imagePixels) before decoding.
 */
export function decodeImage(bytes: Uint8Array, name: string): RgbImage {
  const png = startsWith(bytes, PNG_MAGIC);
  if (!png && !startsWith(bytes, JPEG_MAGIC)) throw new InputError(`${name}: not a PNG or JPEG file`);
  const header = png ? pngHeader(bytes, name) : jpegHeader(bytes, name);
  if (png && header.interlaced) checkPngInflate(bytes, header, name);
  let image: RgbImage;
  try {
    if (png) {
      const decoded = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      image = { width: decoded.width, height: decoded.height, data: new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength), channels: 4 };
    } else {
      // jpeg-js's own bounds as well: a later SOF could claim more than the first one did
      const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: LIMITS.imagePixels / 1e6, maxMemoryUsageInMB: 512 });
      image = { width: decoded.width, height: decoded.height, data: decoded.data, channels: 4 };
    }
  } catch (cause) {
    throw new InputError(`${name}: not a readable PNG or JPEG (${(cause as Error)?.message ?? String(cause)})`);
  }
  checkDecoded(image, header, name);
  return image;
}

/** What the decoder returned must be the image the header announced, with every pixel there. */
function checkDecoded(image: RgbImage, header: ImageHeader, name: string): void {
  if (image.width !== header.width || image.height !== header.height) {
    throw new InputError(`${name}: decoded ${image.width} × ${image.height} pixels, its header says ${header.width} × ${header.height}`);
  }
  if (image.data.length !== image.width * image.height * 4) throw new InputError(`${name}: the decoder returned ${image.data.length} bytes for ${image.width} × ${image.height} RGBA pixels`);
}

export async function readImageFile(path: string): Promise<RgbImage> {
  // the file's size before its bytes: a huge file is refused without being read into memory
  const bytes = await readInputFile(path, { bytes: LIMITS.imageFileBytes, what: 'an image file' });
  const image = decodeImage(bytes, path);
  if (image.width === 0 || image.height === 0) throw new InputError(`${path}: image has no pixels`);
  return image;
}
