/**
 * Renders frames of the needle task for training (tools/needle/train_needle.py runs this in Node):
 * each frame exactly as the engine sees it from a clip — the TypeScript renderer, through a
 * 4:2:0 .y4m frame and back (src/cli/y4m-writer.ts, src/cli/y4m.ts), then the engine's video
 * resize (PIL LANCZOS to the longest edge, then squashed to the tile, src/reference/pil-resize.ts,
 * which the preprocessing kernel is tested against).
 *
 *   node dist-node/needle-pool.js --first-seed S --streams N --tile 64 --out DIR/part
 *
 * writes `part.frames.u8` (N·8 frames, tile × tile × RGB) and `part.labels.u8` (per frame: shape
 * index into [...COMMON_SHAPES, ...RARE_SHAPES], colour index into COLOR_NAMES). Each seed's
 * stream is 8 frames with all 4 rare shapes as needles, so half the frames are needles.
 */
import { writeFileSync } from 'node:fs';
import { frameToRgb, type Y4mVideo } from '../../src/cli/y4m';
import { y4mFrame } from '../../src/cli/y4m-writer';
import { imageLayout } from '../../src/model/image-geometry';
import { describeFrame, planNeedleStream, renderFrame } from '../../src/needle/render';
import { COLOR_NAMES, COMMON_SHAPES, RARE_SHAPES, type Shape } from '../../src/needle/shapes';
import { pilResizeLanczos } from '../../src/reference/pil-resize';

const FRAMES_PER_STREAM = 8;
const SHAPES: readonly Shape[] = [...COMMON_SHAPES, ...RARE_SHAPES];

function arg(name: string): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = Number(process.argv[i + 1]);
  if (i < 0 || !Number.isInteger(value)) throw new Error(`--${name} N is required`);
  return value;
}
const outIndex = process.argv.indexOf('--out');
if (outIndex < 0) throw new Error('--out PATH is required');
const out = process.argv[outIndex + 1];
const firstSeed = arg('first-seed');
const streams = arg('streams');
const tile = arg('tile');

/** The frame as the engine's video preprocessing sees it (before rescale/normalize). */
export function engineView(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const record = y4mFrame(rgb, width, height);
  const video: Y4mVideo = { header: { width, height, fpsNum: 1, fpsDen: 1, chroma: '420', fullRange: false }, frameOffsets: [6], bytes: record };
  const decoded = frameToRgb(video, 0).data as Uint8Array;
  const layout = imageLayout({ width, height }, { doResize: true, doImageSplitting: false, longestEdge: tile, maxImageSize: tile });
  const stage1 = pilResizeLanczos(decoded, width, height, layout.stage1.width, layout.stage1.height, 3);
  return pilResizeLanczos(stage1, layout.stage1.width, layout.stage1.height, tile, tile, 3);
}

const total = streams * FRAMES_PER_STREAM;
const frames = new Uint8Array(total * tile * tile * 3);
const labels = new Uint8Array(total * 2);
let n = 0;
for (let s = 0; s < streams; s++) {
  const stream = planNeedleStream({ seed: firstSeed + s, frames: FRAMES_PER_STREAM, needles: RARE_SHAPES.length });
  for (let i = 0; i < FRAMES_PER_STREAM; i++, n++) {
    frames.set(engineView(renderFrame(stream, i), stream.width, stream.height), n * tile * tile * 3);
    const c = describeFrame(stream, i);
    labels[2 * n] = SHAPES.indexOf(c.shape);
    labels[2 * n + 1] = COLOR_NAMES.indexOf(c.color);
  }
}
writeFileSync(`${out}.frames.u8`, frames);
writeFileSync(`${out}.labels.u8`, labels);
console.log(`${out}: ${total} frames`);
