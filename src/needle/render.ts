import { InputError } from '../errors';
import { frameTimestamp } from '../model/prompt';
import { hash32, Rng } from './random';
import { COLOR_NAMES, COLORS, COMMON_SHAPES, insideShape, RARE_SHAPES, type ColorName, type RareShape, type Shape } from './shapes';

/**
 * The needle-in-a-stream task (V-NIAH style): one renderer for training, tests, benchmarks and
 * the demo. Everything is a pure function of (seed, frame count, depths, needle count).
 *
 * Specification (enough to re-implement it bit for bit; `random.ts` defines hash32 and Rng):
 *
 * Stream plan — `rng = Rng(hash32(seed, 0x6e656564))`, then in this order:
 *  1. the needles' shapes: a Fisher–Yates shuffle of RARE_SHAPES (for i = 3 … 1: j = rng.int(i + 1),
 *     swap i and j); needle k gets shape k of the shuffled list (K ≤ 4, each rare shape at most once);
 *  2. for each needle k: its colour, COLOR_NAMES[rng.int(8)];
 *  3. for each needle k: its frame. Given a depth d ∈ [0, 1], the frame is round(d · (N − 1));
 *     without one, frames are drawn as rng.int(N) until one not taken by an earlier needle comes up.
 *     Given depths must name distinct frames.
 *  Needles are then listed in frame order.
 *
 * Frame i (W × H = 160 × 120, at i seconds: 1 frame/s) — `rng = Rng(hash32(seed, i, 1))`, drawn
 * in this order:
 *  1. background: r, g, b each 10 + rng.int(60) (a dark colour);
 *  2. shape index rng.int(4) into COMMON_SHAPES, colour index rng.int(8) into COLOR_NAMES (drawn
 *     on every frame; a needle frame then shows its needle's shape and colour instead);
 *  3. box side s = H · rng.range(0.25, 0.60) px (25–60 % of the height), centre
 *     cx = rng.range(s/2, W − s/2), cy = rng.range(s/2, H − s/2);
 *  4. pixels in raster order: the colour is the shape's if the pixel centre (x + ½, y + ½) maps
 *     inside the shape (u = (x + ½ − cx) / (s/2), v = (y + ½ − cy) / (s/2), `insideShape`), else the
 *     background's; then each of r, g, b gets rng.int(17) − 8 added (mild noise) and is clamped to
 *     0…255.
 *
 * Questions, per needle (answers as the model should say them):
 *  - colour: `What color was the star?` → `red`
 *  - time: `When did you see the star?` → `00:42` (its frame's MM:SS as the stream prompt writes it)
 * and presence, for each rare shape in RARE_SHAPES order: `Did you see a heart?` (`an arrow`) →
 * `yes` if a needle has it, else `no`.
 */

export const NEEDLE_WIDTH = 160;
export const NEEDLE_HEIGHT = 120;
/** The longest stream the task writes timestamps for: 99:59. */
export const MAX_NEEDLE_FRAMES = 6000;

export interface Needle {
  frame: number;
  /** The frame's time as the stream prompt writes it (`MM:SS`, frame i at i s). */
  time: string;
  /** Where in the stream, 0 = first frame, 1 = last. */
  depth: number;
  shape: RareShape;
  color: ColorName;
  rgb: readonly [number, number, number];
}

export type QuestionFamily = 'color' | 'time' | 'presence';

export interface NeedleQuestion {
  question: string;
  answer: string;
  family: QuestionFamily;
  shape: RareShape;
}

export interface NeedleStream {
  seed: number;
  frames: number;
  width: number;
  height: number;
  fps: 1;
  needles: Needle[];
  questions: NeedleQuestion[];
}

export interface NeedleStreamOptions {
  seed: number;
  frames: number;
  /** Depths in [0, 1] of the first needles (the rest are placed at random). */
  depths?: readonly number[];
  /** Needles in the stream, 0–4 (default: one, or as many as depths are given). */
  needles?: number;
}

/** The frame's drawn content (for tests and tools; `renderFrame` paints it). */
export interface FrameContent {
  background: [number, number, number];
  shape: Shape;
  color: ColorName;
  size: number;
  cx: number;
  cy: number;
}

const article = (shape: RareShape) => (shape === 'arrow' ? 'an' : 'a');

export function colorQuestion(shape: RareShape): string {
  return `What color was the ${shape}?`;
}
export function timeQuestion(shape: RareShape): string {
  return `When did you see the ${shape}?`;
}
export function presenceQuestion(shape: RareShape): string {
  return `Did you see ${article(shape)} ${shape}?`;
}

function checkOptions(o: NeedleStreamOptions): { depths: number[]; count: number } {
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new InputError(`needle: the seed must be a whole number in 0…4294967295, got ${o.seed}`);
  if (!Number.isInteger(o.frames) || o.frames < 1 || o.frames > MAX_NEEDLE_FRAMES) throw new InputError(`needle: frames must be a whole number in 1…${MAX_NEEDLE_FRAMES}, got ${o.frames}`);
  const depths = [...(o.depths ?? [])];
  for (const d of depths) if (!Number.isFinite(d) || d < 0 || d > 1) throw new InputError(`needle: a depth must be a number in 0…1, got ${d}`);
  const count = o.needles ?? Math.max(1, depths.length);
  if (!Number.isInteger(count) || count < 0 || count > RARE_SHAPES.length) throw new InputError(`needle: needles must be a whole number in 0…${RARE_SHAPES.length}, got ${o.needles}`);
  if (depths.length > count) throw new InputError(`needle: ${depths.length} depths for ${count} needles`);
  if (count > o.frames) throw new InputError(`needle: ${count} needles do not fit ${o.frames} frames`);
  return { depths, count };
}

/** The stream's needles and questions (no pixels). */
export function planNeedleStream(o: NeedleStreamOptions): NeedleStream {
  const { depths, count } = checkOptions(o);
  const rng = new Rng(hash32(o.seed, 0x6e656564));
  const shapes: RareShape[] = [...RARE_SHAPES];
  for (let i = shapes.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [shapes[i], shapes[j]] = [shapes[j], shapes[i]];
  }
  const colors = Array.from({ length: count }, () => COLOR_NAMES[rng.int(COLOR_NAMES.length)]);
  const taken = new Set<number>();
  const frames: number[] = [];
  for (let k = 0; k < count; k++) {
    let frame: number;
    if (k < depths.length) {
      frame = Math.round(depths[k] * (o.frames - 1));
      if (taken.has(frame)) throw new InputError(`needle: depths ${depths.join(', ')} put two needles on frame ${frame} of ${o.frames}`);
    } else {
      do frame = rng.int(o.frames);
      while (taken.has(frame));
    }
    taken.add(frame);
    frames.push(frame);
  }
  const needles: Needle[] = frames
    .map((frame, k) => ({
      frame,
      time: frameTimestamp(frame),
      depth: o.frames > 1 ? frame / (o.frames - 1) : 0,
      shape: shapes[k],
      color: colors[k],
      rgb: COLORS[colors[k]],
    }))
    .sort((a, b) => a.frame - b.frame);
  const questions: NeedleQuestion[] = [];
  for (const n of needles) {
    questions.push({ question: colorQuestion(n.shape), answer: n.color, family: 'color', shape: n.shape });
    questions.push({ question: timeQuestion(n.shape), answer: n.time, family: 'time', shape: n.shape });
  }
  for (const shape of RARE_SHAPES) {
    questions.push({ question: presenceQuestion(shape), answer: needles.some((n) => n.shape === shape) ? 'yes' : 'no', family: 'presence', shape });
  }
  return { seed: o.seed, frames: o.frames, width: NEEDLE_WIDTH, height: NEEDLE_HEIGHT, fps: 1, needles, questions };
}

/** What frame `index` of the stream shows, and the generator positioned at its pixel noise. */
function frameContent(stream: NeedleStream, index: number): { content: FrameContent; rng: Rng } {
  if (!Number.isInteger(index) || index < 0 || index >= stream.frames) throw new InputError(`needle: frame ${index} is outside the stream's ${stream.frames} frames`);
  const rng = new Rng(hash32(stream.seed, index, 1));
  const background: [number, number, number] = [10 + rng.int(60), 10 + rng.int(60), 10 + rng.int(60)];
  let shape: Shape = COMMON_SHAPES[rng.int(COMMON_SHAPES.length)];
  let color = COLOR_NAMES[rng.int(COLOR_NAMES.length)];
  const needle = stream.needles.find((n) => n.frame === index);
  if (needle) [shape, color] = [needle.shape, needle.color];
  const H = stream.height;
  const W = stream.width;
  const size = H * rng.range(0.25, 0.6);
  const cx = rng.range(size / 2, W - size / 2);
  const cy = rng.range(size / 2, H - size / 2);
  return { content: { background, shape, color, size, cx, cy }, rng };
}

export function describeFrame(stream: NeedleStream, index: number): FrameContent {
  return frameContent(stream, index).content;
}

/** Frame `index` as interleaved RGB bytes (width × height × 3). */
export function renderFrame(stream: NeedleStream, index: number): Uint8Array {
  const { content, rng } = frameContent(stream, index);
  const { width: W, height: H } = stream;
  const { background, shape, cx, cy } = content;
  const fill = COLORS[content.color];
  const half = content.size / 2;
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    const v = (y + 0.5 - cy) / half;
    for (let x = 0; x < W; x++) {
      const u = (x + 0.5 - cx) / half;
      const rgb = Math.abs(u) <= 1 && Math.abs(v) <= 1 && insideShape(shape, u, v) ? fill : background;
      const o = (y * W + x) * 3;
      for (let c = 0; c < 3; c++) {
        const value = rgb[c] + rng.int(17) - 8;
        out[o + c] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
  }
  return out;
}
