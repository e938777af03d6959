// Host cost of a decode step (Node, Dawn): what the JavaScript side spends recording one token,
// separately from the GPU. Any adapter works (SwiftShader too): the recorded work is the same.
//
//   node dist-node/model-host.js [--500m | --quick] [--format f16] [--precision f32] [--steps 64]
//                                [--context 64] [--out file.json]
//
// Per step: "record" = new recorder + embed + forward + argmax (JS and the Dawn calls they make),
// "submit" = recorder.submit() (uniform upload + encoder finish + queue submit). The GPU work is
// awaited after each step but not counted. Progress to stderr, one JSON line to stdout.
import { writeFileSync } from 'node:fs';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import { CommandRecorder } from '../src/gpu/recorder';
import { Tensor } from '../src/gpu/tensor';
import type { Precision } from '../src/kernels/common';
import { argmax, readTokenId } from '../src/kernels/sampling';
import { WEIGHT_FORMATS, type WeightFormat } from '../src/kernels/weights';
import { TextModel } from '../src/model/text-model';
import { modelConfig, type ModelName } from './model-shapes';
import { randomCheckpoint } from './random-checkpoint';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const model: ModelName = argv.includes('--quick') ? 'quick' : argv.includes('--500m') ? '500m' : '256m';
const format = option('--format', 'f16') as WeightFormat;
if (!WEIGHT_FORMATS.includes(format)) throw new Error(`--format must be one of ${WEIGHT_FORMATS.join(', ')}`);
const precision = option('--precision', 'f32') as Precision;
const steps = Number(option('--steps', '64'));
const context = Number(option('--context', '64'));
const log = (line: string) => console.error(`[model-host] ${line}`);

const gpu = await acquireNodeGpu();
log(`adapter: ${gpu.adapter.vendor} ${gpu.adapter.description}`);
const config = modelConfig(model);
const { checkpoint } = await randomCheckpoint(config);
const text = TextModel.load(gpu, checkpoint, config, { weightFormat: format, precision });
const cache = text.createCache(context + steps + 16);
const tokenId = Tensor.from(gpu, [5], [1], 'u32', 'next token');
const stepEmbedding = text.createEmbeddings(1);
const stepPosition = Tensor.empty(gpu, [1], 'u32', 'decode position');
await gpu.device.queue.onSubmittedWorkDone();
log(`loaded ${model} ${format} weights, ${precision} math`);

const now = () => performance.now();
let dispatches = 0;
async function step(): Promise<{ record: number; submit: number }> {
  stepPosition.write([cache.length]);
  const t0 = now();
  const rec = new CommandRecorder(gpu, undefined, 'decode');
  text.embed(rec, tokenId, stepEmbedding);
  const logits = text.forward(rec, cache, stepEmbedding, stepPosition, 'last');
  argmax(rec, logits, tokenId);
  const t1 = now();
  rec.submit();
  const t2 = now();
  dispatches = rec.dispatches;
  await readTokenId(tokenId);
  return { record: t1 - t0, submit: t2 - t1 };
}

cache.truncate(context);
for (let i = 0; i < 8; i++) await step(); // compile pipelines, fill caches
cache.truncate(context);
const record: number[] = [];
const submit: number[] = [];
for (let i = 0; i < steps; i++) {
  const s = await step();
  record.push(s.record);
  submit.push(s.submit);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = { model, format, precision, context, steps, dispatchesPerToken: dispatches, recordMsMedian: median(record), submitMsMedian: median(submit), hostMsPerToken: median(record) + median(submit) };
log(`${dispatches} dispatches/token; host per token: record ${result.recordMsMedian.toFixed(3)} ms + submit ${result.submitMsMedian.toFixed(3)} ms (median of ${steps})`);
console.log(JSON.stringify(result));
const out = option('--out', '');
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), adapter: gpu.adapter, ...result }, null, 1));
gpu.destroy();
process.exit(0);
