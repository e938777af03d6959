import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, expect, test, type Page } from '@playwright/test';
import { chromiumArgs, chromiumExecutable } from '../support/chromium';
import type { SdkAnswer, SdkError } from './harness/sdk';
import type { StreamVLMStats } from '../../src/sdk/stream-vlm';
import { harnessUrl, openModelHarness } from '../support/harness-page';
import { builtLibrary } from '../support/built-library';
import { staticServer } from '../support/static-server';

// The browser SDK (src/sdk/, `StreamVLM`) as an app uses it, in Chromium's WebGPU on the tiny-gqa
// fixture model: with every frame in the window and raw KV, the answer to the stream fixture's
// question must be transformers' (stream.json `full.generated`); live sources attached to it must
// deliver frames into the worker; bad input must come back as typed errors.

const stream = JSON.parse(readFileSync('tools/fixtures/tiny-gqa/stream.json', 'utf8')) as { full: { generated: number[] } };

async function open(page: Page) {
  const errors = await openModelHarness(page, harnessUrl('sdk'));
  return errors;
}

test('StreamVLM: bad input and missing models are typed errors; model ids resolve to folder URLs', async ({ page }) => {
  const errors = await open(page);
  const r = await page.evaluate(() => window.sdkHarness.errors());
  console.log(JSON.stringify(r));
  expect(r.missingModel).toMatchObject({ name: 'ModelLoadError', code: 'MODEL_LOAD', file: 'config.json', typed: true });
  expect((r.missingModel as SdkError).advice).toMatch(/model URL/);
  expect(r.badKvBits).toMatchObject({ name: 'InputError', typed: true, message: expect.stringMatching(/kvBits must be 8, 4, 2 or 'none', not 3/) });
  expect(r.badFps).toMatchObject({ name: 'InputError', message: expect.stringMatching(/fps/) });
  expect(r.badMemory).toMatchObject({ name: 'InputError', message: expect.stringMatching(/memoryRamMB must be a number ≥ 0/) });
  expect(r.emptyModel).toMatchObject({ name: 'InputError', message: expect.stringMatching(/hub id/) });
  expect(r.badScheme).toMatchObject({ name: 'InputError', message: expect.stringMatching(/http\(s\), not ftp:/) });
  const port = new URL(page.url()).port;
  expect(r.urls).toEqual({
    hub: 'https://huggingface.co/HuggingFaceTB/SmolVLM2-256M-Video-Instruct/resolve/main/',
    hubRevision: 'https://huggingface.co/HuggingFaceTB/SmolVLM2-256M-Video-Instruct/resolve/abc123/',
    absolute: `http://localhost:${port}/tools/fixtures/tiny-gqa/`,
    relative: 'https://example.com/app/models/tiny/',
    dotted: 'https://example.com/app/tiny-gqa/',
    full: 'https://cdn.example.com/m/SmolVLM2/',
  });
  expect(r.oom).toMatchObject({ gpuError: true, rangeError: false, rangeOom: true, other: false });
  expect((r.oom as { classified: SdkError }).classified).toMatchObject({ name: 'GpuOutOfMemoryError', code: 'GPU_OUT_OF_MEMORY', typed: true, message: expect.stringMatching(/loading \/m\/: the GPU ran out of memory/) });
  expect((r.oom as { classified: SdkError }).classified.advice).toMatch(/smaller model/);
  expect(errors).toEqual([]);
});

test('StreamVLM.openCamera: no camera, permission refused and granted', async ({ page, baseURL }) => {
  await open(page);
  // this browser has no camera device
  expect(await page.evaluate(() => window.sdkHarness.camera())).toMatchObject({ name: 'CameraError', code: 'CAMERA_NOT_FOUND', typed: true });
  // Chromium's fake camera; Playwright grants no permission unless told to
  const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: [...chromiumArgs(), '--use-fake-device-for-media-stream'] });
  try {
    const results: Record<string, unknown> = {};
    for (const [name, permissions] of [['denied', []], ['granted', ['camera']]] as const) {
      const context = await browser.newContext({ baseURL, permissions: [...permissions] });
      const p = await context.newPage();
      await p.goto(harnessUrl('sdk'));
      await expect(p.locator('#status')).toHaveText('ready', { timeout: 60_000 });
      results[name] = await p.evaluate(() => window.sdkHarness.camera());
      await context.close();
    }
    console.log(JSON.stringify(results));
    expect(results.denied).toMatchObject({ name: 'CameraError', code: 'CAMERA_DENIED', typed: true, advice: expect.stringMatching(/Allow camera access/) });
    expect(results.granted).toBe('opened');
  } finally {
    await browser.close();
  }
});

test('StreamVLM: loads with progress, answers the pushed stream as transformers does, and watches attached live sources', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = await open(page);
  const r = await page.evaluate(() => window.sdkHarness.stream());
  console.log(JSON.stringify({ ...r, answer: undefined, stats: undefined }).slice(0, 3000));
  expect(r.phases).toEqual(['download', 'upload', 'done']);
  expect(r.lastProgress).toMatchObject({ phase: 'done' });
  const weights = r.weightsProgress as { loaded: number; total: number };
  expect(weights.loaded).toBe(weights.total);
  expect(r.info).toMatchObject({ precision: 'f32', fromCache: false, engine: { windowFrames: 8, kvBits: 'none', frameResize: 'image' } });
  expect((r.offers as { accepted: boolean }[]).map((o) => o.accepted)).toEqual(Array(8).fill(true));

  const answer = r.answer as SdkAnswer;
  expect(answer.moments.map((m) => [m.frameIndex, m.timestampMs, m.from])).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i, i * 1000, 'window']));
  expect(answer.tokens).toEqual(stream.full.generated);
  expect(answer.streamed).toEqual(answer.tokens);
  expect(answer.streamedText).toBe(answer.text);
  expect(r.backwards).toMatchObject({ name: 'InputError', message: expect.stringMatching(/goes back before the previous frame \(7000 ms\)/) });
  const s = r.stats as StreamVLMStats;
  expect(s.frames).toMatchObject({ accepted: 8, ingested: 8, rejected: 1 });
  expect(s.engine).toMatchObject({ framesIngested: 8, windowFrames: 8, lastTimestampMs: 7000 });
  expect(s.capture).toMatchObject({ source: null, framesSent: 0 });

  const a = await page.evaluate(() => window.sdkHarness.attach());
  console.log(JSON.stringify({ ...a, timeline: undefined }).slice(0, 3000));
  const live = a.stream as { before: number; after: number; capture: StreamVLMStats['capture'] };
  expect(live.after).toBeGreaterThanOrEqual(live.before + 3);
  // Chromium reads a live stream's own track (MediaStreamTrackProcessor), not the element playing it
  expect(live.capture).toMatchObject({ source: 'stream', via: 'track', lastError: null });
  expect(live.capture.framesTaken).toBeGreaterThanOrEqual(3);
  // every frame sent was due by the worker's own sampling rule (no wasted transfers)
  expect(live.capture.framesTaken).toBe(live.capture.framesSent);
  expect(live.capture.captureFps).toBeGreaterThan(0.3);
  expect(live.capture.captureFps).toBeLessThan(1.5);
  const video = a.video as { after: number; capture: StreamVLMStats['capture'] };
  expect(video.capture).toMatchObject({ source: null, lastError: null, captureFps: 0 });
  expect(video.capture.framesSent).toBeGreaterThanOrEqual(live.capture.framesSent + 2);
  const timeline = a.timeline as { i: number; ts: number; where: string; thumb: number[] }[];
  // live frames continue the stream's clock after the pushed ones (8000 ms on), in order
  expect(timeline.slice(0, 8).map((f) => f.ts)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000]);
  expect(timeline[8].ts).toBe(8000);
  for (let i = 1; i < timeline.length; i++) expect(timeline[i].ts - timeline[i - 1].ts).toBeGreaterThanOrEqual(1000);
  // the <video> part was stamped 'frames': exactly one second apart
  const tail = timeline.slice(8 + live.capture.framesTaken).map((f) => f.ts);
  for (let i = 1; i < tail.length; i++) expect(tail[i] - tail[i - 1]).toBe(1000);
  expect(timeline.some((f) => f.where === 'memory')).toBe(true);
  expect(a.timelineFrom9).toEqual(timeline.filter((f) => f.i >= 9).map((f) => `${f.i}:${f.where}`));
  expect(a.badTimeline).toMatchObject({ name: 'InputError', message: expect.stringMatching(/fromFrame must be a frame index/) });
  expect(a.notVideo).toMatchObject({ name: 'InputError', message: expect.stringMatching(/HTMLVideoElement or a MediaStream/) });
  expect((a.answer as SdkAnswer).tokens).toHaveLength(4);
  // memoryRamMB 0: the stored frames' K/V went to the worker's OPFS spill and the answer read them back
  const engine = a.engine as NonNullable<StreamVLMStats['engine']>;
  expect(engine.storeFrames).toBeGreaterThanOrEqual(5);
  expect(engine.storeSpilledFrames).toBeGreaterThanOrEqual(1);
  expect(engine.storeRamBytes).toBeLessThan(engine.storeBytes);
  expect(engine.spillError).toBeNull();
  expect((a.answer as SdkAnswer).moments.some((m) => m.from === 'memory')).toBe(true);
  expect(a.afterDispose).toMatchObject({ name: 'InputError', message: expect.stringMatching(/disposed/) });
  expect(errors).toEqual([]);
});

// `npm run build`'s library (built once per run: e2e/support/built-library.ts), served by a plain
// static server under a sub-path (no Vite, no module rewriting): the page imports it with <script type="module">,
// and the engine worker must load from next to the library, not from the site's root.
test('the built library (dist/streamvlm.js) works from a plain page under any path', async ({ page }) => {
  test.setTimeout(180_000);
  const lib = builtLibrary();
  expect(readdirSync(join(lib, 'assets')).some((f) => /^engine-worker-.*\.js$/.test(f))).toBe(true);
  const server = await staticServer({ '/apps/plain/index.html': 'e2e/browser/pages/sdk-dist-page.html', '/apps/plain/lib/': lib, '/models/tiny-gqa/': 'tools/fixtures/tiny-gqa/' });
  const requested: string[] = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${server.url}/apps/plain/index.html`);
    const status = page.locator('#status');
    await expect(status).toHaveText(/done|error/, { timeout: 150_000 });
    expect(await status.textContent()).toBe('done');
    const r = JSON.parse((await status.getAttribute('data-result'))!);
    console.log(JSON.stringify(r));
    expect(r.phases).toEqual(['download', 'upload', 'done']);
    expect(r.moments).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(r.tokens).toEqual(stream.full.generated);
    expect(r.ingested).toBe(8);
    expect(r.missing).toEqual({ name: 'ModelLoadError', file: 'config.json', sameClass: true });
    // one worker per load (the model, then the missing one), each from next to the library
    const workers = requested.filter((p) => p.includes('engine-worker'));
    expect(workers).toHaveLength(2);
    for (const w of workers) expect(w).toMatch(/^\/apps\/plain\/lib\/assets\/engine-worker-[\w-]+\.js$/);
    expect(errors).toEqual([]);
  } finally {
    await server.close();
  }
});

