// Host cost of a decode step (Node, Dawn): what the JavaScript side spends recording one token,
// separately from the GPU, by the code and from a step plan (bench/decode-host.ts says how). Any
// adapter works (SwiftShader too): the recorded work is the same.
//
//   node dist-node/model-host.js [--500m | --quick] [--format f16] [--precision f32] [--steps 64]
//                                [--context 64] [--record-only] [--out file.json]
//
// Progress to stderr, one JSON line to stdout.
import { writeFileSync } from 'node:fs';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import type { Precision } from '../src/kernels/common';
import { WEIGHT_FORMATS, type WeightFormat } from '../src/kernels/weights';
import { TextModel } from '../src/model/text-model';
import { decodeHost } from './decode-host';
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
await gpu.workDone();
log(`loaded ${model} ${format} weights, ${precision} math`);
const result = { model, format, precision, ...(await decodeHost(gpu, text, { context, steps, recordOnly, log })) };
console.log(JSON.stringify(result));
const out = option('--out', '');
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), adapter: gpu.adapter, ...result }, null, 1));
gpu.destroy();
process.exit(0);
