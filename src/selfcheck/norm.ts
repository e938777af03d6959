import { roundToF16 } from '../gpu/f16';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { LAYER_NORM_EPS, layerNorm, RMS_NORM_EPS, rmsNorm } from '../kernels/norm';
import { layerNormRef, rmsNormRef } from '../reference/norm';
import { Random } from '../reference/random';
import { compare, TOLERANCE } from './compare';
import type { KernelCheck } from './types';

// Widths of SmolVLM2's towers (576 text of the 256M model, 768 SigLIP), 1000 (not a multiple of
// the 256-thread workgroup, and < 4 elements a thread) and 3072 (the largest, 2.2B text); and the
// narrow rows of the test models, where LayerNorm's workgroup is 32 threads (layerNormThreads):
// 96 (the needle model's vision tower), 37 (some threads take two elements, the rest one) and 20
// (fewer elements than threads).
const SHAPES: [tokens: number, width: number][] = [
  [5, 96],
  [3, 37],
  [2, 20],
  [1, 576],
  [7, 576],
  [1, 768],
  [7, 768],
  [1, 1000],
  [7, 1000],
  [3, 3072],
];

function inputs(tokens: number, width: number, precision: 'f32' | 'f16', seed: number) {
  const rng = new Random(seed);
  // an offset per row tests LayerNorm's centring; activations are f16 in the f16 variant
  const x = new Float32Array(tokens * width);
  for (let t = 0; t < tokens; t++) {
    const offset = rng.uniform(-3, 3);
    for (let i = 0; i < width; i++) x[t * width + i] = offset + 2 * rng.normal();
  }
  // weights come from bf16/f16 checkpoints: f16 values, held in f32
  const weight = roundToF16(rng.floats(width, 0.5, 1.5));
  const bias = roundToF16(rng.floats(width, -0.5, 0.5));
  return { x: precision === 'f16' ? roundToF16(x) : x, weight, bias };
}

function checksFor([tokens, width]: [number, number]): KernelCheck[] {
  return [
    {
      name: `layer_norm ${tokens}×${width}`,
      family: 'norm',
      async run(gpu, precision) {
        const { x, weight, bias } = inputs(tokens, width, precision, 10 + width + tokens);
        const tx = Tensor.from(gpu, x, [tokens, width], precision);
        const tw = Tensor.from(gpu, weight, [width], 'f32');
        const tb = Tensor.from(gpu, bias, [width], 'f32');
        const out = Tensor.empty(gpu, [tokens, width], precision);
        const rec = new CommandRecorder(gpu);
        layerNorm(rec, tx, tw, tb, out, { eps: LAYER_NORM_EPS });
        rec.submit();
        const result = compare(await out.readFloat(), layerNormRef(x, width, weight, bias, LAYER_NORM_EPS), TOLERANCE[precision]);
        [tx, tw, tb, out].forEach((t) => t.destroy());
        return result;
      },
    },
    {
      name: `rms_norm ${tokens}×${width}`,
      family: 'norm',
      async run(gpu, precision) {
        const { x, weight } = inputs(tokens, width, precision, 20 + width + tokens);
        const tx = Tensor.from(gpu, x, [tokens, width], precision);
        const tw = Tensor.from(gpu, weight, [width], 'f32');
        const out = Tensor.empty(gpu, [tokens, width], precision);
        const rec = new CommandRecorder(gpu);
        rmsNorm(rec, tx, tw, out, { eps: RMS_NORM_EPS });
        rec.submit();
        // the f16 variant rounds twice (normalised value, then product), as transformers does;
        // the f64 reference does not: within TOLERANCE.f16 (rtol 1e-2 ≫ 2·2⁻¹¹)
        const result = compare(await out.readFloat(), rmsNormRef(x, width, weight, RMS_NORM_EPS), TOLERANCE[precision]);
        [tx, tw, out].forEach((t) => t.destroy());
        return result;
      },
    },
  ];
}

export const normChecks: KernelCheck[] = SHAPES.flatMap(checksFor);
