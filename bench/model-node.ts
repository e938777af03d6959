// Node entry of the model benchmark (Dawn): SmolVLM2 at real sizes with random weights.
//
//   node dist-node/model.js [--500m] [--format f16|f32|q8|q4] [--precision f32|f16] [--quick] [--load-only]
//                           [--context 1000] [--steps 32] [--video-edge 2048] [--per-dispatch] [--out file.json]
//
// --per-dispatch: also one frame, prefill and decode step with every dispatch timed on its own
// (timestamp-query), summed by pipeline into the JSON's `kernels`: where each stage's GPU time goes.
//
// Progress goes to stderr; stdout gets a markdown table, then one JSON line (last line).
import { writeFileSync } from 'node:fs';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import type { Precision } from '../src/kernels/common';
import { WEIGHT_FORMATS, type WeightFormat } from '../src/kernels/weights';
import { markdownTable, runModelBench, type ModelBenchResult } from './model-bench';
import { EXPECTED_PARAMETERS, modelConfig, type ModelName } from './model-shapes';
import { randomCheckpoint } from './random-checkpoint';
import { Connector } from '../src/model/connector';
import { TextModel } from '../src/model/text-model';
import { VisionTower } from '../src/model/vision';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
function option(name: string, fallback: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
}
const int = (name: string, fallback: number) => {
  const v = Number(option(name, String(fallback)));
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  return v;
};

const quick = flag('--quick');
const model: ModelName = quick ? 'quick' : flag('--500m') ? '500m' : '256m';
const format = option('--format', 'f16') as WeightFormat;
if (!WEIGHT_FORMATS.includes(format)) throw new Error(`--format must be one of ${WEIGHT_FORMATS.join(', ')}`);
// quick: a short context too (SwiftShader's attention over 1000 keys takes ~1 s per token)
const contextTokens = int('--context', quick ? 64 : 1000);
// at least 32 greedy steps per run at real sizes; quick mode takes 16 to stay under 2 minutes on SwiftShader
const decodeSteps = quick ? int('--steps', 16) : Math.max(32, int('--steps', 32));
const videoLongestEdge = int('--video-edge', quick ? 128 : 2048);
const log = (line: string) => console.error(`[model-bench] ${line}`);

const gpu = await acquireNodeGpu();
log(`adapter: ${gpu.adapter.vendor} ${gpu.adapter.architecture} ${gpu.adapter.description} (shader-f16: ${gpu.features.f16}, timestamps: ${gpu.features.timestamps})`);
const wanted = option('--precision', 'all');
const precisions: Precision[] = (['f32', 'f16'] as const).filter((p) => (wanted === 'all' || wanted === p) && (p === 'f32' || gpu.features.f16));
if (precisions.length === 0) throw new Error(`--precision ${wanted}: not available on this adapter (shader-f16: ${gpu.features.f16})`);

const config = modelConfig(model);
let t0 = performance.now();
const { checkpoint, parameters, fileBytes } = await randomCheckpoint(config);
const expected = EXPECTED_PARAMETERS[model];
if (expected !== undefined && parameters !== expected) throw new Error(`random ${model} checkpoint has ${parameters} parameters; the spec says ${expected}`);
log(`random ${model} checkpoint: ${parameters} parameters${expected ? ' (= spec §1.2)' : ''}, ${(fileBytes / 2 ** 20).toFixed(0)} MiB F16 safetensors, built in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);

// --load-only: the weights' load alone (checkpoint in memory → GPU), per tower, then exit: the CPU
// side of a load (conversion, packing, upload calls) without the forward passes, for profiling.
if (flag('--load-only')) {
  for (const precision of precisions) {
    const towers: { destroy(): void }[] = [];
    const times: Record<string, number> = {};
    const timed = <T extends { destroy(): void }>(name: string, make: () => T): T => {
      const t = performance.now();
      const made = make();
      times[name] = performance.now() - t;
      towers.push(made);
      return made;
    };
    t0 = performance.now();
    timed('vision', () => VisionTower.load(gpu, checkpoint, config, { format, precision }));
    timed('connector', () => Connector.load(gpu, checkpoint, config, { format }));
    timed('text', () => TextModel.load(gpu, checkpoint, config, { weightFormat: format, precision }));
    await gpu.device.queue.onSubmittedWorkDone();
    const totalMs = performance.now() - t0;
    log(`${precision}: loaded ${format} weights in ${(totalMs / 1e3).toFixed(2)} s (${Object.entries(times).map(([k, v]) => `${k} ${(v / 1e3).toFixed(2)} s`).join(', ')}; ${(fileBytes / 2 ** 20 / (totalMs / 1e3)).toFixed(0)} MiB/s of checkpoint)`);
    console.log(JSON.stringify({ host: 'node-dawn', adapter: gpu.adapter, model, format, precision, fileBytes, loadMs: totalMs, towerMs: times }));
    for (const t of towers) t.destroy();
  }
  process.exit(0);
}

const results: ModelBenchResult[] = [];
for (const precision of precisions) {
  t0 = performance.now();
  results.push(
    await runModelBench(gpu, {
      label: quick ? 'QUICK (tiny config)' : `SmolVLM2-${model.toUpperCase()}`,
      config,
      checkpoint,
      format,
      precision,
      contextTokens,
      decodeSteps,
      videoLongestEdge,
      framePrefixTokens: 9,
      warmMs: quick ? 50 : 1000,
      perDispatch: flag('--per-dispatch'),
      log,
    }),
  );
  log(`${precision}: done in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
}

const summary = { host: 'node-dawn', adapter: gpu.adapter, features: gpu.features, quick, model, parameters, videoLongestEdge, results };
console.log(`\n${markdownTable(results)}`);
console.log(JSON.stringify(summary));
const out = option('--out', '');
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), ...summary }, null, 1));
gpu.destroy();
process.exit(0);
