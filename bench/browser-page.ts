// Browser entry of the model and streaming benchmarks (bench/browser-bench.mjs drives it in headless
// Chromium): SmolVLM2 at the published shapes with random weights — frame, prefill, decode, memory
// (model-bench.ts) for each math precision this adapter offers, then a short simulated stream through
// the StreamEngine (time to first token, ingest rate, GPU memory).
import { StreamEngine } from '../src/engine/stream-engine';
import { GpuDevice } from '../src/gpu/device';
import { OpfsSpill } from '../src/platform/browser/opfs-spill';
import { parseConfig, type SmolVlmConfig } from '../src/model/config';
import type { Checkpoint } from '../src/model/checkpoint';
import { SmolVlm } from '../src/families/smolvlm/smolvlm';
import { precisionsOf } from '../src/selfcheck/index';
import { runModelBench, type ModelBenchResult } from './model-bench';
import { CONFIG_JSON, modelConfig, type ModelName } from './model-shapes';
import { randomCheckpoint } from './random-checkpoint';
import { fullKvFill, fullKvPositions, reencode } from './stream-baselines';
import { askFigures, checkpointFigures, median, QUESTIONS, simulatedFrame } from './stream-common';
import { syntheticModelSource } from './synthetic-model';
import { decodeHost } from './decode-host';
import { TextModel } from '../src/model/text-model';

declare global {
  interface Window {
    benchDone?: unknown;
  }
}

const logEl = document.getElementById('log')!;
const log = (line: string) => (logEl.textContent += `${line}\n`);
const params = new URLSearchParams(location.search);
const quick = params.has('quick');
const name: ModelName = quick ? 'quick' : params.get('model') === '500m' ? '500m' : '256m';
// ?streamMinutes=1,10,60 — questions at each point of a simulated 1 frame/s stream (default 1,2);
// ?streamOnly skips the model figures
const streamMinutes = (params.get('streamMinutes') ?? (quick ? '0.2,0.4' : '1,2')).split(',').map(Number);
const streamOnly = params.has('streamOnly');
// ?ramBudgetMB=0 — the store keeps that many MiB of K/V in RAM and the rest in an OPFS spill (the SDK's memoryRamMB)
const ramBudgetMB = params.has('ramBudgetMB') ? Number(params.get('ramBudgetMB')) : null;
// ?baselines — after the stream, in the same page: the full-KV and re-encode baselines at the same points
const baselines = params.has('baselines');
// ?decodeHost — only the host's side of a decode step, by the code and from a step plan
// (bench/decode-host.ts), recorded and discarded (?submit: submitted too), in f32 math
const decodeHostOnly = params.has('decodeHost');

try {
  logEl.textContent = '';
  const gpu = await GpuDevice.acquire();
  const config = modelConfig(name);
  const { checkpoint } = await randomCheckpoint(config);
  window.benchDone = decodeHostOnly ? await decodeHostPage(gpu, checkpoint, config) : await modelAndStream(gpu, checkpoint, config);
} catch (e) {
  window.benchDone = { error: String(e instanceof Error ? `${e.message}\n${e.stack}` : e) };
}

/** ?decodeHost: the host's side of a decode step, both ways (bench/decode-host.ts). */
async function decodeHostPage(gpu: GpuDevice, checkpoint: Checkpoint, config: SmolVlmConfig): Promise<unknown> {
  const text = TextModel.load(gpu, checkpoint, config, { weightFormat: 'f16', precision: 'f32' });
  const result = await decodeHost(gpu, text, { context: 200, steps: quick ? 128 : 512, recordOnly: !params.has('submit'), log });
  text.destroy();
  return { host: 'chromium', userAgent: navigator.userAgent, adapter: gpu.adapter, features: gpu.features, model: name, results: [], decodeHost: result };
}

/** The model figures in each precision, then a short stream through the engine (and its baselines). */
async function modelAndStream(gpu: GpuDevice, checkpoint: Checkpoint, config: SmolVlmConfig): Promise<unknown> {
  const precisions = precisionsOf(gpu);
  const model: ModelBenchResult[] = [];
  for (const precision of streamOnly ? [] : precisions) {
    model.push(
      await runModelBench(gpu, {
        label: `SmolVLM2-${name.toUpperCase()}`,
        config,
        checkpoint,
        format: 'f16',
        precision,
        contextTokens: quick ? 64 : 1000,
        decodeSteps: quick ? 16 : 32,
        videoLongestEdge: quick ? 128 : 2048,
        framePrefixTokens: 9,
        warmMs: quick ? 50 : 1000,
        log,
      }),
    );
  }

  // a short stream at 1 frame/s through the engine, in the adapter's best precision
  const precision = precisions[precisions.length - 1];
  const tokenizer = await (await fetch('/tools/fixtures/tiny-gqa/tokenizer.json')).text();
  const { source } = syntheticModelSource(CONFIG_JSON[name], parseConfig(JSON.stringify(CONFIG_JSON[name])), tokenizer);
  const vlm = await SmolVlm.load(gpu, source, { weightFormat: 'f16', precision });
  const spill = ramBudgetMB === null ? undefined : await OpfsSpill.create();
  const engine = await StreamEngine.create(vlm, { windowFrames: 16, topK: 8, kvBits: 4, maxAnswerTokens: 16, ramBudgetBytes: ramBudgetMB === null ? undefined : ramBudgetMB * 2 ** 20 }, { spill });
  const askAt = streamMinutes.map((m) => Math.round(m * 60));
  const frames = Math.max(...askAt);
  const [w, h] = quick ? [96, 72] : [640, 480];
  const ingestMs: number[] = [];
  const checkpoints = [];
  for (let f = 0; f < frames; f++) {
    const t0 = performance.now();
    await engine.ingest(simulatedFrame(f, w, h), f * 1000);
    ingestMs.push(performance.now() - t0);
    if (askAt.includes(f + 1)) {
      const asks = [];
      for (const q of QUESTIONS) asks.push(await askFigures(engine, q, 16));
      checkpoints.push({ minutes: (f + 1) / 60, frames: f + 1, ...checkpointFigures(asks, engine.stats()), ingestFps: 1000 / median(ingestMs.slice(-40)) });
      log(`stream @${f + 1} frames: ${JSON.stringify(checkpoints[checkpoints.length - 1])}`);
    }
  }
  const sinkTokens = engine.sinkTokens;
  await engine.dispose();
  let baselineRows: Record<string, unknown> | null = null;
  if (baselines) {
    const reencodeRows = await reencode(gpu, vlm, streamMinutes, (i) => simulatedFrame(i, w, h), 16, log);
    await vlm.dispose();
    // the full-KV caches need positions for every frame of the longest stream
    const json = structuredClone(CONFIG_JSON[name]) as { text_config: Record<string, unknown> };
    json.text_config.max_position_embeddings = fullKvPositions(frames);
    const full = await SmolVlm.load(gpu, syntheticModelSource(json, parseConfig(JSON.stringify(json)), tokenizer).source, { weightFormat: 'f16', precision });
    const fullKvRows = await fullKvFill(gpu, full, sinkTokens, streamMinutes, 16, log);
    await full.dispose();
    baselineRows = { reencode: reencodeRows, fullKvFill: fullKvRows };
  } else {
    await vlm.dispose();
  }
  return { host: 'chromium', userAgent: navigator.userAgent, adapter: gpu.adapter, features: gpu.features, model: name, results: model, stream: { precision, window: 16, topK: 8, kvBits: 4, ramBudgetMB, checkpoints, baselines: baselineRows } };
}
