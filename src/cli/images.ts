import { readFile } from 'node:fs/promises';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { InputError } from '../errors';
import type { RgbImage } from '../model/preprocess';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/**
 * PNG or JPEG bytes → interleaved RGBA. The format is told by the magic bytes, not the file
 * name. Both decoders give straight (unpremultiplied) 8-bit values without colour management,
 * as Pillow's convert("RGB") sees them; 16-bit PNGs are scaled to 8 bits by pngjs.
 */
export function decodeImage(bytes: Uint8Array, name: string): RgbImage {
  try {
    if (startsWith(bytes, PNG_MAGIC)) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), channels: 4 };
    }
    if (startsWith(bytes, JPEG_MAGIC)) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { width: img.width, height: img.height, data: img.data, channels: 4 };
    }
  } catch (cause) {
    throw new InputError(`${name}: not a readable PNG or JPEG (${(cause as Error).message})`);
  }
  throw new InputError(`${name}: not a PNG or JPEG file`);
}

export async function readImageFile(path: string): Promise<RgbImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new InputError(`${path}: cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const image = decodeImage(bytes, path);
  if (image.width === 0 || image.height === 0) throw new InputError(`${path}: image has no pixels`);
  return image;
}
