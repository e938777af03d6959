import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import type { StreamRunResult } from './harness/stream';
import { useSharedHarness } from '../support/harness-page';

// The streaming engine against transformers (tools/fixtures/*/stream.json, made by
// make_stream_fixtures.py): 8 frames streamed one by one, then the fixture's question.
// - window ≥ stream, no quantization: the one-shot prompt's greedy answer (`full`);
// - window 3, re-prefilled context (the default), every frame retrieved: the one-shot answer too;
// - window 3, answerContext 'restore': 5 frames leave the GPU for the memory store and all come back (top-k ≥ 5):
//   transformers' replay of the same sliding-window encoding (`windowed`) with raw blocks, and with
//   8/4/2-bit KIVI blocks transformers' replay given the same quantized K/V (stream.kvquant.json,
//   made by make_kvquant_fixtures.py, whose quantizer is bit-exact with the engine's). At 8 bits on
//   tiny-gqa that is the raw answer too; on tiny-split two logits 0.03 apart (1% of their spread) at
//   the 11th token swap under 8-bit rounding, in transformers as here. No step of the 4- and 2-bit
//   references has a top-2 gap under 0.01.

const MODELS = ['tiny-gqa', 'tiny-split'] as const;

interface StreamFixture {
  frames: unknown[];
  full: { generated: number[] };
  windowed: { window_frames: number; generated: number[] };
}

interface KvQuantFixture {
  kv8: { generated: number[] };
  kv4: { generated: number[] };
  kv2: { generated: number[] };
}

const readFixture = (model: string, file: string): unknown => JSON.parse(readFileSync(new URL(`../../tools/fixtures/${model}/${file}`, import.meta.url), 'utf8'));
const fixtureOf = (model: string) => readFixture(model, 'stream.json') as StreamFixture;
const kvQuantFixtureOf = (model: string) => readFixture(model, 'stream.kvquant.json') as KvQuantFixture;

// One page for the file: each model loads and compiles once for every test (loading and compiling
// dominate on a CPU adapter); the page's load errors are checked once.
/** The file's one harness page (its error list emptied for each test). */
const openHarness = useSharedHarness('stream', { modelFolders: true });

for (const model of MODELS) {
  const fx = fixtureOf(model);
  const kvq = kvQuantFixtureOf(model);
  test(`${model}: streamed answers equal transformers' (whole-stream window; 3-frame window with every frame restored, raw and 8/4/2-bit)`, async () => {
    test.setTimeout(400_000);
    const { page, errors } = await openHarness();
    const run = (options: object, ask: object = {}) => page.evaluate(([m, o, a]) => window.streamHarness.run(m, o, a), [model, options, ask] as const) as Promise<StreamRunResult>;
    const n = fx.frames.length;
    const W = fx.windowed.window_frames;

    await test.step('window holds the whole stream', async () => {
      const r = await run({ windowFrames: n, kvBits: 'none', topK: 0 });
      console.log(`${model} full: ${JSON.stringify(r.tokens)} (${r.ms.toFixed(0)} ms)`);
      expect(r.evicted.every((e) => e === null)).toBe(true);
      expect(r.tokens).toEqual(fx.full.generated);
      expect(r.streamed).toEqual(r.tokens);
      expect(r.moments.map((m) => m.frameIndex)).toEqual([...Array(n).keys()]);
      expect(r.stats.storeFrames).toBe(0);
    });

    const expected = { none: fx.windowed.generated, 8: kvq.kv8.generated, 4: kvq.kv4.generated, 2: kvq.kv2.generated };
    // tiny-gqa's raw run keeps no payload in RAM: every stored frame goes to OPFS and is read back
    const ramBudgetBytes = model === 'tiny-gqa' ? 0 : undefined;
    for (const kvBits of ['none', 8, 4, 2] as const) {
      const budget = kvBits === 'none' ? ramBudgetBytes : undefined;
      await test.step(`window ${W}, k = all, ${kvBits} bits${budget === 0 ? ', payloads on disk' : ''}`, async () => {
        // the replay restores each frame's K/V as encoded on arrival (ReKV), which answerContext 'restore' does
        const r = await run({ windowFrames: W, kvBits, topK: n, ramBudgetBytes: budget, answerContext: 'restore' });
        console.log(`${model} windowed ${kvBits}: ${JSON.stringify(r.tokens)} store ${r.stats.storeBytes} B (${r.ms.toFixed(0)} ms)`);
        // frames 0 … n−W−1 left the window, one per ingest once it was full
        expect(r.evicted).toEqual([...Array(n).keys()].map((i) => (i >= W ? i - W : null)));
        expect(r.stats.storeFrames).toBe(n - W);
        expect(r.stats.storeSpilledFrames).toBe(budget === 0 ? n - W : 0);
        expect(r.stats.spillError).toBeNull();
        expect(r.stats.windowFrames).toBe(W);
        expect(r.moments.map((m) => [m.frameIndex, m.from])).toEqual([...Array(n).keys()].map((i) => [i, i < n - W ? 'memory' : 'window']));
        expect(r.moments.filter((m) => m.from === 'memory').every((m) => typeof m.score === 'number' && Number.isFinite(m.score))).toBe(true);
        expect(r.timelineFrames).toEqual([...Array(n).keys()]);
        expect(r.tokens).toEqual(expected[kvBits]);
      });
    }

    await test.step(`window ${W}, k = all, re-prefilled (the default): the one-pass answer`, async () => {
      // every frame retrieved and re-encoded in one pass behind the sinks is the whole-stream prompt
      const r = await run({ windowFrames: W, kvBits: 4, topK: n });
      console.log(`${model} re-prefilled: ${JSON.stringify(r.tokens)} (${r.ms.toFixed(0)} ms)`);
      expect(r.moments.map((m) => [m.frameIndex, m.from])).toEqual([...Array(n).keys()].map((i) => [i, i < n - W ? 'memory' : 'window']));
      expect(r.tokens).toEqual(fx.full.generated);
    });

    if (model === 'tiny-gqa') await test.step('top-2 retrieval restores 2 stored frames, in time order', async () => {
      const r = await run({ windowFrames: W, kvBits: 4, topK: 2 });
      const mem = r.moments.filter((m) => m.from === 'memory');
      expect(mem).toHaveLength(2);
      expect(mem[0].frameIndex).toBeLessThan(mem[1].frameIndex);
      expect(r.tokens.length).toBeGreaterThan(0);
      // 4-bit blocks are about a quarter of raw f32 rows plus their scales
      console.log(`${model} top-2 4-bit: moments ${JSON.stringify(r.moments)} store ${r.stats.storeBytes} B`);
    });
    expect(errors).toEqual([]);
  });
}

test('bad frames, timestamps and questions are refused with typed errors and the stream stays intact', async () => {
  test.setTimeout(300_000);
  const { page, errors } = await openHarness();
  const r = await page.evaluate(() => window.streamHarness.faults('tiny-gqa'));
  for (const key of ['askBeforeFrames', 'zeroSize', 'huge', 'wrongBytes', 'notPixels', 'backwards', 'nanTime', 'longQuestion', 'emptyQuestion', 'imageTokenQuestion', 'tooManyFrames']) {
    expect.soft(r[key], key).toMatchObject({ name: 'InputError' });
  }
  expect(JSON.parse(r.intact as string)).toEqual({ ingested: 4, window: 2, store: 2, after: 5, tokens: 4, moments: 5 });
  expect(errors).toEqual([]);
});

test('a frame piece that grows a token at 100 minutes replaces the eviction scratch instead of adding buffers', async () => {
  test.setTimeout(300_000);
  const { page, errors } = await openHarness();
  const r = await page.evaluate(() => window.streamHarness.pieceLengthChange('tiny-gqa'));
  // the window's two frames are both 99:5x (frame 3) and both 100:0x (frame 9): their pieces differ
  expect(r.windowBytes[9]).toBeGreaterThan(r.windowBytes[3]);
  // frame 6 evicts the first 100:00 frame: a new length, whose scratch takes the old one's place
  expect(r.buffers.slice(5)).toEqual(new Array(5).fill(r.buffers[5]));
  expect(r.stored).toBe(8);
  expect(r.tokens).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test('a raw store re-encoded at 8/4/2 bits is the store an engine of that width evicts, and answers as it does', async () => {
  test.setTimeout(300_000);
  const { page, errors } = await openHarness();
  const r = await page.evaluate(() => window.streamHarness.transcoded('tiny-gqa'));
  // 8 frames through a window of 3: 5 stored
  expect(r.stored).toBe(5);
  for (const bits of ['8', '4', '2']) {
    const w = r.widths[bits];
    console.log(`tiny-gqa ${bits}-bit: direct ${JSON.stringify(w.direct)}, transcoded ${JSON.stringify(w.transcoded)}; store bytes ${w.storeBytes.join(' / ')}`);
    // bit for bit: every payload and key summary
    expect.soft(w.payloadsEqual, `${bits}-bit payloads`).toBe(5);
    expect.soft(w.summariesEqual, `${bits}-bit key summaries`).toBe(5);
    expect.soft(w.storeBytes[1], `${bits}-bit store bytes`).toBe(w.storeBytes[0]);
    // the resumed engine (raw window rebuilt from backups, the re-encoded store) answers as the direct one
    expect.soft(w.transcoded, `${bits}-bit answer`).toEqual(w.direct);
    expect.soft(w.transcodedMoments, `${bits}-bit moments`).toEqual(w.directMoments);
  }
  // the widths are really different stores
  expect(r.widths['2'].storeBytes[0]).toBeLessThan(r.widths['8'].storeBytes[0]);
  // a quantized block cannot be re-encoded: its rows are gone
  expect(r.notRaw).toMatchObject({ name: 'InputError' });
  expect(errors).toEqual([]);
});

test('ranking workers choose the same frames with the same scores, and a worker that crashes at the question costs nothing but the workers', async () => {
  test.setTimeout(300_000);
  const { page, errors } = await openHarness();
  // a 3-frame window and top-2 of the 5 stored frames at 4 bits: which two is the ranking's choice
  const run = (ranking: 'none' | 'workers' | 'crash at the question') =>
    page.evaluate(([r]) => window.streamHarness.run('tiny-gqa', { windowFrames: 3, kvBits: 4, topK: 2 }, {}, r), [ranking] as const) as Promise<StreamRunResult>;
  const alone = await run('none');
  const workers = await run('workers');
  // the second worker throws when the question comes: the engine's ranking fails with ShardLostError,
  // the index starts over in the engine's thread from the store, and the same question ranks there
  const crashed = await run('crash at the question');
  console.log(JSON.stringify({ alone: alone.moments, workers: workers.moments, crashed: crashed.moments }));
  expect(alone.moments.filter((m) => m.from === 'memory')).toHaveLength(2);
  for (const r of [workers, crashed]) {
    expect(r.moments).toEqual(alone.moments);
    expect(r.tokens).toEqual(alone.tokens);
  }
  expect([alone.stats.rankingThreads, workers.stats.rankingThreads, crashed.stats.rankingThreads]).toEqual([0, 2, 0]);
  // the crash is the dead worker's own uncaught error, reported by the browser
  expect(errors.filter((e) => !e.includes('ranking worker crashed'))).toEqual([]);
});
