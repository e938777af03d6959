// streamvlm's side of the side-by-side run (bench/peer-page.ts): the same model folder's
// safetensors, in the same page on the same adapter as the peer. Stage figures come from the model
// benchmark (model-bench.ts: one 640×480 frame through preprocessing, vision and connector; a
// frame's tokens prefilled on a cached context; greedy decode on it), the answer from memory from
// the StreamEngine after a real stream of simulated frames at 1 frame/s (stream-common.ts), asked
// at each checkpoint as browser-page.ts does. A 256M stream is ingested at ~15 frames/s on an
// H100, so an hour takes ~4 minutes: `ingestBudgetMs` or the run's deadline stops the stream early
// and the checkpoints past it are reported as not reached (none is faked with a pre-filled store).
import { StreamEngine } from '../src/engine/stream-engine';
import type { GpuDevice } from '../src/gpu/device';
import type { Precision } from '../src/kernels/common';
import { Checkpoint } from '../src/model/checkpoint';
import { parseConfig } from '../src/model/config';
import { UrlSource } from '../src/model/source';
import { SmolVlm } from '../src/families/smolvlm/smolvlm';
import { runModelBench, type ModelBenchResult } from './model-bench';
import { askFigures, checkpointFigures, median, QUESTIONS, simulatedFrame } from './stream-common';

export interface OursOptions {
  modelUrl: string;
  precision: Precision;
  contextTokens: number;
  decodeSteps: number;
  answerTokens: number;
  minutes: number[];
  ingestBudgetMs: number;
  /** Date.now() after which no more frames are ingested (the driver's time limit less a reserve for the last questions). */
  ingestDeadline: number;
  warmMs: number;
  frame: { width: number; height: number };
  log: (line: string) => void;
  /** Called at 'ours-loaded', 'ours-bench' and 'ours-stream' (the driver samples the card's memory). */
  mark: (phase: string) => Promise<void>;
}

export interface MemoryRow {
  minutes: number;
  frames: number;
  reached: boolean;
  firstTokenMs: number | null;
  decodeTokensPerSecond: number | null;
  ingestFps: number | null;
  storeFrames: number | null;
}

export interface OursResult {
  runtime: 'streamvlm';
  precision: Precision;
  weightFormat: 'f16';
  loadMs: number;
  modelBench: ModelBenchResult;
  memory: MemoryRow[];
  engineGpuMiB: number;
}

/** Text tokens before a frame's image tokens (`\nFrame from 00:01:`), model-bench's estimate. */
export const FRAME_PREFIX_TOKENS = 9;

/** The tokens model-bench prefills for one frame: its prefix, <fake><global-img>, the image tokens, <fake>. */
export const framePrefillTokens = (imageSeqLen: number) => FRAME_PREFIX_TOKENS + 3 + imageSeqLen;

export async function measureOurs(gpu: GpuDevice, o: OursOptions): Promise<OursResult> {
  const source = new UrlSource(o.modelUrl);
  const t0 = performance.now();
  const vlm = await SmolVlm.load(gpu, source, { weightFormat: 'f16', precision: o.precision });
  const loadMs = performance.now() - t0;
  o.log(`streamvlm: loaded in ${loadMs.toFixed(0)} ms (${o.precision} math, f16 weights)`);
  await o.mark('ours-loaded');
  try {
    const configText = await (await fetch(`${o.modelUrl}config.json`)).text();
    const checkpoint = await Checkpoint.open(new UrlSource(o.modelUrl));
    const modelBench = await runModelBench(gpu, {
      label: 'streamvlm',
      config: parseConfig(configText),
      checkpoint,
      format: 'f16',
      precision: o.precision,
      contextTokens: o.contextTokens,
      decodeSteps: o.decodeSteps,
      videoLongestEdge: vlm.config.vision.imageSize,
      framePrefixTokens: FRAME_PREFIX_TOKENS,
      warmMs: o.warmMs,
      log: o.log,
    });
    await o.mark('ours-bench');
    const { memory, engineGpuMiB } = await memoryRows(vlm, o);
    return { runtime: 'streamvlm', precision: o.precision, weightFormat: 'f16', loadMs, modelBench, memory, engineGpuMiB };
  } finally {
    await vlm.dispose();
  }
}

async function memoryRows(vlm: SmolVlm, o: OursOptions): Promise<{ memory: MemoryRow[]; engineGpuMiB: number }> {
  const engine = await StreamEngine.create(vlm, { windowFrames: 16, topK: 8, kvBits: 4, maxAnswerTokens: o.answerTokens });
  const askAt = o.minutes.map((m) => Math.round(m * 60));
  const last = Math.max(...askAt);
  const rows: MemoryRow[] = [];
  const ingestMs: number[] = [];
  const started = performance.now();
  let engineGpuMiB = 0;
  try {
    for (let f = 0; f < last; f++) {
      if (performance.now() - started > o.ingestBudgetMs || Date.now() > o.ingestDeadline) {
        o.log(`streamvlm: ${Date.now() > o.ingestDeadline ? "the run's time limit is near" : `ingest budget (${(o.ingestBudgetMs / 1000).toFixed(0)} s) spent`}: stream stopped after ${f} frames`);
        break;
      }
      const t = performance.now();
      await engine.ingest(simulatedFrame(f, o.frame.width, o.frame.height), f * 1000);
      ingestMs.push(performance.now() - t);
      if (askAt.includes(f + 1)) {
        const asks = [];
        for (const q of QUESTIONS) asks.push(await askFigures(engine, q, o.answerTokens));
        const c = checkpointFigures(asks, engine.stats());
        engineGpuMiB = Math.max(engineGpuMiB, c.gpuMiB);
        rows.push({ minutes: (f + 1) / 60, frames: f + 1, reached: true, firstTokenMs: c.firstTokenMs, decodeTokensPerSecond: c.decodeTokensPerSecond, ingestFps: 1000 / median(ingestMs.slice(-40)), storeFrames: c.storeFrames });
        o.log(`streamvlm memory @${f + 1} frames: ${JSON.stringify(rows[rows.length - 1])}`);
      }
      if ((f + 1) % 300 === 0) o.log(`streamvlm: ${f + 1} frames ingested (${(1000 / median(ingestMs.slice(-40))).toFixed(1)} frames/s)`);
    }
    await o.mark('ours-stream');
  } finally {
    await engine.dispose();
  }
  for (const m of o.minutes) if (!rows.some((r) => r.frames === Math.round(m * 60))) rows.push({ minutes: m, frames: Math.round(m * 60), reached: false, firstTokenMs: null, decodeTokensPerSecond: null, ingestFps: null, storeFrames: null });
  rows.sort((a, b) => a.frames - b.frames);
  return { memory: rows, engineGpuMiB };
}
