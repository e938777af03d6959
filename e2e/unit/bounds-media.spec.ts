import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import * as jpeg from 'jpeg-js';
import { decodeImage } from '../../src/cli/images';
import { parseY4m } from '../../src/cli/y4m';
import { InputError } from '../../src/errors';
import { crc32 } from '../../src/memory/persist';
import { expectBoundedRefusal } from '../support/bounded';

// Issue #14: an image's or a video's dimensions are read from its header and refused above the
// limits (16384 a side, 50 MP) before a pixel is decoded, so a few bytes that claim gigapixels
// cost nothing. Each refusal is an InputError naming the file and the header field.

const PNG_FILE = new Uint8Array(readFileSync('tools/fixtures/tiny-gqa/inputs/frame0.png'));

/** A PNG chunk with its CRC right, so the decoder trusts it. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function png(width: number, height: number, interlace: 0 | 1, idat: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 2, 0, 0, interlace], 8);
  return Buffer.concat([PNG_FILE.subarray(0, 8), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

test('a tiny PNG claiming huge dimensions is refused from its IHDR, before decoding', async () => {
  const idat = deflateSync(Buffer.alloc(1000));
  await expectBoundedRefusal(() => decodeImage(png(100_000, 100_000, 0, idat), 'huge.png'), InputError, /^huge\.png: PNG IHDR says 100000 × 100000 pixels, more than the 16384 per side/, { ms: 500, mb: 50 });
  await expectBoundedRefusal(() => decodeImage(png(10_000, 10_000, 0, idat), 'wide.png'), InputError, /^wide\.png: PNG IHDR says 10000 × 10000 pixels, more than .* 50 MP/, { ms: 500, mb: 50 });
  // the fixture decodes as before
  expect(decodeImage(PNG_FILE, 'frame0.png').data.length).toBeGreaterThan(0);
});

test('an interlaced PNG whose data inflates past its size is refused before pngjs inflates it unbounded', async () => {
  // 64 MB of zeros deflate to 64 KB; an 8 × 8 interlaced image needs a few hundred bytes
  const bomb = deflateSync(Buffer.alloc(64 << 20));
  await expectBoundedRefusal(() => decodeImage(png(8, 8, 1, bomb), 'bomb.png'), InputError, /^bomb\.png: PNG image data inflates past the \d+ bytes its 8 × 8 pixels can need/, { mb: 100 });
});

test('a JPEG whose frame header claims huge dimensions is refused from its SOF', async () => {
  const w = 16;
  const h = 8;
  const small = new Uint8Array(jpeg.encode({ width: w, height: h, data: Buffer.alloc(w * h * 4, 128) }, 80).data);
  const sof = small.findIndex((b, i) => b === 0xff && small[i + 1] === 0xc0);
  const huge = small.slice();
  new DataView(huge.buffer).setUint16(sof + 5, 60000);
  new DataView(huge.buffer).setUint16(sof + 7, 60000);
  await expectBoundedRefusal(() => decodeImage(huge, 'huge.jpg'), InputError, /^huge\.jpg: JPEG SOF says 60000 × 60000 pixels/, { ms: 500, mb: 50 });
  expect(decodeImage(small, 'small.jpg').width).toBe(w);
});

test('a y4m header claiming huge frames or an infinite frame rate is refused before any frame is sized', async () => {
  const clip = (header: string) => new TextEncoder().encode(`${header}\nFRAME\n${'x'.repeat(64)}`);
  await expectBoundedRefusal(() => parseY4m(clip('YUV4MPEG2 W100000 H100000 F25:1 C420jpeg'), 'huge.y4m'), InputError, /^huge\.y4m: y4m header W\/H says 100000 × 100000 pixels/, { ms: 500, mb: 50 });
  await expectBoundedRefusal(() => parseY4m(clip(`YUV4MPEG2 W4 H4 F${'9'.repeat(400)}:1 C420jpeg`), 'fast.y4m'), InputError, /^fast\.y4m: not a valid YUV4MPEG2 file \(bad frame rate/);
  await expectBoundedRefusal(() => parseY4m(clip('YUV4MPEG2 W1e9 H4 F25:1'), 'sci.y4m'), InputError, /^sci\.y4m: .*missing or bad W\/H/);
});
