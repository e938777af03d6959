import { inflateSync } from 'node:zlib';
import { InputError } from '../errors';
import { LIMITS } from '../limits';

/**
 * An image's dimensions read from its header (PNG IHDR, JPEG SOFn) before any pixel is decoded, so a
 * tiny file that claims 100 000 × 100 000 pixels is refused at once instead of making the decoder
 * allocate gigabytes. The decoders' own results are checked against these afterwards.
 */
export interface ImageHeader {
  format: 'png' | 'jpeg';
  width: number;
  height: number;
  /** PNG only: Adam7 interlacing (pngjs inflates those without an output bound; see checkPngInflate). */
  interlaced?: boolean;
}

const fail = (name: string, problem: string): never => {
  throw new InputError(`${name}: ${problem}`);
};

/** A header that is not well formed: the same words the decoders' own failures get. */
const unreadable = (name: string, problem: string): never => fail(name, `not a readable PNG or JPEG (${problem})`);

/** Refuses dimensions of zero or above LIMITS.imageSide / LIMITS.imagePixels, naming the file and field. */
export function checkImageSize(name: string, field: string, width: number, height: number): void {
  if (width === 0 || height === 0) fail(name, `${field} says ${width} × ${height}: the image has no pixels`);
  if (width > LIMITS.imageSide || height > LIMITS.imageSide || width * height > LIMITS.imagePixels) {
    fail(name, `${field} says ${width} × ${height} pixels, more than the ${LIMITS.imageSide} per side and ${LIMITS.imagePixels / 1e6} MP this runtime decodes`);
  }
}

/** PNG: the IHDR chunk must come first (PNG spec §5.6); width and height are its first 8 bytes. */
export function pngHeader(bytes: Uint8Array, name: string): ImageHeader {
  if (bytes.length < 33) unreadable(name, `PNG of ${bytes.length} bytes is too short for its IHDR chunk`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]);
  if (type !== 'IHDR' || v.getUint32(8) !== 13) unreadable(name, 'PNG does not start with a 13-byte IHDR chunk');
  const width = v.getUint32(16);
  const height = v.getUint32(20);
  checkImageSize(name, 'PNG IHDR', width, height);
  return { format: 'png', width, height, interlaced: bytes[28] === 1 };
}

/**
 * JPEG: walks the marker segments to the first start-of-frame (SOF0–SOF15 but DHT C4, JPG C8, DAC
 * CC), whose payload is precision, height, width. Image data before it (SOS) means no frame header.
 */
export function jpegHeader(bytes: Uint8Array, name: string): ImageHeader {
  let at = 2;
  // every segment moves `at` forward by ≥ 2, so this loop ends within the file
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) unreadable(name, `JPEG marker expected at byte ${at}`);
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // standalone markers carry no length
      continue;
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2) unreadable(name, `JPEG segment at byte ${at} has length ${length}`);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 9 > bytes.length) unreadable(name, 'JPEG frame header (SOF) is truncated');
      const height = (bytes[at + 5] << 8) | bytes[at + 6];
      const width = (bytes[at + 7] << 8) | bytes[at + 8];
      checkImageSize(name, 'JPEG SOF', width, height);
      return { format: 'jpeg', width, height };
    }
    if (marker === 0xda || marker === 0xd9) break;
    at += 2 + length;
  }
  return unreadable(name, 'JPEG has no frame header (SOF) before its image data');
}

/**
 * pngjs inflates an interlaced PNG's IDAT with no bound on the output (its non-interlaced path has
 * one), so a few kilobytes of zeros can inflate to gigabytes. Inflate it here first, bounded by the
 * most bytes an Adam7 image of this size can need (each of its 7 passes: rows × (1 + row bytes)).
 */
export function checkPngInflate(bytes: Uint8Array, header: ImageHeader, name: string): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = v.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (at + 12 + length > bytes.length) break; // pngjs reports the truncation itself
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  // 8 bytes per pixel is the deepest PNG (16-bit RGBA); each pass row adds a filter byte
  const bound = 8 * header.width * header.height + 7 * (header.height + 1) * 2 + 64;
  try {
    inflateSync(Buffer.concat(idat), { maxOutputLength: bound });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') fail(name, `PNG image data inflates past the ${bound} bytes its ${header.width} × ${header.height} pixels can need`);
    // other inflate errors: pngjs says what is wrong in its own words
  }
}
