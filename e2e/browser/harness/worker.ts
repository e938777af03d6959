// The page Playwright drives for the engine worker: the SDK's path through comlink
// (src/worker/client.ts → src/worker/engine-worker.ts) on a fixture model, with frames pushed as
// every type the worker takes, questions asked while frames arrive, typed errors coming back across
// the worker boundary, and memory saved to OPFS and reopened by a new worker.
import type { AskEvent, Moment } from '../../../src/engine/types';
import { StreamVlmError } from '../../../src/errors';
import * as errors from '../../../src/errors';
import type { RgbImage } from '../../../src/model/preprocess';
import { EngineWorkerClient } from '../../../src/worker/client';
import { toRgbImage } from '../../../src/worker/frames';
import { decodePng, fetchOk } from './fixture-page';

export interface ErrorResult {
  name: string;
  code: string;
  message: string;
  advice: string;
  file?: string;
  /** instanceof the class its name says, and of StreamVlmError: the class survived the worker boundary. */
  sameClass: boolean;
}

interface StreamFixture {
  question: string;
  frames: { file: string; timestamp_ms: number }[];
  max_new_tokens: number;
}

export interface Answer {
  tokens: number[];
  streamed: number[];
  text: string;
  moments: Moment[];
}

declare global {
  interface Window {
    workerHarness: {
      conversions: () => Promise<Record<string, { width: number; height: number; maxDiff: number } | string>>;
      live: (memoryName: string) => Promise<Record<string, unknown>>;
      reopen: (memoryName: string) => Promise<Record<string, unknown>>;
    };
  }
}

const MODEL = '/tools/fixtures/tiny-gqa/';
const ENGINE = { windowFrames: 8, kvBits: 'none' as const, topK: 8, frameResize: 'image' as const, maxAnswerTokens: 12 };

async function fixture(): Promise<{ fx: StreamFixture; frames: RgbImage[] }> {
  const fx = (await (await fetchOk(`${MODEL}stream.json`)).json()) as StreamFixture;
  const frames = await Promise.all(fx.frames.map((f) => decodePng(`${MODEL}${f.file}`)));
  return { fx, frames };
}

function errorResult(e: unknown): ErrorResult {
  if (!(e instanceof Error)) return { name: 'not an Error', code: '', message: String(e), advice: '', sameClass: false };
  const cls = (errors as Record<string, unknown>)[e.name];
  const file = (e as { file?: unknown }).file;
  return {
    name: e.name,
    code: (e as StreamVlmError).code,
    message: e.message,
    advice: (e as StreamVlmError).advice,
    ...(typeof file === 'string' ? { file } : {}),
    sameClass: e instanceof StreamVlmError && (typeof cls !== 'function' || e instanceof (cls as new () => Error)),
  };
}

async function attempt(f: () => Promise<unknown>): Promise<ErrorResult | null> {
  try {
    await f();
    return null;
  } catch (e) {
    return errorResult(e);
  }
}

function bitmapOf(image: RgbImage): Promise<ImageBitmap> {
  const data = new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
  return createImageBitmap(data, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
}

/** The frame pushed as type `kind` (one of the four the worker takes), same pixels. */
async function asKind(image: RgbImage, kind: number, timestampMs: number): Promise<VideoFrame | ImageBitmap | ImageData | RgbImage> {
  if (kind === 0) return new VideoFrame(await bitmapOf(image), { timestamp: timestampMs * 1000 });
  if (kind === 1) return bitmapOf(image);
  if (kind === 2) return new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
  return { width: image.width, height: image.height, data: new Uint8Array(image.data), channels: 4 };
}

async function collect(events: AsyncIterable<AskEvent>): Promise<Answer> {
  const streamed: number[] = [];
  let moments: Moment[] = [];
  for await (const e of events) {
    if (e.type === 'moments') moments = e.moments;
    else if (e.type === 'token') streamed.push(e.id);
    else return { tokens: e.tokens, streamed, text: e.text, moments };
  }
  throw new Error('no done event');
}

const maxDiff = (a: RgbImage, b: RgbImage) => {
  let m = 0;
  const ca = a.channels ?? 4;
  const cb = b.channels ?? 4;
  for (let p = 0; p < a.width * a.height; p++) for (let c = 0; c < 3; c++) m = Math.max(m, Math.abs(a.data[p * ca + c] - b.data[p * cb + c]));
  return m;
};

window.workerHarness = {
  /** Each frame type through the worker's conversion, against the decoded PNG's pixels. */
  async conversions() {
    const { frames } = await fixture();
    const ref = frames[3];
    const out: Record<string, { width: number; height: number; maxDiff: number } | string> = {};
    const names = ['VideoFrame (RGBA, from a bitmap)', 'ImageBitmap', 'ImageData', 'RgbImage'];
    for (let k = 0; k < 4; k++) {
      try {
        const frame = await asKind(ref, k, 0);
        const rgb = await toRgbImage(frame);
        out[names[k]] = { width: rgb.width, height: rgb.height, maxDiff: maxDiff(rgb, ref) };
        if (k < 2 && (frame as ImageBitmap | VideoFrame) && 'close' in frame) {
          // closed after conversion: a VideoFrame loses its format, an ImageBitmap its size
          out[`${names[k]} closed`] = k === 0 ? String((frame as VideoFrame).format) : String((frame as ImageBitmap).width);
        }
      } catch (e) {
        out[names[k]] = `${(e as Error).name}: ${(e as Error).message}`;
      }
    }
    // a camera's format: I420 planes (4:2:0) of one flat colour, BT.601 limited range (what a
    // webcam's VideoFrame reports): Y 142, Cb 71, Cr 182, an orange
    const W = 16;
    const H = 8;
    const planes = new Uint8Array(W * H * 1.5);
    planes.fill(142, 0, W * H);
    planes.fill(71, W * H, W * H * 1.25);
    planes.fill(182, W * H * 1.25);
    const i420 = new VideoFrame(planes, {
      format: 'I420',
      codedWidth: W,
      codedHeight: H,
      timestamp: 0,
      colorSpace: { primaries: 'smpte170m', transfer: 'smpte170m', matrix: 'smpte170m', fullRange: false },
    });
    const rgb = await toRgbImage(i420);
    const y = ((142 - 16) * 255) / 219;
    const u = ((71 - 128) * 255) / 224;
    const v = ((182 - 128) * 255) / 224;
    const expected = [y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u].map(Math.round);
    const flat = { width: W, height: H, data: new Uint8Array(W * H * 3).map((_, i) => expected[i % 3]), channels: 3 as const };
    out['I420 pixel'] = `${[...rgb.data.subarray(0, 3)].join(',')} expected ${expected.join(',')}`;
    out['VideoFrame (I420)'] = { width: rgb.width, height: rgb.height, maxDiff: maxDiff(rgb, flat) };
    return out;
  },

  /**
   * One worker through a live stream: load (progress), the 8 fixture frames pushed as all four
   * types among a flood the sampler drops, a question asked while frames keep arriving, bad input,
   * a stopped answer, the full answer, stats, and the memory saved to OPFS.
   */
  async live(memoryName) {
    const { fx, frames } = await fixture();
    const out: Record<string, unknown> = {};
    out.loadError = await attempt(async () => {
      const c = EngineWorkerClient.start();
      try {
        await c.load('/tools/fixtures/no-such-model/', { cache: false });
      } finally {
        await c.dispose();
      }
    });

    const client = EngineWorkerClient.start();
    try {
      const phases = new Set<string>();
      const info = await client.load(MODEL, { engine: ENGINE, fps: 1, queueCapacity: 8, cache: false, model: { weightFormat: 'f32' } }, (p) => phases.add(p.phase));
      out.info = { precision: info.precision, meta: info.meta, windowFrames: info.engine.windowFrames };
      out.phases = [...phases];

      // frames 0–3, each followed by two flood frames (same second: sampled out)
      const offers: unknown[] = [];
      for (let i = 0; i < 4; i++) {
        const ts = fx.frames[i].timestamp_ms;
        offers.push(await client.pushFrame(await asKind(frames[i], i, ts), ts));
        offers.push(await client.pushFrame(await asKind(frames[i], 1, ts), ts + 300));
        offers.push(await client.pushFrame(await asKind(frames[i], 3, ts), ts + 600));
      }
      out.offers = offers;
      await client.idle();

      // a question, then frames 4–7 while it is answered: taken into the queue, not seen by it
      const first = collect(client.ask(fx.question, { maxNewTokens: 12 }));
      const during: unknown[] = [];
      for (let i = 4; i < 8; i++) during.push(await client.pushFrame(await asKind(frames[i], i % 4, fx.frames[i].timestamp_ms), fx.frames[i].timestamp_ms));
      out.during = during;
      out.statsDuring = await client.stats();
      out.first = await first;
      await client.idle();

      // bad input: typed errors from the worker; the stream goes on
      out.errors = {
        backwards: await attempt(() => client.pushFrame(frames[0], 100)),
        nan: await attempt(() => client.pushFrame(frames[0], Number.NaN)),
        zeroSize: await attempt(() => client.pushFrame({ width: 0, height: 0, data: new Uint8Array(0) }, 9000)),
        huge: await attempt(() => client.pushFrame(new ImageData(9000, 2), 9000)),
        shortData: await attempt(() => client.pushFrame({ width: 64, height: 48, data: new Uint8Array(100) }, 9000)),
        unknown: await attempt(() => client.pushFrame({ pixels: [1, 2, 3] } as unknown as RgbImage, 9000)),
        emptyQuestion: await attempt(() => collect(client.ask('   '))),
        bigTopK: await attempt(() => collect(client.ask(fx.question, { topK: 99 }))),
        badMemoryName: await attempt(() => client.saveMemory('../x')),
        missingMemory: await attempt(() => client.openMemory('never-saved-here')),
      };

      // an answer stopped after its first token; the next one runs whole
      let seen = 0;
      for await (const e of client.ask(fx.question, { maxNewTokens: 12 })) {
        if (e.type === 'token' && ++seen === 1) break;
      }
      out.full = await collect(client.ask(fx.question, { maxNewTokens: 12 }));
      out.stats = await client.stats();
      out.timeline = (await client.timeline()).map((f) => ({ frameIndex: f.frameIndex, where: f.where, thumb: [f.thumbnail.width, f.thumbnail.height] }));

      // paused: frames are dropped (counted), questions still answered
      await client.pause();
      out.paused = await client.pushFrame(frames[0], 20_000);
      await client.resume();

      await client.deleteMemory(memoryName);
      out.save = await client.saveMemory(memoryName);
      out.saveAgain = await client.saveMemory(memoryName);
      out.memories = await client.listMemories();
    } finally {
      await client.dispose();
    }
    return out;
  },

  /** A new worker (as after a reload) opens the saved memory and answers from it. */
  async reopen(memoryName) {
    const { fx, frames } = await fixture();
    const out: Record<string, unknown> = {};
    const client = EngineWorkerClient.start();
    try {
      await client.load(MODEL, { engine: ENGINE, fps: 1, cache: false, model: { weightFormat: 'f32' } });
      out.opened = await client.openMemory(memoryName);
      // saving the reopened stream under its name again rewrites nothing (its key summaries come back bit for bit)
      out.saveAfterOpen = await client.saveMemory(memoryName);
      out.timeline = (await client.timeline()).map((f) => `${f.frameIndex}:${f.where}`);
      out.answer = await collect(client.ask(fx.question, { maxNewTokens: 12 }));
      out.backwards = await attempt(() => client.pushFrame(frames[0], 3000));
      out.next = await client.pushFrame(frames[0], 9000);
      await client.idle();
      out.stats = await client.stats();
      // reopening into a stream that holds frames replaces it with the saved one
      out.reopened = await client.openMemory(memoryName);
      out.timelineAfter = (await client.timeline()).map((f) => `${f.frameIndex}:${f.where}`);
      out.engineAfterOpen = (await client.stats()).engine;
      // deleting the saved memory the stream reads from: its frames move into the stream's own memory first
      out.deleted = await client.deleteMemory(memoryName);
      out.memoriesAfterDelete = await client.listMemories();
      out.engineAfterDelete = (await client.stats()).engine;
      out.answerAfterDelete = await collect(client.ask(fx.question, { maxNewTokens: 12 }));
      // and it saves again from there
      out.resaved = await client.saveMemory(memoryName);
    } finally {
      await client.dispose();
    }
    // an engine with other KV settings refuses the memory and keeps its stream
    const other = EngineWorkerClient.start();
    try {
      await other.load(MODEL, { engine: { ...ENGINE, kvBits: 8 }, fps: 1, cache: false, model: { weightFormat: 'f32' } });
      await other.pushFrame(frames[0], 0);
      await other.idle();
      out.mismatch = await attempt(() => other.openMemory(memoryName));
      out.mismatchTimeline = (await other.timeline()).map((f) => `${f.frameIndex}:${f.where}`);
    } finally {
      await other.dispose();
    }
    return out;
  },
};
