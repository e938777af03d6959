// Shared by the streaming benchmarks in Node (stream-node.ts) and Chromium (browser-page.ts).
import type { StreamEngine } from '../src/engine/stream-engine';
import type { AskEvent, EngineStats } from '../src/engine/types';
import type { RgbImage } from '../src/model/preprocess';

/** A simulated camera frame: a drifting gradient with a moving block, different every second. */
export function simulatedFrame(i: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const bx = (i * 7) % width;
  const by = (i * 3) % height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const inBlock = x >= bx && x < bx + width / 6 && y >= by && y < by + height / 6;
      data[o] = inBlock ? 240 : (x + i * 5) & 255;
      data[o + 1] = inBlock ? 200 : (y * 2 + i) & 255;
      data[o + 2] = inBlock ? 30 : (i * 11) & 255;
    }
  }
  return { width, height, data, channels: 3 };
}

/** The questions every streaming benchmark asks at each checkpoint (medians are over these). */
export const QUESTIONS = ['What did I put on the table?', 'What colour was the car that drove past?', 'When did the person leave the room?'];

export interface AskFigures {
  firstTokenMs: number;
  retrieveMs: number;
  /** Parts of retrieveMs (AskTiming). */
  queryMs: number;
  rankMs: number;
  restoreMs: number;
  tokensPerSecond: number;
  tokens: number[];
  firstLogits?: Float32Array;
  moments: number;
}

export async function askFigures(engine: StreamEngine, q: string, maxNewTokens: number, withLogits = false): Promise<AskFigures> {
  let done: Extract<AskEvent, { type: 'done' }> | null = null;
  let moments = 0;
  for await (const ev of engine.ask(q, { maxNewTokens, withLogits })) {
    if (ev.type === 'done') done = ev;
    if (ev.type === 'moments') moments = ev.moments.length;
  }
  const d = done!;
  return { firstTokenMs: d.timing.firstTokenMs, retrieveMs: d.timing.retrieveMs, queryMs: d.timing.queryMs, rankMs: d.timing.rankMs, restoreMs: d.timing.restoreMs, tokensPerSecond: d.timing.tokensPerSecond, tokens: d.tokens, firstLogits: d.firstLogits, moments };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** What both streaming benchmarks report at a checkpoint: medians over its questions, and the engine's sizes. */
export function checkpointFigures(asks: AskFigures[], s: EngineStats) {
  return {
    firstTokenMs: median(asks.map((a) => a.firstTokenMs)),
    retrieveMs: median(asks.map((a) => a.retrieveMs)),
    ...retrievalParts(asks),
    decodeTokensPerSecond: median(asks.map((a) => a.tokensPerSecond)),
    gpuMiB: s.gpuBytes / 2 ** 20,
    storeFrames: s.storeFrames,
    storeBytesPerFrame: s.storeFrames ? s.storeBytes / s.storeFrames : 0,
    storeRamMiB: s.storeRamBytes / 2 ** 20,
    storeSpilledFrames: s.storeSpilledFrames,
    spillError: s.spillError,
    stageMs: s.stageMs,
  };
}

/** Medians of the retrieval parts over a checkpoint's questions. */
export const retrievalParts = (asks: AskFigures[]) => ({
  queryMs: median(asks.map((a) => a.queryMs)),
  rankMs: median(asks.map((a) => a.rankMs)),
  restoreMs: median(asks.map((a) => a.restoreMs)),
});
