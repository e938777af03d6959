import type { GpuDevice } from '../gpu/device';
import { roundToF16 } from '../gpu/f16';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import type { Precision } from '../kernels/common';
import { attentionDecode, attentionScratchElements } from '../kernels/attention';
import { add, siluMul } from '../kernels/elementwise';
import { rmsNorm } from '../kernels/norm';
import { matmul, matmulSwiGlu, matmulTiled, matvec, plainMatmul, type MatvecConfig } from '../kernels/matmul';
import { destroyWeight, uploadWeight, WEIGHT_FORMATS, type WeightFormat } from '../kernels/weights';
import { linearRef, matmulRef } from '../reference/matmul';
import { dequantizedWeights, packWeight, quantizationErrorRatio } from '../kernels/weight-packing';
import { Random } from '../reference/random';
import { compare, compareExact, compareFused, TOLERANCE } from './compare';
import type { CheckResult, KernelCheck } from './types';

// 'tiled': the 64×64-tile kernel; 'tiled32': the 32×32 one (matmulTiled's tile for short x)
type Kernel = 'tiled' | 'tiled32' | 'matvec' | 'auto';
type Shape = readonly [m: number, k: number, n: number];

// Tiled: 67×45×70 is off the 64×64 tile in M and N, K = 45 is neither a multiple of the 16-deep
// slice nor of the quantization group (rows padded to 64) and takes the scalar-x path; 64×64×64
// is exactly one tile. Matrix-vector: 131 outputs leave the last workgroup (16 rows) partly
// empty, K = 600 (not a multiple of 32) makes the 64 lanes stride more than once (all but q4);
// 3×200×33 runs three x rows at once with a small work split (MATVEC_SMALL_SPLIT).
const TILED_SHAPES: readonly Shape[] = [
  [67, 45, 70],
  [64, 64, 64],
];
const MATVEC_SHAPES: readonly Shape[] = [
  [1, 600, 131],
  [3, 200, 33],
];

/**
 * Used for the second matrix-vector shape: with 8 lanes every format's lanes stride along K more
 * than once (the default 64 lanes do not for q4 at these sizes), and 3 rows per set is
 * not a power of two.
 */
const MATVEC_SMALL_SPLIT: Partial<MatvecConfig> = { lanes: 8, sets: 4, rows: 3 };

const activation = (values: Float32Array, precision: Precision) => (precision === 'f16' ? roundToF16(values) : values);

/**
 * One linear layer on random data against `linearRef` with the weights the GPU actually holds
 * (dequantized), so quantization error is not part of the comparison. `biasKind` 'act' is a bias
 * in the activation dtype, 'f32' an f32 bias (the same thing in f32 math).
 */
async function runLinear(
  gpu: GpuDevice,
  precision: Precision,
  kernel: Kernel,
  format: WeightFormat,
  [m, k, n]: Shape,
  biasKind: 'none' | 'act' | 'f32',
  seed: number,
  config?: Partial<MatvecConfig>,
): Promise<CheckResult> {
  const random = new Random(seed);
  const x = activation(random.floats(m * k), precision);
  const wValues = random.floats(n * k);
  const biasValues = biasKind === 'none' ? null : biasKind === 'act' ? activation(random.floats(n), precision) : random.floats(n);
  const tx = Tensor.from(gpu, x, [m, k], precision);
  const bias = biasValues ? Tensor.from(gpu, biasValues, [n], biasKind === 'act' ? precision : 'f32') : null;
  const w = uploadWeight(gpu, wValues, n, k, format, { bias });
  const out = Tensor.empty(gpu, [m, n], precision);
  const rec = new CommandRecorder(gpu);
  if (kernel === 'tiled' || kernel === 'tiled32') matmulTiled(rec, tx, w, out, { tile: kernel === 'tiled' ? 64 : 32 });
  else if (kernel === 'matvec') matvec(rec, tx, w, out, { config });
  else matmul(rec, tx, w, out);
  rec.submit();
  const expected = linearRef(x, dequantizedWeights(wValues, n, k, format), m, k, n, biasValues);
  const result = compare(await out.readFloat(), expected, TOLERANCE[precision]);
  destroyWeight(w, { bias: true });
  tx.destroy();
  out.destroy();
  return result;
}

function linearChecks(kernel: 'tiled' | 'tiled32' | 'matvec', shapes: readonly Shape[]): KernelCheck[] {
  return WEIGHT_FORMATS.flatMap((format) =>
    shapes.flatMap((shape, s) =>
      (['none', s === 0 ? 'act' : 'f32'] as const).map((biasKind, b) => ({
        name: `matmul ${kernel} ${format} ${shape.join('×')}${biasKind === 'none' ? '' : ` bias ${biasKind}`}${kernel === 'matvec' && s === 1 ? ' lanes 8 rows 3' : ''}`,
        family: 'matmul',
        run: (gpu: GpuDevice, precision: Precision) =>
          runLinear(gpu, precision, kernel, format, shape, biasKind, 100 + 10 * s + b, kernel === 'matvec' && s === 1 ? MATVEC_SMALL_SPLIT : undefined),
      })),
    ),
  );
}

/** The quantizers against their documented bound |x − dequantize(x)| ≤ scale / 2 (f16: half an ulp). */
function quantizerCheck(format: 'f16' | 'q8' | 'q4'): KernelCheck {
  return {
    name: `matmul quantizer ${format} round trip 37×100`,
    family: 'matmul',
    async run() {
      const [out, inF] = [37, 100];
      // normal values with a few large outliers, the case where a group's scale matters most
      const random = new Random(7);
      const values = random.normals(out * inF, 0.5);
      for (let i = 0; i < values.length; i += 97) values[i] *= 20;
      const ratio = quantizationErrorRatio(values, packWeight(values, out, inF, format));
      return {
        maxAbsError: ratio,
        tolerance: 'max |x − deq(x)| / bound ≤ 1',
        pass: ratio <= 1,
        detail: `worst error is ${(ratio * 100).toFixed(1)}% of the bound`,
      };
    },
  };
}

const plainCheck: KernelCheck = {
  name: 'matmul plain 64×128×64',
  family: 'matmul',
  async run(gpu, precision) {
    const [m, k, n] = [64, 128, 64];
    const random = new Random(11);
    const a = activation(random.floats(m * k), precision);
    const b = activation(random.floats(k * n), precision);
    const ta = Tensor.from(gpu, a, [m, k], precision);
    const tb = Tensor.from(gpu, b, [k, n], precision);
    const tc = Tensor.empty(gpu, [m, n], precision);
    const rec = new CommandRecorder(gpu);
    plainMatmul(rec, ta, tb, tc);
    rec.submit();
    // f16 math accumulates in f16 here (the baseline is a peak figure, not a model kernel): each
    // of the 128 additions rounds a partial sum below 16 by at most 2^-8, so the worst case is 0.5
    // and a random walk of the roundings is a few hundredths (0.06 seen on an H100); 0.1 allows it.
    const tolerance = precision === 'f16' ? { atol: 0.1, rtol: 1e-2 } : TOLERANCE.f32;
    const result = compare(await tc.readFloat(), matmulRef(a, b, m, k, n), tolerance);
    [ta, tb, tc].forEach((t) => t.destroy());
    return result;
  },
};

/** `matmul` itself: 5 rows go to the tiled kernel, 1 to the matrix-vector kernel. */
const dispatchChecks: KernelCheck[] = [
  [5, 64, 40],
  [1, 64, 40],
].map((shape) => ({
  name: `matmul auto q4 ${shape.join('×')} bias`,
  family: 'matmul',
  run: (gpu: GpuDevice, precision: Precision) => runLinear(gpu, precision, 'auto', 'q4', shape as unknown as Shape, 'act', 300),
}));

/**
 * The 32- and 64-tile kernels give identical bits (each output is the same fma chain over K), so
 * matmulTiled's choice between them is speed only: both on one off-tile shape, compared exactly.
 */
function tileAgreementCheck(format: WeightFormat): KernelCheck {
  return {
    name: `matmul tiled 32 = 64 bits ${format} 67×45×70`,
    family: 'matmul',
    async run(gpu, precision) {
      const [m, k, n] = [67, 45, 70];
      const random = new Random(17);
      const tx = Tensor.from(gpu, activation(random.floats(m * k), precision), [m, k], precision);
      const w = uploadWeight(gpu, random.floats(n * k), n, k, format, { bias: Tensor.from(gpu, random.floats(n), [n], 'f32') });
      const outs = [Tensor.empty(gpu, [m, n], precision), Tensor.empty(gpu, [m, n], precision)];
      const rec = new CommandRecorder(gpu);
      matmulTiled(rec, tx, w, outs[0], { tile: 32 });
      matmulTiled(rec, tx, w, outs[1], { tile: 64 });
      rec.submit();
      const [a, b] = await Promise.all(outs.map((o) => o.readFloat()));
      const result = compareExact(a, b);
      destroyWeight(w, { bias: true });
      tx.destroy();
      for (const o of outs) o.destroy();
      return result;
    },
  };
}

/**
 * The decode MLP's fused down projection (matvec computing act(silu(gate) · up) as it reads x)
 * against silu_mul then matvec: the same bits in f32 math (compareFused: f16 within its
 * tolerance). K = 600 reads x as vec4, K = 45 element by element.
 */
function swiGluCheck(format: WeightFormat, [m, k, n]: Shape): KernelCheck {
  return {
    name: `matmul swiglu = silu_mul + matvec bits ${format} ${m}×${k}×${n}`,
    family: 'matmul',
    async run(gpu, precision) {
      const random = new Random(23);
      // gate values over the range where silu bends (and its tails), up values of either sign
      const gateValues = activation(random.floats(m * k).map((v) => 8 * v), precision);
      const tensors = [Tensor.from(gpu, gateValues, [m, k], precision), Tensor.from(gpu, activation(random.floats(m * k), precision), [m, k], precision)];
      const [gate, up] = tensors;
      const w = uploadWeight(gpu, random.floats(n * k), n, k, format);
      const scratch = Tensor.empty(gpu, [m, k], precision);
      const outs = [Tensor.empty(gpu, [m, n], precision), Tensor.empty(gpu, [m, n], precision)];
      const rec = new CommandRecorder(gpu);
      matmulSwiGlu(rec, gate, up, w, outs[0], scratch);
      siluMul(rec, gate, up, scratch);
      matvec(rec, scratch, w, outs[1]);
      rec.submit();
      const [a, b] = await Promise.all(outs.map((o) => o.readFloat()));
      const result = compareFused(a, b, precision);
      destroyWeight(w);
      for (const t of [...tensors, scratch, ...outs]) t.destroy();
      return result;
    },
  };
}

/**
 * The decode kernels' fused residual connection and norm (matvec reading RMSNorm(x) with
 * X_RMSNORM, and adding a residual as it stores y with Y_RESIDUAL) against rms_norm, matvec and
 * add as separate dispatches: the same bits in f32 math (compareFused: f16 within its tolerance). K = 600 reads x as
 * vec4 (and strides the 256-thread norm reduction more than once), K = 45 element by element;
 * three rows of x normalise three rows at once; the norm runs with output parts (a q/k/v weight).
 */
function normResidualCheck(format: WeightFormat, [m, k, n]: Shape, parts: boolean): KernelCheck {
  return {
    name: `matvec rmsnorm + residual = rms_norm + matvec + add bits ${format} ${m}×${k}×${n}${parts ? ' (parts)' : ''}`,
    family: 'matmul',
    async run(gpu, precision) {
      const random = new Random(29);
      // a residual stream with a few large features, as a transformer's has
      const xValues = activation(random.floats(m * k).map((v, i) => (i % 97 === 0 ? 40 * v : 3 * v)), precision);
      const x = Tensor.from(gpu, xValues, [m, k], precision);
      const normWeight = Tensor.from(gpu, random.floats(k).map((v) => 1 + v), [k], 'f32');
      const residual = Tensor.from(gpu, activation(random.floats(m * n), precision), [m, n], precision);
      const w = uploadWeight(gpu, random.floats(n * k), n, k, format);
      const normed = Tensor.empty(gpu, [m, k], precision);
      const split = [Math.floor(n / 3), Math.floor(n / 3)];
      split.push(n - split[0] - split[1]);
      const fusedOut = parts ? split.map((c) => Tensor.empty(gpu, [m, c], precision)) : [Tensor.empty(gpu, [m, n], precision)];
      const plainOut = parts ? split.map((c) => Tensor.empty(gpu, [m, c], precision)) : [Tensor.empty(gpu, [m, n], precision)];
      const product = Tensor.empty(gpu, [m, n], precision);
      const eps = 1e-5;
      const rec = new CommandRecorder(gpu);
      const asParts = (ts: Tensor[]) => (parts ? ts.map((tensor, i) => ({ tensor, columns: split[i] })) : ts[0]);
      // fused: the norm as x is read, and (one output) the residual as y is stored
      matvec(rec, x, w, asParts(fusedOut), { rmsNorm: { weight: normWeight, eps }, residual: parts ? undefined : residual });
      rmsNorm(rec, x, normWeight, normed, { eps });
      if (parts) {
        matvec(rec, normed, w, asParts(plainOut));
      } else {
        matvec(rec, normed, w, product);
        add(rec, residual, product, plainOut[0]);
      }
      rec.submit();
      const got = await Promise.all([...fusedOut, ...plainOut].map((o) => o.readFloat()));
      const concat = (arrays: Float32Array[]) => Float32Array.from(arrays.flatMap((a) => Array.from(a)));
      const result = compareFused(concat(got.slice(0, fusedOut.length)), concat(got.slice(fusedOut.length)), precision);
      destroyWeight(w);
      for (const t of [x, normWeight, residual, normed, product, ...fusedOut, ...plainOut]) t.destroy();
      return result;
    },
  };
}

/**
 * The decode o projection reading attention's split partials (matvec X_ATTN, attention's
 * deferCombine) against attention's combine then matvec: the same bits in f32 math (compareFused:
 * f16 within its tolerance). 1,000 keys in 63 splits take combine's four-at-a-time loop, 300 keys
 * (19 splits) only its one-at-a-time loop; D = 40 gives combine 12 thread groups (not a power of two).
 */
function attentionMergeCheck(format: WeightFormat, [hq, hkv, headDim, keys]: readonly [number, number, number, number], n: number): KernelCheck {
  return {
    name: `matvec attention merge = combine + matvec bits ${format} Hq=${hq}/Hkv=${hkv} D=${headDim} S=${keys} N=${n}`,
    family: 'matmul',
    async run(gpu, precision) {
      const random = new Random(31);
      const k = hq * headDim;
      const q = Tensor.from(gpu, activation(random.floats(k), precision), [1, hq, headDim], precision);
      const kv = [0, 1].map(() => Tensor.from(gpu, activation(random.floats(keys * hkv * headDim).map((v) => 3 * v), precision), [keys, hkv, headDim], precision));
      const scratchElements = attentionScratchElements({ tq: 1, hq, hkv, headDim, keys });
      const scratch = [0, 1].map(() => Tensor.empty(gpu, [scratchElements], 'f32'));
      const attended = Tensor.empty(gpu, [1, hq, headDim], precision);
      const attendedRow = new Tensor(gpu, attended.buffer, [1, k], precision); // matvec's view: [1, K]
      const w = uploadWeight(gpu, random.floats(n * k), n, k, format);
      const outs = [Tensor.empty(gpu, [1, n], precision), Tensor.empty(gpu, [1, n], precision)];
      const rec = new CommandRecorder(gpu);
      const options = { mask: 'causal' as const, keys };
      const split = attentionDecode(rec, q, kv[0], kv[1], attended, { ...options, scratch: scratch[0], deferCombine: Infinity });
      if (!split || split.splits < 2) throw new Error(`expected split partials, got ${JSON.stringify(split && { splits: split.splits })}`);
      matvec(rec, attendedRow, w, outs[0], { attention: split });
      attentionDecode(rec, q, kv[0], kv[1], attended, { ...options, scratch: scratch[1] });
      matvec(rec, attendedRow, w, outs[1]);
      rec.submit();
      const [a, b] = await Promise.all(outs.map((o) => o.readFloat()));
      const result = compareFused(a, b, precision);
      destroyWeight(w);
      for (const t of [q, ...kv, ...scratch, attended, ...outs]) t.destroy();
      return result;
    },
  };
}

export const matmulChecks: KernelCheck[] = [
  attentionMergeCheck('f16', [9, 3, 64, 1000], 131),
  attentionMergeCheck('q4', [9, 3, 64, 300], 576),
  attentionMergeCheck('f32', [5, 1, 40, 777], 67),
  ...WEIGHT_FORMATS.map((format) => normResidualCheck(format, [1, 600, 131], false)),
  normResidualCheck('f16', [3, 45, 33], false),
  normResidualCheck('q4', [2, 600, 40], true),
  ...WEIGHT_FORMATS.map((format) => swiGluCheck(format, [1, 600, 131])),
  swiGluCheck('q4', [3, 45, 33]),
  swiGluCheck('f16', [2, 45, 33]),
  ...linearChecks('tiled', TILED_SHAPES),
  ...linearChecks('tiled32', TILED_SHAPES),
  tileAgreementCheck('f16'),
  tileAgreementCheck('q4'),
  ...linearChecks('matvec', MATVEC_SHAPES),
  ...dispatchChecks,
  plainCheck,
  quantizerCheck('f16'),
  quantizerCheck('q8'),
  quantizerCheck('q4'),
];
