// The page Playwright drives for the SDK (src/sdk/): StreamVLM exactly as an app uses it, imported
// from the public entry, on the tiny-gqa fixture model: load with progress, the stream fixture's
// frames pushed, a question answered, a live source attached (a canvas's captureStream, then a
// <video> element playing it), and the typed errors of bad input.
import { StreamVLM, StreamVlmError, resolveModelUrl, type AskEvent, type Moment, type StreamVLMStats } from '../../../src/index';
import { classifyOutOfMemory, isOutOfMemory } from '../../../src/gpu/out-of-memory';
import { decodePng, fetchOk } from './fixture-page';

interface StreamFixture {
  question: string;
  frames: { file: string; timestamp_ms: number }[];
  max_new_tokens: number;
}

export interface SdkAnswer {
  tokens: number[];
  streamed: number[];
  text: string;
  streamedText: string;
  moments: Moment[];
}

export interface SdkError {
  name: string;
  code?: string;
  message: string;
  advice?: string;
  file?: string;
  typed: boolean;
}

declare global {
  interface Window {
    sdkHarness: {
      errors: () => Promise<Record<string, unknown>>;
      stream: () => Promise<Record<string, unknown>>;
      attach: () => Promise<Record<string, unknown>>;
      camera: () => Promise<SdkError | string>;
    };
  }
}

const MODEL = '/tools/fixtures/tiny-gqa/';

function errorOf(e: unknown): SdkError {
  const err = e as StreamVlmError & { file?: string };
  return { name: err?.name, code: err?.code, message: err?.message, advice: err?.advice, ...(err?.file ? { file: err.file } : {}), typed: e instanceof StreamVlmError };
}

async function attempt(f: () => Promise<unknown>): Promise<SdkError | null> {
  try {
    await f();
    return null;
  } catch (e) {
    return errorOf(e);
  }
}

async function collect(events: AsyncIterable<AskEvent>): Promise<SdkAnswer> {
  const streamed: number[] = [];
  let streamedText = '';
  let moments: Moment[] = [];
  for await (const e of events) {
    if (e.type === 'moments') moments = e.moments;
    else if (e.type === 'token') {
      streamed.push(e.id);
      streamedText += e.text;
    } else return { tokens: e.tokens, streamed, text: e.text, streamedText, moments };
  }
  throw new Error('no done event');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls stats() (as a UI does every 500 ms) until `done` holds or `ms` pass. */
async function until(vlm: StreamVLM, done: (s: StreamVLMStats) => boolean, ms: number): Promise<StreamVLMStats> {
  const end = performance.now() + ms;
  for (;;) {
    const s = await vlm.stats();
    if (done(s) || performance.now() > end) return s;
    await sleep(250);
  }
}

/** A canvas that changes colour 30 times a second, streamed as a camera would be. */
function paintingCanvas(): { stream: MediaStream; stop: () => void } {
  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 48;
  document.body.append(canvas);
  const ctx = canvas.getContext('2d')!;
  let n = 0;
  const paint = () => {
    ctx.fillStyle = `hsl(${(n++ * 7) % 360} 80% 50%)`;
    ctx.fillRect(0, 0, 64, 48);
    ctx.fillStyle = '#fff';
    ctx.fillRect(n % 48, 10, 16, 16);
  };
  paint();
  const timer = setInterval(paint, 33);
  const stream = canvas.captureStream(30);
  return {
    stream,
    stop: () => {
      clearInterval(timer);
      for (const t of stream.getTracks()) t.stop();
      canvas.remove();
    },
  };
}

let vlm: StreamVLM | null = null;

window.sdkHarness = {
  /** Bad input: typed errors before and after a worker starts, and the model URL rules. */
  async errors() {
    const gpuOom = new GPUOutOfMemoryError('Failed to allocate 1073741824 bytes');
    return {
      missingModel: await attempt(() => StreamVLM.load('/tools/fixtures/no-such-model/', { cache: false })),
      badKvBits: await attempt(() => StreamVLM.load(MODEL, { kvBits: 3 as never })),
      badFps: await attempt(() => StreamVLM.load(MODEL, { fps: 0 })),
      badMemory: await attempt(() => StreamVLM.load(MODEL, { memoryRamMB: -1 })),
      emptyModel: await attempt(() => StreamVLM.load('  ')),
      urls: {
        hub: resolveModelUrl('HuggingFaceTB/SmolVLM2-256M-Video-Instruct'),
        hubRevision: resolveModelUrl('HuggingFaceTB/SmolVLM2-256M-Video-Instruct@abc123'),
        absolute: resolveModelUrl('/tools/fixtures/tiny-gqa'),
        relative: resolveModelUrl('models/tiny/', 'https://example.com/app/index.html'),
        dotted: resolveModelUrl('./tiny-gqa', 'https://example.com/app/'),
        full: resolveModelUrl('https://cdn.example.com/m/SmolVLM2/?x=1'),
      },
      badScheme: await attempt(async () => resolveModelUrl('ftp://example.com/m/')),
      // how out-of-memory failures are told apart (a real allocation failure cannot be forced on
      // SwiftShader, which takes host memory): WebGPU's own error, Chromium's mapped-buffer RangeError
      oom: {
        gpuError: isOutOfMemory(gpuOom),
        rangeError: isOutOfMemory(new RangeError("Failed to execute 'createBuffer' on 'GPUDevice': createBuffer failed, size (68719476736) is too large for the implementation when mappedAtCreation == true")),
        rangeOom: isOutOfMemory(new RangeError('Out of memory')),
        other: isOutOfMemory(new Error('config.json: not found')),
        classified: errorOf(classifyOutOfMemory(gpuOom, 'loading /m/')),
      },
    };
  },

  /** Load with progress, the stream fixture's 8 frames pushed at i·1000 ms, the question answered. */
  async stream() {
    const fx = (await (await fetchOk(`${MODEL}stream.json`)).json()) as StreamFixture;
    const frames = await Promise.all(fx.frames.map((f) => decodePng(`${MODEL}${f.file}`)));
    const progress: { phase: string; file: string; loaded: number; total: number | null; overall: number }[] = [];
    const t0 = performance.now();
    vlm = await StreamVLM.load(MODEL, {
      onProgress: (p) => progress.push({ phase: p.phase, file: p.file, loaded: p.loadedBytes, total: p.totalBytes, overall: p.overall.loadedBytes }),
      kvBits: 'none',
      windowFrames: 8,
      frameResize: 'image',
      timestamps: 'frames',
      maxAnswerTokens: fx.max_new_tokens,
      fps: 1,
      // no K/V in RAM beyond the window: remembered frames live in the worker's OPFS spill
      memoryRamMB: 0,
    });
    const loadMs = performance.now() - t0;
    const offers = [];
    // bitmaps are transferred to the worker (ImageData and RGB arrays are copied)
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      const bitmap = await createImageBitmap(new ImageData(new Uint8ClampedArray(f.data), f.width, f.height), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      offers.push(await vlm.pushFrame(i % 2 ? bitmap : f, i * 1000));
      // as an app feeding a recorded clip does: questions go ahead of waiting frames
      await vlm.idle();
    }
    const answer = await collect(vlm.ask(fx.question));
    return {
      loadMs,
      info: vlm.info,
      phases: [...new Set(progress.map((p) => p.phase))],
      lastProgress: progress.at(-1),
      weightsProgress: progress.filter((p) => p.file === 'model.safetensors' && p.phase === 'download').at(-1),
      offers,
      answer,
      backwards: await attempt(() => vlm!.pushFrame(frames[0], 500)),
      stats: await vlm.stats(),
    };
  },

  /** A live MediaStream (a canvas's captureStream) attached, then a <video> element playing it. */
  async attach() {
    const v = vlm!;
    const canvas = paintingCanvas();
    const out: Record<string, unknown> = {};
    try {
      const before = await v.stats();
      const t0 = performance.now();
      await v.attach(canvas.stream);
      out.firstFrameMs = performance.now() - t0;
      const s1 = await until(v, (s) => s.frames.ingested >= before.frames.ingested + 3, 20_000);
      v.detach();
      out.stream = { before: before.frames.ingested, after: s1.frames.ingested, capture: s1.capture };

      // a page's own <video>, stamped 'frames': samples continue the stream's clock one second apart
      const video = document.createElement('video');
      video.muted = true;
      video.srcObject = canvas.stream;
      document.body.append(video);
      await video.play();
      await v.attach(video, { timestamps: 'frames' });
      const s2 = await until(v, (s) => s.frames.ingested >= s1.frames.ingested + 2, 20_000);
      v.detach();
      await sleep(300);
      const s3 = await v.stats();
      out.video = { after: s2.frames.ingested, capture: s3.capture, queueDepth: s3.frames.queueDepth };
      video.remove();
      out.timeline = (await v.timeline()).map((f) => ({ i: f.frameIndex, ts: f.timestampMs, where: f.where, thumb: [f.thumbnail.width, f.thumbnail.height] }));
      // a refresh from frame 9 on: the same frames as the whole timeline's tail
      out.timelineFrom9 = (await v.timeline({ fromFrame: 9 })).map((f) => `${f.frameIndex}:${f.where}`);
      out.badTimeline = await attempt(() => v.timeline({ fromFrame: -1 }));
      out.notVideo = await attempt(() => v.attach(document.createElement('canvas') as unknown as HTMLVideoElement));
      // still answers with the window now holding the live frames
      out.answer = await collect(v.ask('What is this?', { maxNewTokens: 4 }));
      out.engine = (await v.stats()).engine;
      await v.dispose();
      out.afterDispose = await attempt(() => v.stats());
    } finally {
      canvas.stop();
    }
    return out;
  },

  /** Camera permission refused (Playwright grants none): CameraError CAMERA_DENIED. */
  async camera() {
    try {
      const s = await StreamVLM.openCamera();
      for (const t of s.getTracks()) t.stop();
      return 'opened';
    } catch (e) {
      return errorOf(e);
    }
  },
};
