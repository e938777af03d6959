import source from '../../shaders/norm.wgsl?raw';
import { InputError } from '../errors';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { dispatchKernel, expectDType, grid, threadsFor, type Precision } from './common';

const normKernel = defineKernel({
  name: 'norm',
  body: [source],
  uniforms: { rows: 'u32', width: 'u32' /* H */, eps: 'f32' },
  bindings: {
    x: read('array<act>'),
    weight: read('array<f32>'),
    bias: read('array<f32>'),
    out: readWrite('array<act>'),
    // add_rms_norm only: the residual added to x, and where the sum goes
    residual: read('array<act>'),
    sum_out: readWrite('array<act>'),
  },
  // WG: the most threads a workgroup has (the size of its reduction array)
  constants: { WG: 256 },
  // THREADS: this pipeline's workgroup, a power of two up to WG
  overrides: { THREADS: 256 },
});

/**
 * Threads of an RMSNorm workgroup: its reductions' order, which the matrix-vector kernel's fused
 * RMSNorm (matmul.ts, X_RMSNORM) repeats to get the same bits.
 */
export const RMS_NORM_WORKGROUP = normKernel.constants.WG;

/**
 * Threads of a LayerNorm workgroup for rows of `width`: one per 8 elements, a power of two from 32
 * to 256. A row is a few hundred elements at most (SigLIP: 768); with 256 threads on narrow rows
 * most of them only take part in the reductions' barriers — cheap on a GPU, but each barrier
 * costs per thread on a CPU adapter (SwiftShader: the needle model's 96-wide rows took 20 ms a
 * dispatch with 256 threads). No fused kernel repeats LayerNorm's order (unlike RMSNorm's).
 */
export function layerNormThreads(width: number): number {
  return threadsFor(Math.ceil(width / 8), 32, RMS_NORM_WORKGROUP);
}

/** SigLIP's `layer_norm_eps`. */
export const LAYER_NORM_EPS = 1e-6;
/** Llama's (SmolVLM2 text model's) `rms_norm_eps`. */
export const RMS_NORM_EPS = 1e-5;

export interface NormOptions {
  /** Added to the variance before the square root (defaults: 1e-6 LayerNorm, 1e-5 RMSNorm). */
  eps?: number;
}

/** Rows and width of a normalisation over the last axis of `x`, after checking every operand. */
function rowsOf(kernel: string, x: Tensor, params: Tensor[], out: Tensor): { rows: number; width: number; precision: Precision } {
  if (x.dtype !== 'f32' && x.dtype !== 'f16') throw new InputError(`${kernel}: x must be an f32 or f16 activation tensor, got ${x.dtype}`);
  expectDType(out, x.dtype, `${kernel} out`);
  const width = x.shape[x.shape.length - 1] ?? 0;
  if (width === 0) throw new InputError(`${kernel}: x [${x.shape.join(', ')}] has an empty last axis`);
  if (out.size !== x.size) throw new InputError(`${kernel}: out has ${out.size} elements, x has ${x.size}`);
  for (const p of params) {
    // weights stay f32 in both precisions: small, and exact for bf16/f16 checkpoints
    expectDType(p, 'f32', `${kernel} weight/bias`);
    if (p.size !== width) throw new InputError(`${kernel}: weight/bias has ${p.size} elements, rows have ${width}`);
  }
  return { rows: x.size / width, width, precision: x.dtype };
}

/**
 * LayerNorm over the last axis: out = (x − mean) / sqrt(var + eps) · weight + bias (biased variance).
 * x, out: act [rows, H] (same dtype, f32 or f16 = the precision); weight, bias: f32 [H].
 * One workgroup per row, f32 statistics.
 */
export function layerNorm(rec: CommandRecorder, x: Tensor, weight: Tensor, bias: Tensor, out: Tensor, options: NormOptions = {}): void {
  const { rows, width, precision } = rowsOf('layerNorm', x, [weight, bias], out);
  const uniforms = { rows, width, eps: options.eps ?? LAYER_NORM_EPS };
  dispatchKernel(rec, normKernel, { precision, entryPoint: 'layer_norm', overrides: { THREADS: layerNormThreads(width) } }, uniforms, { x, weight, bias, out }, grid(rec.gpu, rows));
}

/**
 * RMSNorm over the last axis, as transformers' LlamaRMSNorm: out = weight · act(x · rsqrt(mean(x²) + eps)).
 * x, out: act [rows, H]; weight: f32 [H]. One workgroup per row, f32 statistics.
 */
export function rmsNorm(rec: CommandRecorder, x: Tensor, weight: Tensor, out: Tensor, options: NormOptions = {}): void {
  const { rows, width, precision } = rowsOf('rmsNorm', x, [weight], out);
  const uniforms = { rows, width, eps: options.eps ?? RMS_NORM_EPS };
  dispatchKernel(rec, normKernel, { precision, entryPoint: 'rms_norm', overrides: { THREADS: RMS_NORM_WORKGROUP } }, uniforms, { x, weight, out }, grid(rec.gpu, rows));
}

/**
 * sum = a + b, then out = RMSNorm(sum) (as `add` followed by `rmsNorm`, bit for bit, in one
 * dispatch): a Llama residual connection and the norm that follows it.
 * a, b, sum, out: act [rows, H], four distinct tensors; weight: f32 [H].
 */
export function addRmsNorm(rec: CommandRecorder, a: Tensor, b: Tensor, weight: Tensor, sum: Tensor, out: Tensor, options: NormOptions = {}): void {
  const { rows, width, precision } = rowsOf('addRmsNorm', a, [weight], out);
  for (const [t, what] of [[b, 'b'], [sum, 'sum']] as const) {
    expectDType(t, a.dtype, `addRmsNorm ${what}`);
    if (t.size !== a.size) throw new InputError(`addRmsNorm: ${what} has ${t.size} elements, a has ${a.size}`);
  }
  if (new Set([a.buffer, b.buffer, sum.buffer, out.buffer]).size !== 4) throw new InputError('addRmsNorm: a, b, sum and out must be four distinct tensors');
  const uniforms = { rows, width, eps: options.eps ?? RMS_NORM_EPS };
  const bindings = { x: a, weight, out, residual: b, sum_out: sum };
  dispatchKernel(rec, normKernel, { precision, entryPoint: 'add_rms_norm', overrides: { THREADS: RMS_NORM_WORKGROUP } }, uniforms, bindings, grid(rec.gpu, rows));
}
