// Streaming-memory benchmark in Node (Dawn): SmolVLM2 shapes with random weights (bench/synthetic-model.ts)
// watching a simulated stream at 1 frame/s, answering questions at checkpoints.
//
//   node dist-node/stream.js --mode memory   [--500m] [--minutes 1,10,60] [--kv-bits 4] [--window 16] [--top-k 8]
//   node dist-node/stream.js --mode full-kv  [--minutes 1,10,60]   baseline: every frame's KV stays on the GPU
//   node dist-node/stream.js --mode full-kv-fill [--minutes 1,10,60] the same baseline's question cost
//        with the cache rows written directly instead of ingested (an hour of full-attention ingest
//        does not fit a 10-minute run); real frames for the first checkpoint calibrate it
//   node dist-node/stream.js --mode reencode [--minutes 1,10,60]   baseline: re-encode 8 sampled frames per question
//   node dist-node/stream.js --mode quality  [--minutes 5]         8/4/2-bit stores vs raw on the same stream
//   common: [--precision f16|f32] [--quick] [--out file.json]
//
// Progress on stderr; a markdown summary and one JSON line (last) on stdout.
import { readFileSync, writeFileSync } from 'node:fs';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import { StreamEngine } from '../src/engine/stream-engine';
import type { StreamEngineOptions } from '../src/engine/types';
import type { GpuDevice } from '../src/gpu/device';
import type { Precision } from '../src/kernels/common';
import { parseConfig } from '../src/model/config';
import { SmolVlm } from '../src/families/smolvlm/smolvlm';
import type { KvStoreBits } from '../src/memory/frame-block';
import { CONFIG_JSON, type ModelName } from './model-shapes';
import { askFigures, checkpointFigures, median, QUESTIONS, simulatedFrame, type AskFigures } from './stream-common';
import { fullKvFill, fullKvPositions, reencode } from './stream-baselines';
import { syntheticModelSource } from './synthetic-model';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const quick = argv.includes('--quick');
const modelName: ModelName = quick ? 'quick' : argv.includes('--500m') ? '500m' : '256m';
const mode = option('--mode', 'memory');
const minutes = option('--minutes', mode === 'quality' ? '5' : '1,10,60').split(',').map(Number);
const log = (line: string) => console.error(`[stream-bench] ${line}`);
const ANSWER_TOKENS = 16;
const FRAME_W = quick ? 96 : 640;
const FRAME_H = quick ? 72 : 480;
const frameAt = (i: number) => simulatedFrame(i, FRAME_W, FRAME_H);
const ask = (engine: StreamEngine, q: string, withLogits = false) => askFigures(engine, q, ANSWER_TOKENS, withLogits);

async function loadModel(gpu: GpuDevice, precision: Precision, maxPositions?: number): Promise<SmolVlm> {
  const json = structuredClone(CONFIG_JSON[modelName]) as { text_config: Record<string, unknown> };
  if (maxPositions) json.text_config.max_position_embeddings = maxPositions;
  const config = parseConfig(JSON.stringify(json));
  const t0 = performance.now();
  const { source, fileBytes } = syntheticModelSource(json, config, readFileSync('tools/fixtures/tiny-gqa/tokenizer.json', 'utf8'));
  const model = await SmolVlm.load(gpu, source, { weightFormat: 'f16', precision });
  log(`model ${modelName} (${(fileBytes / 2 ** 20).toFixed(0)} MiB f16, max positions ${config.text.maxPositions}) loaded in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  return model;
}

/** Streams to each checkpoint and asks there; window/store/GPU figures per checkpoint. */
async function streamWithCheckpoints(engine: StreamEngine, label: string) {
  const rows: Record<string, unknown>[] = [];
  let frame = 0;
  let recent: number[] = [];
  for (const m of minutes) {
    const until = Math.round(m * 60);
    const t0 = performance.now();
    for (; frame < until; frame++) {
      const t = performance.now();
      await engine.ingest(frameAt(frame), frame * 1000);
      recent.push(performance.now() - t);
      if (recent.length > 120) recent = recent.slice(-120);
      if (frame % 300 === 299) log(`${label}: ${frame + 1} frames, ${(engine.stats().gpuBytes / 2 ** 20).toFixed(0)} MiB GPU, last ingest ${recent[recent.length - 1].toFixed(1)} ms`);
    }
    const s = engine.stats();
    const asks: AskFigures[] = [];
    for (const q of QUESTIONS) asks.push(await ask(engine, q));
    const row = {
      minutes: m,
      frames: s.framesIngested,
      ...checkpointFigures(asks, s),
      momentsUsed: asks[0].moments,
      windowFrames: s.windowFrames,
      windowMiB: s.windowBytes / 2 ** 20,
      storeMiB: s.storeBytes / 2 ** 20,
      ingestMsMedianLast120: median(recent),
      ingestFps: 1000 / median(recent),
      streamSeconds: (performance.now() - t0) / 1e3,
    };
    log(`${label} @${m} min: ${JSON.stringify(row)}`);
    rows.push(row);
  }
  return rows;
}

const gpu = await acquireNodeGpu();
const precision = (option('--precision', gpu.features.f16 ? 'f16' : 'f32')) as Precision;
log(`adapter: ${gpu.adapter.vendor} ${gpu.adapter.architecture} ${gpu.adapter.description} (shader-f16 ${gpu.features.f16}); ${precision} math`);
const window = Number(option('--window', '16'));
const topK = Number(option('--top-k', '8'));
const bitsArg = option('--kv-bits', '4');
const kvBits: KvStoreBits = bitsArg === 'none' ? 'none' : (Number(bitsArg) as KvStoreBits);
const result: Record<string, unknown> = { host: 'node-dawn', adapter: gpu.adapter, model: modelName, precision, mode, window, topK, kvBits, frame: [FRAME_W, FRAME_H], answerTokens: ANSWER_TOKENS };

if (mode === 'memory') {
  const model = await loadModel(gpu, precision);
  const engine = await StreamEngine.create(model, { windowFrames: window, topK, kvBits, maxAnswerTokens: ANSWER_TOKENS });
  result.maxFrameTokens = engine.maxFrameTokens;
  result.sinkTokens = engine.sinkTokens;
  result.checkpoints = await streamWithCheckpoints(engine, `memory ${String(kvBits)}-bit W${window} k${topK}`);
} else if (mode === 'full-kv') {
  // every frame's KV on the GPU at full precision: a window as long as the stream (positions raised to fit)
  const frames = Math.round(Math.max(...minutes) * 60);
  const model = await loadModel(gpu, precision, fullKvPositions(frames));
  const engine = await StreamEngine.create(model, { windowFrames: frames, topK: 0, kvBits: 'none', maxAnswerTokens: ANSWER_TOKENS });
  result.checkpoints = await streamWithCheckpoints(engine, 'full-kv');
} else if (mode === 'full-kv-fill') {
  // the full-KV baseline's question cost on caches written directly (stream-baselines.ts); the first
  // checkpoint is also run with real frames, which calibrates it
  const frames = Math.round(Math.max(...minutes) * 60);
  const model = await loadModel(gpu, precision, fullKvPositions(frames));
  const probe = await StreamEngine.create(model, { windowFrames: 2, topK: 0, kvBits: 'none', maxAnswerTokens: ANSWER_TOKENS });
  const S = probe.sinkTokens;
  await probe.dispose();
  result.checkpoints = await fullKvFill(gpu, model, S, minutes, ANSWER_TOKENS, log);
  // calibration: the engine with real frames at the first checkpoint
  const engine = await StreamEngine.create(model, { windowFrames: Math.round(minutes[0] * 60), topK: 0, kvBits: 'none', maxAnswerTokens: ANSWER_TOKENS });
  const saved = minutes.slice();
  minutes.splice(0, minutes.length, minutes[0]);
  result.calibration = await streamWithCheckpoints(engine, 'full-kv real frames');
  minutes.splice(0, minutes.length, ...saved);
  await engine.dispose();
} else if (mode === 'reencode') {
  result.checkpoints = await reencode(gpu, await loadModel(gpu, precision), minutes, frameAt, ANSWER_TOKENS, log);
} else if (mode === 'quality') {
  // the same stream into raw, 8, 4 and 2-bit stores; questions at 4 points; first-token logits compared
  const model = await loadModel(gpu, precision);
  const settings: StreamEngineOptions = { windowFrames: window, topK, maxAnswerTokens: ANSWER_TOKENS };
  const variants: KvStoreBits[] = ['none', 8, 4, 2];
  const engines = await Promise.all(variants.map((kv) => StreamEngine.create(model, { ...settings, kvBits: kv })));
  const total = Math.round(minutes[0] * 60);
  const askAt = [0.25, 0.5, 0.75, 1].map((f) => Math.round(f * total) - 1);
  const per: Record<string, { maxAbs: number[]; relRms: number[]; top1: number[]; sameTokens: number[] }> = {};
  for (const v of variants.slice(1)) per[String(v)] = { maxAbs: [], relRms: [], top1: [], sameTokens: [] };
  for (let f = 0; f < total; f++) {
    const img = frameAt(f);
    for (const e of engines) await e.ingest(img, f * 1000);
    if (!askAt.includes(f)) continue;
    for (const q of QUESTIONS) {
      const answers = [];
      for (const e of engines) answers.push(await ask(e, q, true));
      const ref = answers[0];
      const refLogits = ref.firstLogits!;
      let refSq = 0;
      let mean = 0;
      for (const x of refLogits) mean += x / refLogits.length;
      for (const x of refLogits) refSq += (x - mean) ** 2;
      const refStd = Math.sqrt(refSq / refLogits.length);
      const argmax = (a: Float32Array) => a.reduce((bi, x, i, arr) => (x > arr[bi] ? i : bi), 0);
      answers.slice(1).forEach((a, i) => {
        const l = a.firstLogits!;
        let maxAbs = 0;
        let sq = 0;
        for (let j = 0; j < l.length; j++) {
          const d = Math.abs(l[j] - refLogits[j]);
          maxAbs = Math.max(maxAbs, d);
          sq += d * d;
        }
        const p = per[String(variants[i + 1])];
        p.maxAbs.push(maxAbs);
        p.relRms.push(Math.sqrt(sq / l.length) / refStd);
        p.top1.push(argmax(l) === argmax(refLogits) ? 1 : 0);
        let same = 0;
        while (same < ref.tokens.length && a.tokens[same] === ref.tokens[same]) same++;
        p.sameTokens.push(same / ref.tokens.length);
      });
    }
    log(`quality: asked at frame ${f}`);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  result.quality = Object.fromEntries(
    Object.entries(per).map(([bits, p]) => [
      bits,
      { questions: p.top1.length, logitMaxAbs: Math.max(...p.maxAbs), logitRmsOverStd: mean(p.relRms), top1Agreement: mean(p.top1), answerPrefixAgreement: mean(p.sameTokens) },
    ]),
  );
  result.storeBytesPerFrame = Object.fromEntries(engines.map((e, i) => [String(variants[i]), e.stats().storeBytes / Math.max(1, e.stats().storeFrames)]));
  log(`quality: ${JSON.stringify(result.quality)} bytes/frame ${JSON.stringify(result.storeBytesPerFrame)}`);
} else {
  throw new Error(`--mode must be memory, full-kv, reencode or quality, got ${mode}`);
}

console.log(JSON.stringify(result));
const out = option('--out', '');
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 1));
gpu.destroy();
process.exit(0);
