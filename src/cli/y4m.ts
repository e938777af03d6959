import { InputError } from '../errors';
import { LIMITS } from '../limits';
import { readInputFile } from '../platform/node/files';
import { checkImageSize } from './image-header';
import type { RgbImage } from '../model/preprocess';

/**
 * YUV4MPEG2 (.y4m), the uncompressed video format ffmpeg, x264 and the Xiph test clips use:
 * one text header line (`YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg …`), then per frame a
 * `FRAME[ params]\n` line and the raw planes. Chosen for the CLI because it needs no codec.
 *
 * Colour: BT.601 matrix (what y4m producers use for SD and what the format's spec assumes).
 * Range: LIMITED (studio swing, Y 16–235, CbCr 16–240) unless the header carries ffmpeg's
 * `XCOLORRANGE=FULL` extension; that is ffmpeg's own default when writing y4m from yuv420p,
 * the common case. Chroma of 4:2:0 is upsampled by repetition (nearest), ignoring the siting
 * variants (420jpeg / 420mpeg2 / 420paldv differ only in sub-pixel chroma position).
 */

export type Y4mChroma = '420' | '444' | 'mono';

export interface Y4mHeader {
  width: number;
  height: number;
  /** Frame rate as a fraction (the F parameter); default 25:1 when absent, as ffmpeg assumes. */
  fpsNum: number;
  fpsDen: number;
  chroma: Y4mChroma;
  fullRange: boolean;
}

export interface Y4mVideo {
  header: Y4mHeader;
  /** Byte offset of each frame's first plane. */
  frameOffsets: number[];
  bytes: Uint8Array;
}

function fail(name: string, problem: string): never {
  throw new InputError(`${name}: not a valid YUV4MPEG2 file (${problem})`);
}

function lineEnd(bytes: Uint8Array, from: number, name: string, what: string): number {
  // header lines are short; a missing newline within 1 KiB means this is not y4m
  const end = bytes.indexOf(0x0a, from);
  if (end < 0 || end - from > 1024) fail(name, `no end to the ${what} line`);
  return end;
}

export function parseY4mHeader(line: string, name: string): Y4mHeader {
  const fields = line.split(' ').filter((f) => f.length > 0);
  if (fields[0] !== 'YUV4MPEG2') fail(name, 'it does not start with "YUV4MPEG2 "');
  const h: Y4mHeader = { width: 0, height: 0, fpsNum: 25, fpsDen: 1, chroma: '420', fullRange: false };
  for (const f of fields.slice(1)) {
    const key = f[0];
    const value = f.slice(1);
    if (key === 'W') h.width = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
    else if (key === 'H') h.height = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
    else if (key === 'F') {
      // at most 9 digits each: a finite, exact rate (a 400-digit F would be Infinity fps)
      const m = /^(\d{1,9}):(\d{1,9})$/.exec(value);
      if (!m || Number(m[1]) <= 0 || Number(m[2]) <= 0) fail(name, `bad frame rate F${value}`);
      h.fpsNum = Number(m[1]);
      h.fpsDen = Number(m[2]);
    } else if (key === 'C') {
      if (value.startsWith('420')) {
        // 420, 420jpeg, 420mpeg2, 420paldv: same plane layout; 420p10 etc. are deeper samples
        if (/^420p\d/.test(value)) fail(name, `C${value}: only 8-bit samples are supported`);
        h.chroma = '420';
      } else if (value === '444') h.chroma = '444';
      else if (value === 'mono') h.chroma = 'mono';
      else fail(name, `colour space C${value} is not supported (420*, 444, mono are)`);
    } else if (key === 'I') {
      if (value !== 'p' && value !== '?') fail(name, `interlaced video (I${value}) is not supported`);
    } else if (key === 'X') {
      if (value === 'COLORRANGE=FULL') h.fullRange = true;
      else if (value === 'COLORRANGE=LIMITED') h.fullRange = false;
    }
    // A (aspect) and other X extensions do not change the pixels
  }
  if (!Number.isInteger(h.width) || !Number.isInteger(h.height) || h.width <= 0 || h.height <= 0) fail(name, 'missing or bad W/H');
  // before any frame is sized by it: one frame's RGB is W·H·3 bytes
  checkImageSize(name, 'y4m header W/H', h.width, h.height);
  return h;
}

export function frameBytes(h: Y4mHeader): number {
  const luma = h.width * h.height;
  if (h.chroma === 'mono') return luma;
  if (h.chroma === '444') return 3 * luma;
  return luma + 2 * Math.ceil(h.width / 2) * Math.ceil(h.height / 2);
}

/** Header and frame positions; pixels are converted only for the frames asked for. */
export function parseY4m(bytes: Uint8Array, name: string): Y4mVideo {
  const headerEnd = lineEnd(bytes, 0, name, 'header');
  const header = parseY4mHeader(new TextDecoder('latin1').decode(bytes.subarray(0, headerEnd)), name);
  const size = frameBytes(header);
  const frameOffsets: number[] = [];
  let at = headerEnd + 1;
  while (at < bytes.length) {
    const end = lineEnd(bytes, at, name, `FRAME ${frameOffsets.length}`);
    const tag = new TextDecoder('latin1').decode(bytes.subarray(at, Math.min(end, at + 5)));
    if (tag !== 'FRAME') fail(name, `frame ${frameOffsets.length} does not start with FRAME`);
    if (end + 1 + size > bytes.length) fail(name, `frame ${frameOffsets.length} is truncated`);
    if (frameOffsets.length >= LIMITS.y4mFrames) fail(name, `more than ${LIMITS.y4mFrames} frames`);
    frameOffsets.push(end + 1);
    at = end + 1 + size;
  }
  if (frameOffsets.length === 0) fail(name, 'no frames');
  return { header, frameOffsets, bytes };
}

const clamp = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));

/** One frame to interleaved RGB (BT.601; range per header). */
export function frameToRgb(video: Y4mVideo, index: number): RgbImage {
  const { header: h, bytes } = video;
  const { width: W, height: H } = h;
  const base = video.frameOffsets[index];
  const Y = bytes.subarray(base, base + W * H);
  const cw = h.chroma === '420' ? Math.ceil(W / 2) : W;
  const ch = h.chroma === '420' ? Math.ceil(H / 2) : H;
  const U = bytes.subarray(base + W * H, base + W * H + cw * ch);
  const V = bytes.subarray(base + W * H + cw * ch, base + W * H + 2 * cw * ch);
  // full range: Y 0–255, C centred on 128; limited: Y 16–235 and C 16–240 stretched to 0–255
  const ys = h.fullRange ? 1 : 255 / 219;
  const cs = h.fullRange ? 1 : 255 / 224;
  const y0 = h.fullRange ? 0 : 16;
  const out = new Uint8Array(W * H * 3);
  for (let r = 0; r < H; r++) {
    const cr = h.chroma === '420' ? r >> 1 : r;
    for (let c = 0; c < W; c++) {
      const y = (Y[r * W + c] - y0) * ys;
      let u = 0;
      let v = 0;
      if (h.chroma !== 'mono') {
        const ci = cr * cw + (h.chroma === '420' ? c >> 1 : c);
        u = (U[ci] - 128) * cs;
        v = (V[ci] - 128) * cs;
      }
      const o = (r * W + c) * 3;
      out[o] = clamp(y + 1.402 * v);
      out[o + 1] = clamp(y - 0.344136 * u - 0.714136 * v);
      out[o + 2] = clamp(y + 1.772 * u);
    }
  }
  return { width: W, height: H, data: out, channels: 3 };
}

/** Python's round(): halves to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Which frames SmolVLMVideoProcessor.sample_frames keeps (spec §5): round(fps·duration) frames,
 * at most maxFrames, spread evenly with numpy's linspace truncated to ints; the first and last
 * `skipSecs` are skipped only for long clips.
 */
export function sampleFrameIndices(total: number, videoFps: number, options: { fps: number; maxFrames: number; skipSecs?: number }): number[] {
  const duration = total / videoFps;
  const skip = options.skipSecs ?? 1;
  const desired = Math.max(1, Math.min(roundHalfEven(options.fps * duration), options.maxFrames));
  let start = 0;
  let end = total - 1;
  if (skip > 0 && duration - 2 * skip > options.maxFrames * options.fps) {
    start = Math.trunc(skip * videoFps);
    end = Math.trunc(total - skip * videoFps);
  }
  start = Math.max(0, start);
  end = Math.min(end, total - 1);
  if (start >= end) {
    start = 0;
    end = total - 1;
  }
  // np.linspace: arange(num) * step + start, the last one set to stop exactly
  const indices: number[] = [];
  const step = desired > 1 ? (end - start) / (desired - 1) : 0;
  for (let i = 0; i < desired; i++) indices.push(Math.trunc(i === desired - 1 && desired > 1 ? end : i * step + start));
  return [...new Set(indices)].sort((a, b) => a - b);
}

export interface SampledVideo {
  frames: RgbImage[];
  timestampsSec: number[];
  durationSec: number;
  /** Frames in the file (before sampling). */
  totalFrames: number;
}

/** Reads and checks a .y4m file (header, every frame's extent); no pixels converted yet. */
export async function readY4m(path: string): Promise<Y4mVideo> {
  return parseY4m(await readInputFile(path), path);
}

/**
 * The frames the video processor would keep (fps and max_frames from the model), converted to
 * RGB, with their times from the header frame rate: frame i is at i / F seconds.
 */
export function sampleY4m(video: Y4mVideo, sampling: { fps: number; maxFrames: number }): SampledVideo {
  const videoFps = video.header.fpsNum / video.header.fpsDen;
  const total = video.frameOffsets.length;
  const indices = sampleFrameIndices(total, videoFps, sampling);
  return {
    frames: indices.map((i) => frameToRgb(video, i)),
    timestampsSec: indices.map((i) => i / videoFps),
    durationSec: total / videoFps,
    totalFrames: total,
  };
}
