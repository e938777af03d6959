/**
 * Weight matrices on the GPU for the matmul kernels: Hugging Face layout `[out, in]`, stored as
 * f32, f16 or 8/4-bit symmetric blocks of 32 along `in` (./weight-packing.ts has the
 * exact byte layout). Rows are padded with zeros to a multiple of 32 elements, so every row holds
 * whole groups and starts on a 16-byte boundary.
 */
import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { Tensor } from '../gpu/tensor';
import { GROUP_SIZE, packWeight, type PackedWeight, type WeightFormat } from './weight-packing';

export { GROUP_SIZE, type WeightFormat } from './weight-packing';

export const WEIGHT_FORMATS: readonly WeightFormat[] = ['f32', 'f16', 'q8', 'q4'];

export interface Weight {
  readonly format: WeightFormat;
  /** N: output features, the rows. */
  readonly outFeatures: number;
  /** K: input features. */
  readonly inFeatures: number;
  /** Elements per stored row: K rounded up to a multiple of 32 (the padding is zero). */
  readonly rowStride: number;
  /**
   * Row-major `[out, rowStride]` values: an `f32` tensor for f32; for f16 an `f16` tensor (bit
   * patterns, two per word); for q8/q4 a `u32` tensor of packed codes, `[out, rowStride / 4]`
   * (q8) or `[out, rowStride / 8]` (q4).
   */
  readonly data: Tensor;
  /** q8/q4: an `f16` tensor `[out, rowStride / 32]` of group scales; null for f32/f16. */
  readonly scales: Tensor | null;
  /** Optional `[out]` bias, f32 or the activation dtype; `matmul`'s `options.bias` overrides it. */
  readonly bias: Tensor | null;
}

/** Uploads an already packed matrix (see `packWeight`). */
export function uploadPackedWeight(gpu: GpuDevice, packed: PackedWeight, options: { bias?: Tensor | null; label?: string } = {}): Weight {
  const { format, outFeatures: out, rowStride } = packed;
  const label = options.label ?? `weight ${format} [${out}, ${packed.inFeatures}]`;
  let data: Tensor;
  switch (format) {
    case 'f32':
      data = Tensor.from(gpu, packed.data, [out, rowStride], 'f32', label);
      break;
    case 'f16':
      data = Tensor.from(gpu, packed.data, [out, rowStride], 'f16', label);
      break;
    case 'q8':
    case 'q4':
      data = Tensor.from(gpu, packed.data, [out, rowStride / (format === 'q8' ? 4 : 8)], 'u32', label);
      break;
  }
  let scales: Tensor | null = null;
  if (packed.scales) {
    const groups = out * (rowStride / GROUP_SIZE);
    scales = Tensor.from(gpu, packed.scales.subarray(0, groups), [out, rowStride / GROUP_SIZE], 'f16', `${label} scales`);
  }
  const bias = options.bias ?? null;
  if (bias && bias.size !== out) throw new InputError(`${label}: bias has ${bias.size} elements, the weight has ${out} outputs`);
  return { format, outFeatures: out, inFeatures: packed.inFeatures, rowStride, data, scales, bias };
}

/**
 * Packs a row-major `[out, in]` f32 matrix as `format` and uploads it. `bias`, if given, is
 * attached to the weight (a Linear layer's bias).
 */
export function uploadWeight(
  gpu: GpuDevice,
  values: Float32Array,
  out: number,
  inFeatures: number,
  format: WeightFormat,
  options: { bias?: Tensor | null; label?: string } = {},
): Weight {
  if (!WEIGHT_FORMATS.includes(format)) throw new InputError(`unknown weight format '${format}' (expected ${WEIGHT_FORMATS.join(', ')})`);
  if (values.length !== out * inFeatures) {
    throw new InputError(`weight [${out}, ${inFeatures}] needs ${out * inFeatures} values, got ${values.length}`);
  }
  return uploadPackedWeight(gpu, packWeight(values, out, inFeatures, format), options);
}

/** Bytes the weight occupies on the GPU (data + scales), for memory accounting and benchmarks. */
export function weightBytes(w: Weight): number {
  return w.data.byteLength + (w.scales?.byteLength ?? 0);
}

export function destroyWeight(w: Weight, options: { bias?: boolean } = {}): void {
  w.data.destroy();
  w.scales?.destroy();
  if (options.bias) w.bias?.destroy();
}
