// The page Playwright drives for the streaming engine: a fixture model (tools/fixtures) loaded with
// SmolVlm, the stream's frames (inputs/stream*.png) ingested into a StreamEngine with the settings a
// test asks for, and the fixture question asked; the answer, moments and stats come back.
import { StreamEngine } from '../../../src/engine/stream-engine';
import type { AskEvent, EngineStats, Moment, StreamEngineOptions } from '../../../src/engine/types';
import { StreamVlmError } from '../../../src/errors';
import { GpuDevice } from '../../../src/gpu/device';
import type { KvStoreBits } from '../../../src/memory/frame-block';
import { BlockTranscoder, transcodeStore } from '../../../src/memory/transcode';
import type { ParallelRanking } from '../../../src/memory/ranking-shard-protocol';
import { browserRankingWorkers } from '../../../src/platform/browser/ranking-workers';
import { OpfsSpill } from '../../../src/platform/browser/opfs-spill';
import type { RgbImage } from '../../../src/model/preprocess';
import { SmolVlm } from '../../../src/families/smolvlm/smolvlm';
import { UrlSource } from '../../../src/model/source';
import { twoWorkersOneCrashing } from './crashing-worker';
import { decodePng, fetchOk } from './fixture-page';

export interface StreamRunResult {
  tokens: number[];
  streamed: number[];
  text: string;
  moments: Moment[];
  evicted: (number | null)[];
  stats: EngineStats;
  timelineFrames: number[];
  ms: number;
}

/** Per bit width: the engine of that width, and the one resumed from the raw engine's store re-encoded. */
export interface TranscodeResult {
  stored: number;
  widths: Record<string, { payloadsEqual: number; summariesEqual: number; direct: number[]; transcoded: number[]; directMoments: number[]; transcodedMoments: number[]; storeBytes: [number, number] }>;
  notRaw: ErrorResult | string;
}

export interface ErrorResult {
  name: string;
  code: string;
  message: string;
}

interface StreamFixture {
  question: string;
  frames: { file: string; timestamp_ms: number }[];
  max_new_tokens: number;
}

declare global {
  interface Window {
    streamHarness: {
      run: (model: string, options: StreamEngineOptions, askOptions?: { topK?: number }, ranking?: RankingSetup) => Promise<StreamRunResult>;
      faults: (model: string) => Promise<Record<string, ErrorResult | string>>;
      pieceLengthChange: (model: string) => Promise<{ buffers: number[]; windowBytes: number[]; stored: number; tokens: number }>;
      transcoded: (model: string) => Promise<TranscodeResult>;
    };
  }
}

/**
 * Ranking for a run: in the engine's thread ('none'), two ranking workers, or two of which the
 * second crashes when the question comes (crashing-worker.ts), after it was given its frames.
 */
export type RankingSetup = 'none' | 'workers' | 'crash at the question';

function rankingWorkers(setup: RankingSetup): ParallelRanking | undefined {
  if (setup === 'none') return undefined;
  return setup === 'workers' ? browserRankingWorkers(2) : twoWorkersOneCrashing('question');
}

const gpuPromise = GpuDevice.acquire();
const base = (model: string) => `/tools/fixtures/${model}/`;
const models = new Map<string, Promise<{ model: SmolVlm; fixture: StreamFixture; frames: RgbImage[] }>>();

function load(name: string) {
  let m = models.get(name);
  if (!m) {
    m = (async () => {
      const model = await SmolVlm.load(await gpuPromise, new UrlSource(base(name)), { weightFormat: 'f32' });
      const fixture = (await (await fetchOk(`${base(name)}stream.json`)).json()) as StreamFixture;
      const frames = await Promise.all(fixture.frames.map((f) => decodePng(`${base(name)}${f.file}`)));
      return { model, fixture, frames };
    })();
    models.set(name, m);
  }
  return m;
}

async function collect(events: AsyncIterable<AskEvent>) {
  const streamed: number[] = [];
  let moments: Moment[] = [];
  let done: Extract<AskEvent, { type: 'done' }> | null = null;
  for await (const ev of events) {
    if (ev.type === 'moments') moments = ev.moments;
    else if (ev.type === 'token') streamed.push(ev.id);
    else done = ev;
  }
  if (!done) throw new Error('the answer ended without a done event');
  return { streamed, moments, done };
}

function errorResult(e: unknown): ErrorResult | string {
  if (e instanceof StreamVlmError) return { name: e.name, code: e.code, message: e.message };
  return `not a StreamVlmError: ${String(e)}`;
}

async function expectError(fn: () => Promise<unknown>): Promise<ErrorResult | string> {
  try {
    await fn();
    return 'no error';
  } catch (e) {
    return errorResult(e);
  }
}

window.streamHarness = {
  async run(name, options, askOptions = {}, ranking = 'none') {
    const { model, fixture, frames } = await load(name);
    // a RAM budget comes with a spill in this page's OPFS, as the worker sets it up
    const spill = Number.isFinite(options.ramBudgetBytes ?? Infinity) ? await OpfsSpill.create() : undefined;
    const engine = await StreamEngine.create(model, { frameResize: 'image', maxAnswerTokens: fixture.max_new_tokens, ...options }, { spill, ranking: rankingWorkers(ranking) });
    try {
      const t0 = performance.now();
      const evicted: (number | null)[] = [];
      for (let i = 0; i < frames.length; i++) evicted.push((await engine.ingest(frames[i], fixture.frames[i].timestamp_ms)).evictedFrameIndex);
      // the spill writes run in the background; wait for them so the answer reads its frames from disk
      await engine.store.settled();
      const { streamed, moments, done } = await collect(engine.ask(fixture.question, { maxNewTokens: fixture.max_new_tokens, ...askOptions }));
      return {
        tokens: done.tokens,
        streamed,
        text: done.text,
        moments,
        evicted,
        stats: engine.stats(),
        timelineFrames: engine.timeline().map((f) => f.frameIndex),
        ms: performance.now() - t0,
      };
    } finally {
      await engine.dispose();
    }
  },

  /** Bad input on a live engine: each refused with a typed error, and the stream still answers after. */
  async faults(name) {
    const { model, fixture, frames } = await load(name);
    const engine = await StreamEngine.create(model, { frameResize: 'image', windowFrames: 2, kvBits: 8, topK: 4, maxQuestionTokens: 24, maxAnswerTokens: 4 });
    const out: Record<string, ErrorResult | string> = {};
    try {
      out.askBeforeFrames = await expectError(() => collect(engine.ask(fixture.question)));
      out.zeroSize = await expectError(() => engine.ingest({ width: 0, height: 0, data: new Uint8Array(0) }, 0));
      out.huge = await expectError(() => engine.ingest({ width: 100_000, height: 2, data: new Uint8Array(3) }, 0));
      out.wrongBytes = await expectError(() => engine.ingest({ width: 4, height: 4, data: new Uint8Array(10) }, 0));
      out.notPixels = await expectError(() => engine.ingest({ width: 2, height: 2, data: [1, 2, 3] as unknown as Uint8Array }, 0));
      for (let i = 0; i < 4; i++) await engine.ingest(frames[i], fixture.frames[i].timestamp_ms);
      out.backwards = await expectError(() => engine.ingest(frames[4], 500));
      out.nanTime = await expectError(() => engine.ingest(frames[4], Number.NaN));
      out.longQuestion = await expectError(() => collect(engine.ask('why '.repeat(200))));
      out.emptyQuestion = await expectError(() => collect(engine.ask('  ')));
      out.imageTokenQuestion = await expectError(() => collect(engine.ask('what is <image> here?')));
      out.tooManyFrames = await expectError(() => collect(engine.ask(fixture.question, { topK: 99 })));
      const stats = engine.stats();
      // the stream is intact: 4 frames, 2 in the window, 2 stored; it takes the next frame and answers
      await engine.ingest(frames[4], fixture.frames[4].timestamp_ms);
      const after = await collect(engine.ask(fixture.question));
      out.intact = JSON.stringify({ ingested: stats.framesIngested, window: stats.windowFrames, store: stats.storeFrames, after: engine.stats().framesIngested, tokens: after.done.tokens.length, moments: after.moments.length });
    } finally {
      await engine.dispose();
    }
    return out;
  },

  /**
   * One raw engine (window backups on) and one engine per bit width ingest the same frames; the raw
   * engine's store is re-encoded for each width (BlockTranscoder) and an engine of that width resumes
   * it with the raw engine's window. Answers use the restored K/V, so the payloads decide them.
   */
  async transcoded(name) {
    const { model, fixture, frames } = await load(name);
    const settings = { frameResize: 'image', windowFrames: 3, topK: 5, answerContext: 'restore', maxAnswerTokens: fixture.max_new_tokens } as const;
    const widths: KvStoreBits[] = [8, 4, 2];
    const raw = await StreamEngine.create(model, { ...settings, kvBits: 'none', windowBackup: true });
    const direct = await Promise.all(widths.map((kvBits) => StreamEngine.create(model, { ...settings, kvBits })));
    const out: TranscodeResult = { stored: 0, widths: {}, notRaw: '' };
    try {
      for (let i = 0; i < frames.length; i++) {
        for (const e of [raw, ...direct]) await e.ingest(frames[i], fixture.frames[i].timestamp_ms);
      }
      out.stored = raw.store.frames;
      const index = () => raw.createRetrievalIndex();
      const state = await raw.handOver();
      for (const [w, bits] of widths.entries()) {
        // two lanes for five blocks: blocks re-encoded side by side still land in order
        const store = await transcodeStore(model.gpu, direct[w].meta, state.store, { index: index() }, 2);
        let payloadsEqual = 0;
        let summariesEqual = 0;
        for (let i = 0; i < store.frames; i++) {
          const [a, b] = [await direct[w].store.load(i), await store.load(i)];
          if (a.payload.length === b.payload.length && a.payload.every((x, j) => x === b.payload[j])) payloadsEqual++;
          if (a.keySummary.every((x, j) => Object.is(x, b.keySummary[j]))) summariesEqual++;
        }
        if (bits === 2) {
          const transcoder = new BlockTranscoder(model.gpu, direct[w].meta);
          out.notRaw = await expectError(async () => transcoder.transcode(await store.load(0)));
          transcoder.destroy();
        }
        const resumed = await StreamEngine.create(model, { ...settings, kvBits: bits }, { resume: { ...state, store, spill: null } });
        try {
          const [d, t] = [await collect(direct[w].ask(fixture.question)), await collect(resumed.ask(fixture.question))];
          out.widths[String(bits)] = {
            payloadsEqual,
            summariesEqual,
            direct: d.done.tokens,
            transcoded: t.done.tokens,
            directMoments: d.moments.map((m) => m.frameIndex),
            transcodedMoments: t.moments.map((m) => m.frameIndex),
            storeBytes: [direct[w].store.bytes, store.bytes],
          };
        } finally {
          await resumed.dispose();
        }
      }
    } finally {
      for (const e of [raw, ...direct]) await e.dispose();
    }
    return out;
  },

  async pieceLengthChange(name) {
    const { model, fixture, frames } = await load(name);
    const engine = await StreamEngine.create(model, { frameResize: 'image', windowFrames: 2, kvBits: 4, topK: 2, maxAnswerTokens: 2 });
    const buffers: number[] = [];
    const windowBytes: number[] = [];
    try {
      // 99:56 … 99:59, then 100:00 … 100:05: the printed minutes gain a digit, the frame's piece a token
      for (let i = 0; i < 10; i++) {
        await engine.ingest(frames[i % frames.length], (5996 + i) * 1000);
        buffers.push(model.gpu.tensorBuffers);
        windowBytes.push(engine.stats().windowBytes);
      }
      const answer = await collect(engine.ask(fixture.question));
      return { buffers, windowBytes, stored: engine.stats().storeFrames, tokens: answer.done.tokens.length };
    } finally {
      await engine.dispose();
    }
  },
};
