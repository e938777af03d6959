// Parity of every fixture case against transformers, per math precision and weight format, in
// Node through Dawn (the GPU machine runs it for f16 math; SwiftShader here gives f32 only).
//
//   node dist-node/parity.js [--out parity.json] [--models tiny-gqa,tiny-split]
//                            [--formats f32,f16,q8,q4] [--precisions f32,f16] [--steps 12]
//                            [--fixtures tools/fixtures]
//
// Per (model, precision, format, case):
// - tokens: SmolVlm.generate from the case's PNG inputs (the whole product path: preprocessing,
//   vision, connector, merge, prefill, greedy decode) vs expected.json's `generated` (cut after an
//   eos as transformers stops there): equal or not, and the first step that differs;
// - logits: the first generated step's logits (the prefill's last row) vs the fixture's
//   `last_logits`, max |error| and whether the top token agrees. They come from the model parts
//   fed transformers' own pixel_values (vision → connector → merge → prefill), so preprocessing
//   does not blur the model's numerics.
// Progress to stderr, a table to stdout, the JSON to --out.
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FsSource } from '../src/platform/node/fs-source';
import { readImageFile } from '../src/cli/images';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import type { GpuDevice } from '../src/gpu/device';
import { CommandRecorder } from '../src/gpu/recorder';
import { Tensor } from '../src/gpu/tensor';
import type { Precision } from '../src/kernels/common';
import { WEIGHT_FORMATS, type WeightFormat } from '../src/kernels/weights';
import { Checkpoint } from '../src/model/checkpoint';
import { parseConfig } from '../src/model/config';
import { Connector } from '../src/model/connector';
import { positionTensor } from '../src/model/generate';
import { mergeImageFeatures } from '../src/model/merge-image-features';
import type { RgbImage } from '../src/model/preprocess';
import { SmolVlm } from '../src/families/smolvlm/smolvlm';
import { TextModel } from '../src/model/text-model';
import { VisionTower } from '../src/model/vision';


/** Inputs and question of each case, as tools/fixtures/make_fixtures.py made them (and e2e/browser/harness/pipeline.ts feeds them). */
const CASES: Record<string, { images?: string[]; video?: true; text: string }> = {
  image: { images: ['gradient'], text: 'Can you describe this image?' },
  image_other: { images: ['tall'], text: 'Can you describe this image?' },
  two_images: { images: ['gradient', 'tall'], text: 'What is different?' },
  video: { video: true, text: 'What happened in this video?' },
};

interface ExpectedCase {
  input_ids: number[];
  pixel_values: { file: string; shape: number[] };
  last_logits: { file: string };
  generated: number[];
}

export interface ParityRow {
  model: string;
  precision: Precision;
  format: WeightFormat;
  case: string;
  tokensEqual: boolean;
  /** First step whose token differs from transformers', or null. */
  firstDifferingStep: number | null;
  tokens: number[];
  expectedTokens: number[];
  promptIdsEqual: boolean;
  firstStepLogitsMaxAbsError: number;
  firstStepTopEqual: boolean;
}

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const list = (name: string, fallback: string) => option(name, fallback).split(',').filter(Boolean);
const models = list('--models', 'tiny-gqa,tiny-split');
const formats = list('--formats', WEIGHT_FORMATS.join(',')) as WeightFormat[];
for (const f of formats) if (!WEIGHT_FORMATS.includes(f)) throw new Error(`--formats: unknown format ${f}`);
const steps = Number(option('--steps', '12'));
// run from the repository root, or say where the fixtures are
const FIXTURES = resolve(option('--fixtures', 'tools/fixtures'));
const log = (line: string) => console.error(`[parity] ${line}`);

const f32File = (path: string) => {
  const b = readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

async function caseInputs(dir: string, name: string): Promise<{ images?: RgbImage[]; video?: { frames: RgbImage[]; resize: 'video' } }> {
  const c = CASES[name];
  if (c.images) return { images: await Promise.all(c.images.map((f) => readImageFile(join(dir, 'inputs', `${f}.png`)))) };
  const frames: RgbImage[] = [];
  for (let i = 0; existsSync(join(dir, 'inputs', `frame${i}.png`)); i++) frames.push(await readImageFile(join(dir, 'inputs', `frame${i}.png`)));
  return { video: { frames, resize: 'video' } };
}

/** The prefill's last-row logits from transformers' pixel values, through the model parts. */
async function firstStepLogits(gpu: GpuDevice, dir: string, c: ExpectedCase, precision: Precision, format: WeightFormat): Promise<Float32Array> {
  const config = parseConfig(readFileSync(join(dir, 'config.json'), 'utf8'));
  const checkpoint = await Checkpoint.open(new FsSource(dir));
  const vision = VisionTower.load(gpu, checkpoint, config, { format, precision });
  const connector = Connector.load(gpu, checkpoint, config, { format });
  const text = TextModel.load(gpu, checkpoint, config, { weightFormat: format, precision });
  const owned: { destroy(): void }[] = [vision, connector, text];
  try {
    const ids = c.input_ids;
    const tiles = c.pixel_values.shape[0];
    const pixels = Tensor.from(gpu, f32File(join(dir, c.pixel_values.file)), c.pixel_values.shape, 'f32', 'pixel values');
    const visionOut = vision.createOutput(tiles);
    const features = connector.createOutput(tiles, precision);
    const idTensor = Tensor.from(gpu, ids, [ids.length], 'u32', 'input ids');
    const embeddings = text.createEmbeddings(ids.length);
    const positions = positionTensor(text, 0, ids.length);
    const cache = text.createCache(ids.length);
    owned.push(pixels, visionOut, features, idTensor, embeddings, positions, cache);
    const rec = new CommandRecorder(gpu, undefined, 'parity prefill');
    vision.forward(rec, pixels, visionOut);
    connector.forward(rec, visionOut, features);
    const imageRows = new Tensor(gpu, features.buffer, [features.size / config.text.hiddenSize, config.text.hiddenSize], features.dtype);
    mergeImageFeatures(rec, text, ids, idTensor, imageRows, config.imageTokenId, embeddings);
    const logits = text.forward(rec, cache, embeddings, positions, 'last');
    rec.submit();
    return await logits.readFloat();
  } finally {
    for (const x of owned.reverse()) x.destroy();
  }
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

const gpu = await acquireNodeGpu();
log(`adapter: ${gpu.adapter.vendor} ${gpu.adapter.architecture} ${gpu.adapter.description} (shader-f16: ${gpu.features.f16})`);
const precisions = (list('--precisions', 'f32,f16') as Precision[]).filter((p) => {
  if (p === 'f16' && !gpu.features.f16) log('f16 math skipped: this adapter has no shader-f16');
  return p === 'f32' || (p === 'f16' && gpu.features.f16);
});

const rows: ParityRow[] = [];
for (const model of models) {
  const dir = join(FIXTURES, model);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { cases: Record<string, ExpectedCase> };
  for (const precision of precisions) {
    for (const format of formats) {
      const vlm = await SmolVlm.load(gpu, new FsSource(dir), { weightFormat: format, precision });
      try {
        for (const [name, c] of Object.entries(expected.cases)) {
          if (!CASES[name]) throw new Error(`${model}: case ${name} has no inputs described here (add it to CASES)`);
          const result = await vlm.generate({ ...(await caseInputs(dir, name)), text: CASES[name].text, maxNewTokens: steps });
          // transformers stops after an eos token (and keeps it)
          const stop = c.generated.findIndex((id) => vlm.eosTokenIds.includes(id));
          const want = (stop >= 0 ? c.generated.slice(0, stop + 1) : c.generated).slice(0, steps);
          let differs: number | null = null;
          for (let i = 0; i < Math.max(want.length, result.tokens.length); i++) {
            if (result.tokens[i] !== want[i]) {
              differs = i;
              break;
            }
          }
          const logits = await firstStepLogits(gpu, dir, c, precision, format);
          const reference = f32File(join(dir, c.last_logits.file));
          let maxAbs = logits.length === reference.length ? 0 : Infinity;
          for (let i = 0; i < reference.length && maxAbs !== Infinity; i++) maxAbs = Math.max(maxAbs, Math.abs(logits[i] - reference[i]));
          const row: ParityRow = {
            model,
            precision,
            format,
            case: name,
            tokensEqual: differs === null,
            firstDifferingStep: differs,
            tokens: result.tokens,
            expectedTokens: want,
            promptIdsEqual: result.prompt.ids.join() === c.input_ids.join(),
            firstStepLogitsMaxAbsError: maxAbs,
            firstStepTopEqual: argmax(logits) === argmax(reference),
          };
          rows.push(row);
          log(`${model} ${precision} ${format} ${name}: tokens ${row.tokensEqual ? 'equal' : `differ from step ${differs}`}, first-step logits max|e| ${maxAbs.toExponential(2)}${row.firstStepTopEqual ? '' : ' (top differs)'}`);
        }
      } finally {
        await vlm.dispose();
      }
    }
  }
}

let table = '| model | math | weights | case | tokens = transformers | first differing step | first-step logits max abs error | top-1 equal |\n|---|---|---|---|---|---|---|---|\n';
for (const r of rows) {
  table += `| ${r.model} | ${r.precision} | ${r.format} | ${r.case} | ${r.tokensEqual ? 'yes' : 'no'} | ${r.firstDifferingStep ?? '–'} | ${r.firstStepLogitsMaxAbsError.toExponential(2)} | ${r.firstStepTopEqual ? 'yes' : 'no'} |\n`;
}
console.log(table);
const out = option('--out', '');
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), adapter: gpu.adapter, features: gpu.features, steps, rows }, null, 1));
gpu.destroy();
process.exit(0);
