// Host cost of a decode step (Node, Dawn): what the JavaScript side spends recording one token,
// separately from the GPU. Any adapter works (SwiftShader too): the recorded work is the same.
//
//   node dist-node/model-host.js [--500m | --quick] [--format f16] [--precision f32] [--steps 64]
//                                [--context 64] [--out file.json]
//
// Per step: "record" = new recorder + embed + forward + argmax (JS and the Dawn calls they make),
// "submit" = recorder.submit() (uniform upload + encoder finish + queue submit). The GPU work is
// awaited after each step but not counted. Progress to stderr, one JSON line to stdout.
//
// Both ways of recording a step, in alternating blocks of 64 steps of one run: by the code
// (TextModel.forward and the kernel wrappers, every step) and from a step plan (gpu/step-plan.ts,
// as generateGreedy records them once the plan holds).
//
// --record-only: the steps are recorded and discarded, never submitted (the cache still advances a
// row a step): the recording alone, with no GPU work in the way — on a CPU adapter (SwiftShader)
// the GPU's work shares the CPU with the recording and takes seconds a step at these sizes.
import { writeFileSync } from 'node:fs';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import { CommandRecorder } from '../src/gpu/recorder';
import { Tensor } from '../src/gpu/tensor';
import type { Precision } from '../src/kernels/common';
import { argmax, readTokenId } from '../src/kernels/sampling';
import { WEIGHT_FORMATS, type WeightFormat } from '../src/kernels/weights';
import { TextModel } from '../src/model/text-model';
import { StepPlan } from '../src/gpu/step-plan';
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
const recordOnly = argv.includes('--record-only');
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
async function step(plan: StepPlan | null): Promise<{ record: number; submit: number }> {
  stepPosition.write([cache.length]);
  const t0 = now();
  const rec = new CommandRecorder(gpu, undefined, 'decode');
  text.decodeStep(rec, cache, plan, () => {
    text.embed(rec, tokenId, stepEmbedding);
    const logits = text.forward(rec, cache, stepEmbedding, stepPosition, 'last');
    argmax(rec, logits, tokenId);
  });
  const t1 = now();
  dispatches = rec.dispatches;
  if (recordOnly) {
    rec.discard();
    return { record: t1 - t0, submit: 0 };
  }
  rec.submit();
  const t2 = now();
  await readTokenId(tokenId);
  return { record: t1 - t0, submit: t2 - t1 };
}

cache.truncate(context);
for (let i = 0; i < 8; i++) await step(null); // compile pipelines, fill caches
cache.truncate(context);
if (recordOnly) await gpu.device.queue.onSubmittedWorkDone();
// one plan for the run, as generateGreedy has one an answer: its first three steps are traced
const plan = new StepPlan();
for (let i = 0; i < 3; i++) await step(plan);
const times = { code: { record: [] as number[], submit: [] as number[] }, plan: { record: [] as number[], submit: [] as number[] } };
const dispatchCount = { code: 0, plan: 0 };
// long blocks: the plan traces the first three steps of every key split anew (every 32 keys at
// head dim 64), and of every block after the code's, whose steps moved it on
const BLOCK = 64;
for (let i = 0; i < steps; i++) {
  const way = Math.floor(i / BLOCK) % 2 === 0 ? 'code' : 'plan';
  const s = await step(way === 'plan' ? plan : null);
  times[way].record.push(s.record);
  times[way].submit.push(s.submit);
  dispatchCount[way] = dispatches;
}
if (plan.replayed === 0) throw new Error('the step plan never recorded a step: its traces did not agree');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const figures = (way: 'code' | 'plan') => ({
  dispatchesPerToken: dispatchCount[way],
  recordMsMedian: median(times[way].record),
  submitMsMedian: median(times[way].submit),
  hostMsPerToken: median(times[way].record) + median(times[way].submit),
  // the plan traces its first three steps of every key split (a new one every few tens of tokens) by the code: the mean counts them
  recordMsMean: times[way].record.reduce((a, b) => a + b, 0) / times[way].record.length,
});
const result = { model, format, precision, context, steps, recordOnly, byCode: figures('code'), fromPlan: figures('plan'), planStepsReplayed: plan.replayed };
for (const way of ['code', 'plan'] as const) {
  const f = figures(way);
  log(`${way === 'code' ? 'by the code' : 'from the plan'}: ${f.dispatchesPerToken} dispatches/token; host per token: record ${f.recordMsMedian.toFixed(3)} ms (mean ${f.recordMsMean.toFixed(3)}) + submit ${f.submitMsMedian.toFixed(3)} ms (median of ${times[way].record.length})`);
}
console.log(JSON.stringify(result));
const out = option('--out', '');
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), adapter: gpu.adapter, ...result }, null, 1));
gpu.destroy();
process.exit(0);
