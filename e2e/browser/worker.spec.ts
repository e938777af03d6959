import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import type { WorkerStats } from '../../src/worker/protocol';
import type { Answer, ErrorResult } from './harness/worker';
import { harnessUrl, openModelHarness } from '../support/harness-page';

// The engine in its Web Worker behind comlink, as the SDK drives it (src/worker/client.ts), on the
// tiny-gqa fixture model in Chromium's WebGPU. With a window of all 8 frames and raw KV, the
// answer to the stream fixture's question must be transformers' (stream.json `full.generated`),
// whether the frames came as VideoFrames, ImageBitmaps, ImageData or RGB arrays, and again from a
// new worker that reopened the memory saved to OPFS.

const stream = JSON.parse(readFileSync('tools/fixtures/tiny-gqa/stream.json', 'utf8')) as { full: { generated: number[] } };

async function open(page: Page) {
  const errors = await openModelHarness(page, harnessUrl('worker'));
  return errors;
}

test('frame conversion: VideoFrame, ImageBitmap, ImageData and RGB arrays give the same pixels', async ({ page }) => {
  const errors = await open(page);
  const r = await page.evaluate(() => window.workerHarness.conversions());
  console.log(JSON.stringify(r));
  for (const name of ['VideoFrame (RGBA, from a bitmap)', 'ImageBitmap', 'ImageData', 'RgbImage']) {
    expect(r[name], name).toEqual({ width: 64, height: 48, maxDiff: 0 });
  }
  expect(r['VideoFrame (RGBA, from a bitmap) closed']).toBe('null');
  expect(r['ImageBitmap closed']).toBe('0');
  // a camera's I420 frame: BT.601 conversion within rounding
  const i420 = r['VideoFrame (I420)'] as { width: number; height: number; maxDiff: number };
  expect([i420.width, i420.height]).toEqual([16, 8]);
  expect(i420.maxDiff).toBeLessThanOrEqual(3);
  expect(errors).toEqual([]);
});

test('the worker streams, answers as transformers does, refuses bad input with typed errors, saves and reopens its memory', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = await open(page);
  const name = 'worker-e2e';
  const r = await page.evaluate((n) => window.workerHarness.live(n), name);
  console.log(JSON.stringify({ ...r, timeline: undefined, statsDuring: undefined }).slice(0, 4000));

  const loadError = r.loadError as ErrorResult;
  expect(loadError).toMatchObject({ name: 'ModelLoadError', code: 'MODEL_LOAD', file: 'config.json', sameClass: true });
  expect(loadError.advice).toMatch(/model URL/);
  expect(r.phases).toEqual(expect.arrayContaining(['download', 'upload', 'done']));

  // 12 offers: the 4 frames taken, the 8 flood frames sampled out
  const offers = r.offers as { accepted: boolean; reason?: string }[];
  expect(offers.map((o) => o.accepted)).toEqual([true, false, false, true, false, false, true, false, false, true, false, false]);
  expect(offers[1]).toEqual({ accepted: false, reason: 'sampled-out' });

  // the question asked after frame 3 sees frames 0–3 only; 4–7 arrived while it was answered
  const first = r.first as Answer;
  expect(first.moments.map((m) => m.frameIndex)).toEqual([0, 1, 2, 3]);
  expect((r.during as { accepted: boolean }[]).every((o) => o.accepted)).toBe(true);
  const during = r.statsDuring as WorkerStats;
  expect(during.frames.asksPending).toBe(1);
  expect(during.engine!.framesIngested).toBe(4);
  expect(first.tokens).toHaveLength(12);
  expect(first.streamed).toEqual(first.tokens);

  const e = r.errors as Record<string, ErrorResult>;
  for (const [k, v] of Object.entries(e)) expect(v, k).toMatchObject({ name: 'InputError', code: 'INPUT', sameClass: true });
  expect(e.backwards.message).toMatch(/goes back before the previous frame/);
  expect(e.zeroSize.message).toMatch(/0×0/);
  expect(e.huge.message).toMatch(/9000×2 frame exceeds 8192 px/);
  expect(e.shortData.message).toMatch(/100 bytes do not make a 64×48/);
  expect(e.unknown.message).toMatch(/VideoFrame, ImageBitmap, ImageData/);
  expect(e.emptyQuestion.message).toMatch(/question is empty/);
  expect(e.missingMemory.message).toMatch(/nothing is saved as "never-saved-here"/);

  // all 8 frames in the window, raw KV: transformers' greedy answer
  const full = r.full as Answer;
  expect(full.moments.map((m) => [m.frameIndex, m.from])).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i, 'window']));
  expect(full.tokens).toEqual(stream.full.generated);
  expect(full.streamed).toEqual(full.tokens);

  const s = r.stats as WorkerStats;
  expect(s.frames).toMatchObject({ offered: 22, accepted: 8, ingested: 8, sampledOut: 8, rejected: 6, droppedQueueFull: 0, failed: 0, queueDepth: 0, asksPending: 0 });
  expect(s.engine).toMatchObject({ framesIngested: 8, windowFrames: 8, storeFrames: 0, lastTimestampMs: 7000 });
  expect(s.engine!.gpuBytes).toBeGreaterThan(0);
  // every weight and cache tensor is a live buffer (the soak watches this count stay flat)
  expect(s.engine!.gpuBuffers).toBeGreaterThan(10);
  expect(s.engine!.windowBytes).toBeGreaterThan(0);
  expect(s.engine!.stageMs.encode).toBeGreaterThan(0);
  expect(s.deviceLost).toBeNull();
  expect((r.timeline as { frameIndex: number }[]).map((f) => f.frameIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(r.paused).toEqual({ accepted: false, reason: 'paused' });

  expect(r.save).toMatchObject({ blocks: 8, written: 8, kept: 0 });
  expect(r.saveAgain).toMatchObject({ blocks: 8, written: 0, kept: 8 });
  expect(r.memories).toContain(name);

  // a new worker, as after a reload: the memory reopens and answers the same
  const again = await page.evaluate((n) => window.workerHarness.reopen(n), name);
  console.log(JSON.stringify(again).slice(0, 3000));
  expect(again.opened).toEqual({ frames: 8, lastTimestampMs: 7000 });
  expect(again.saveAfterOpen).toMatchObject({ blocks: 8, written: 0, kept: 8 });
  expect(again.timeline).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${i}:memory`));
  const answer = again.answer as Answer;
  expect(answer.moments.map((m) => [m.frameIndex, m.from])).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i, 'memory']));
  expect(answer.tokens).toEqual(stream.full.generated);
  expect(again.backwards).toMatchObject({ name: 'InputError', message: expect.stringMatching(/goes back before the previous frame \(7000 ms\)/) });
  expect(again.next).toMatchObject({ accepted: true });
  expect((again.stats as WorkerStats).engine).toMatchObject({ framesIngested: 9, storeFrames: 8, windowFrames: 1 });
  expect(again.reopened).toEqual({ frames: 8, lastTimestampMs: 7000 });
  expect(again.timelineAfter).toEqual(again.timeline);
  // opened lazily: the saved payloads stay in their files until the memory is deleted
  expect(again.engineAfterOpen).toMatchObject({ storeFrames: 8, storeSpilledFrames: 8 });
  expect(again.deleted).toBe(true);
  expect(again.memoriesAfterDelete).not.toContain(name);
  expect(again.engineAfterDelete).toMatchObject({ storeFrames: 8, storeSpilledFrames: 0 });
  expect((again.answerAfterDelete as Answer).tokens).toEqual(stream.full.generated);
  expect(again.resaved).toMatchObject({ blocks: 8, written: 8 });
  expect(again.mismatch).toMatchObject({ name: 'InputError', message: expect.stringMatching(/saved with bits none; this engine has 8/) });
  expect(again.mismatchTimeline).toEqual(['0:window']);
  expect(errors).toEqual([]);
});
