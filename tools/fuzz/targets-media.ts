import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import * as jpeg from 'jpeg-js';
import { decodeImage } from '../../src/cli/images';
import { frameToRgb, parseY4m, sampleY4m, type Y4mVideo } from '../../src/cli/y4m';
import { crc32 } from '../../src/memory/persist';
import { LIMITS } from '../../src/limits';
import type { RgbImage } from '../../src/model/preprocess';
import { concat, havoc, INTERESTING_U32 } from './mutate-bytes';
import type { Rng } from './rng';
import { utf8, type FuzzTarget } from './target';

const INPUTS = join(process.cwd(), 'tools/fixtures/tiny-gqa/inputs');
const PNGS = ['frame0.png', 'gradient.png', 'tall.png', 'stream3.png'].map((f) => new Uint8Array(readFileSync(join(INPUTS, f))));

function checkImage(image: RgbImage): string | null {
  if (!(image.width >= 1 && image.height >= 1 && image.width <= LIMITS.imageSide && image.height <= LIMITS.imageSide)) return `accepted ${image.width} × ${image.height}`;
  if (image.width * image.height > LIMITS.imagePixels) return 'accepted more pixels than the limit';
  if (image.data.length !== image.width * image.height * (image.channels ?? 4)) return 'pixel data of the wrong length';
  return null;
}

// ---- PNG ----

/** A PNG chunk with its CRC (over type and data) right: the structure a decoder trusts. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(utf8(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A few KB of IDAT that inflate to 64 MB: a decompression bomb (made once per worker). */
let bomb: Uint8Array | null = null;

/** A PNG whose IHDR claims `w × h` (interlaced or not) with `idat` as its data, every CRC right. */
function craftPng(w: number, h: number, interlace: number, idat: Uint8Array, colorType = 2): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w);
  v.setUint32(4, h);
  ihdr.set([8, colorType, 0, 0, interlace], 8);
  return concat(PNGS[0].subarray(0, 8), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0)));
}

export const pngTarget: FuzzTarget<Uint8Array, RgbImage> = {
  name: 'png',
  names: ['image.png'],
  make(rng) {
    const seed = rng.pick(PNGS);
    switch (rng.int(5)) {
      case 0: {
        // IHDR dimensions changed, its CRC fixed: the "tiny PNG claiming huge dimensions"
        const out = seed.slice();
        const v = new DataView(out.buffer);
        v.setUint32(rng.chance(0.5) ? 16 : 20, rng.pick(INTERESTING_U32));
        if (rng.chance(0.3)) out[28] = rng.int(3); // interlace
        v.setUint32(29, crc32(out.subarray(12, 29)));
        return out;
      }
      case 1: {
        bomb ??= deflateSync(Buffer.alloc(64 << 20));
        const side = rng.pick([64, 1024, 4000]);
        return craftPng(side, side, rng.int(2), bomb);
      }
      case 2:
        return craftPng(1 + rng.int(40), 1 + rng.int(40), rng.int(2), deflateSync(Buffer.from(havoc(rng, new Uint8Array(200 + rng.int(5000)), 8))), rng.pick([0, 2, 3, 4, 6]));
      case 3:
        return seed;
      default:
        return havoc(rng, seed);
    }
  },
  run: (bytes) => decodeImage(bytes, 'image.png'),
  check: (_b, image) => checkImage(image),
  bytes: (b) => b,
};

// ---- JPEG ----

let jpegSeeds: Uint8Array[] | null = null;
function jpegs(): Uint8Array[] {
  // encoded here with jpeg-js (no JPEG fixture ships): a gradient and a noise picture
  return (jpegSeeds ??= [
    [24, 16],
    [7, 33],
  ].map(([w, h], k) => {
    const data = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set([(i * 7 + k * 50) & 255, (i * 3) & 255, (i * 13) & 255, 255], i * 4);
    return new Uint8Array(jpeg.encode({ width: w, height: h, data }, 80).data);
  }));
}

export const jpegTarget: FuzzTarget<Uint8Array, RgbImage> = {
  name: 'jpeg',
  names: ['image.jpg'],
  make(rng) {
    const seed = rng.pick(jpegs());
    switch (rng.int(4)) {
      case 0: {
        // the SOF0 frame header's height / width changed
        const out = seed.slice();
        const sof = out.findIndex((b, i) => b === 0xff && out[i + 1] === 0xc0);
        if (sof >= 0) new DataView(out.buffer).setUint16(sof + (rng.chance(0.5) ? 5 : 7), rng.pick([0, 1, 2, 255, 4096, 16384, 16385, 30000, 65535]));
        return out;
      }
      case 1:
        return seed;
      default:
        return havoc(rng, seed, 8);
    }
  },
  run: (bytes) => decodeImage(bytes, 'image.jpg'),
  check: (_b, image) => checkImage(image),
  bytes: (b) => b,
};

// ---- y4m ----

function buildY4m(rng: Rng, header?: string): Uint8Array {
  const w = 1 + rng.int(20);
  const h = 1 + rng.int(20);
  const chroma = rng.pick(['420jpeg', '444', 'mono']);
  const line = header ?? `YUV4MPEG2 W${w} H${h} F${rng.pick(['25:1', '30000:1001', '1:1'])} Ip A1:1 C${chroma}${rng.chance(0.3) ? ' XCOLORRANGE=FULL' : ''}`;
  const plane = w * h;
  const size = chroma === 'mono' ? plane : chroma === '444' ? 3 * plane : plane + 2 * Math.ceil(w / 2) * Math.ceil(h / 2);
  const frames = 1 + rng.int(4);
  const parts = [utf8(`${line}\n`)];
  for (let i = 0; i < frames; i++) parts.push(utf8('FRAME\n'), Uint8Array.from({ length: size }, () => rng.int(256)));
  return concat(...parts);
}

const Y4M_FIELDS = ['W0', 'W-1', 'W16384', 'W16385', 'W99999999', 'W1e9', 'W', 'H100000', 'H0', 'H4.5', 'F0:1', 'F1:0', `F${'9'.repeat(400)}:1`, 'F25', 'C420p10', 'Cfoo', 'Ib', 'XCOLORRANGE=FULL', 'W50000 H50000', 'W16384 H16384'];

export const y4mTarget: FuzzTarget<Uint8Array, Y4mVideo> = {
  name: 'y4m',
  names: ['clip.y4m'],
  make(rng) {
    switch (rng.int(3)) {
      case 0: {
        // header fields replaced (the frame data stays as it was)
        const valid = new TextDecoder('latin1').decode(buildY4m(rng));
        const end = valid.indexOf('\n');
        const fields = valid.slice(0, end).split(' ');
        const extra = rng.pick(Y4M_FIELDS);
        fields[1 + rng.int(fields.length - 1)] = extra;
        return concat(utf8(fields.join(' ')), new Uint8Array(Buffer.from(valid.slice(end), 'latin1')));
      }
      case 1:
        return buildY4m(rng);
      default:
        return havoc(rng, buildY4m(rng), 6);
    }
  },
  run(bytes) {
    const video = parseY4m(bytes, 'clip.y4m');
    frameToRgb(video, 0);
    frameToRgb(video, video.frameOffsets.length - 1);
    sampleY4m(video, { fps: 1, maxFrames: 8 });
    return video;
  },
  check(bytes, video) {
    const { width, height } = video.header;
    if (!(width >= 1 && height >= 1 && width * height <= LIMITS.imagePixels)) return `accepted ${width} × ${height}`;
    if (!(video.header.fpsNum > 0 && Number.isFinite(video.header.fpsNum / video.header.fpsDen))) return 'accepted a non-finite frame rate';
    const last = video.frameOffsets[video.frameOffsets.length - 1];
    if (last > bytes.length) return 'a frame starts past the end';
    const rgb = frameToRgb(video, 0);
    return rgb.data.length === width * height * 3 ? null : 'RGB frame of the wrong length';
  },
  bytes: (b) => b,
};
