/**
 * CPU-side weight packing for the matmul kernels, and its inverse.
 *
 * A weight matrix is in Hugging Face layout `[out, in]` (row n = output feature n). Every format
 * stores rows padded with zeros to `rowStride = ceil(in / 32) · 32` elements, so a row always holds
 * whole quantization groups and starts on a 16-byte boundary (the kernels load rows as vec4).
 *
 * Formats:
 * - `f32`: the values.
 * - `f16`: f16 bit patterns, two per u32 word (element 2i in the low half).
 * - `q8`:  symmetric int8 per group of 32 along `in`: scale = absmax / 127 (stored as f16),
 *          code = round(x / scale) in [-127, 127], four codes per u32 word (element 4i in the low byte).
 * - `q4`:  symmetric 4-bit per group of 32: scale = absmax / 7 (f16), code = round(x / scale) in
 *          [-8, 7] stored as the nibble code + 8, eight per u32 word (element 8i in the low nibble).
 * Scales are row-major `[out, rowStride / 32]` f16 bit patterns, two per u32 word.
 *
 * Error bound of the quantized formats: |x − dequantize(x)| ≤ scale / 2 for every element, where
 * scale is the group's stored (f16-rounded) scale. Codes are computed against that rounded scale,
 * so the only error is the rounding of x / scale to an integer; the group's absmax element may be
 * clamped to ±127 (±7) when rounding the scale down made x / scale exceed it, which costs at most
 * 127 · scale · 2⁻¹¹ ≈ 0.06 · scale — still inside the bound.
 */
import { f16BitsToF32, f32ArrayToF16Bits, f32ToF16Bits, roundToF16 } from '../gpu/f16';

export type WeightFormat = 'f32' | 'f16' | 'q8' | 'q4';

/** Elements per quantization group (and the row padding unit of every format). */
export const GROUP_SIZE = 32;

/** Largest code magnitude per quantized format: scale = absmax / QMAX. */
export const QMAX = { q8: 127, q4: 7 } as const;

/** A weight matrix in the GPU layout, still on the CPU. */
export interface PackedWeight {
  format: WeightFormat;
  outFeatures: number;
  inFeatures: number;
  /** Elements per stored row: `inFeatures` rounded up to a multiple of 32, padding zero. */
  rowStride: number;
  /** f32: the values; f16: bit patterns; q8/q4: packed codes (u32 words). Row-major, padded rows. */
  data: Float32Array | Uint16Array | Uint32Array;
  /** q8/q4: f16 scale bits `[out, rowStride / 32]` (length padded to even); null otherwise. */
  scales: Uint16Array | null;
}

export function paddedRowLength(inFeatures: number): number {
  return Math.ceil(inFeatures / GROUP_SIZE) * GROUP_SIZE;
}

function checkShape(values: ArrayLike<number>, out: number, inF: number): void {
  if (!Number.isInteger(out) || !Number.isInteger(inF) || out <= 0 || inF <= 0) {
    throw new RangeError(`weight shape [${out}, ${inF}] must be positive integers`);
  }
  if (values.length !== out * inF) throw new RangeError(`weight [${out}, ${inF}] needs ${out * inF} values, got ${values.length}`);
}

/** Packs a row-major `[out, in]` matrix into the GPU layout of `format`. */
export function packWeight(values: ArrayLike<number>, out: number, inF: number, format: WeightFormat): PackedWeight {
  checkShape(values, out, inF);
  const rowStride = paddedRowLength(inF);
  const base = { format, outFeatures: out, inFeatures: inF, rowStride };
  if (format === 'f32' || format === 'f16') {
    const padded = new Float32Array(out * rowStride);
    if (values instanceof Float32Array && rowStride === inF) padded.set(values);
    else if (values instanceof Float32Array) for (let n = 0; n < out; n++) padded.set(values.subarray(n * inF, (n + 1) * inF), n * rowStride);
    else for (let n = 0; n < out; n++) for (let k = 0; k < inF; k++) padded[n * rowStride + k] = values[n * inF + k];
    if (format === 'f32') return { ...base, data: padded, scales: null };
    const bits = new Uint16Array(padded.length); // rowStride is even, so the length is too
    f32ArrayToF16Bits(padded, bits);
    return { ...base, data: bits, scales: null };
  }
  const qmax = QMAX[format];
  const bitsPerCode = format === 'q8' ? 8 : 4;
  const codesPerWord = 32 / bitsPerCode;
  const groups = rowStride / GROUP_SIZE;
  const scales = new Uint16Array(out * groups + ((out * groups) & 1));
  const words = new Uint32Array((out * rowStride) / codesPerWord);
  const mask = (1 << bitsPerCode) - 1;
  for (let n = 0; n < out; n++) {
    for (let g = 0; g < groups; g++) {
      const start = g * GROUP_SIZE;
      const end = Math.min(start + GROUP_SIZE, inF);
      let absmax = 0;
      for (let k = start; k < end; k++) absmax = Math.max(absmax, Math.abs(values[n * inF + k]));
      const scaleBits = f32ToF16Bits(absmax / qmax);
      const scale = f16BitsToF32(scaleBits);
      if (!Number.isFinite(scale)) throw new RangeError(`weight row ${n} group ${g}: absmax ${absmax} overflows an f16 scale`);
      scales[n * groups + g] = scaleBits;
      for (let k = start; k < end; k++) {
        // scale 0 (an all-zero group, or one whose scale underflowed f16): codes stay 0
        const q = scale === 0 ? 0 : Math.max(-qmax, Math.min(qmax, Math.round(values[n * inF + k] / scale)));
        const stored = format === 'q8' ? q & 0xff : q + 8;
        const index = n * rowStride + k;
        const shift = (index % codesPerWord) * bitsPerCode;
        words[Math.floor(index / codesPerWord)] |= (stored & mask) << shift;
      }
    }
  }
  return { ...base, data: words, scales };
}

/**
 * An `[out, in]` matrix already in f16 bit patterns (as an F16 checkpoint stores it) in the `f16`
 * GPU layout: the same result as `packWeight(values, out, in, 'f16')` for the values those bits
 * hold, without converting each one to f32 and back. `bits` itself is the data when rows need
 * no padding.
 */
export function packF16Bits(bits: Uint16Array, out: number, inF: number): PackedWeight {
  checkShape(bits, out, inF);
  const rowStride = paddedRowLength(inF);
  let data = bits;
  if (rowStride !== inF) {
    data = new Uint16Array(out * rowStride);
    for (let n = 0; n < out; n++) data.set(bits.subarray(n * inF, (n + 1) * inF), n * rowStride);
  }
  return { format: 'f16', outFeatures: out, inFeatures: inF, rowStride, data, scales: null };
}

/** The f16 scale of (row n, group g) of a packed quantized weight. */
export function groupScale(w: PackedWeight, n: number, g: number): number {
  if (!w.scales) throw new RangeError(`${w.format} weights have no scales`);
  return f16BitsToF32(w.scales[n * (w.rowStride / GROUP_SIZE) + g]);
}

/** The signed code of element (n, k) of a packed q8/q4 weight. */
function code(w: PackedWeight, n: number, k: number): number {
  const words = w.data as Uint32Array;
  const index = n * w.rowStride + k;
  if (w.format === 'q8') {
    const byte = (words[index >>> 2] >>> ((index & 3) * 8)) & 0xff;
    return byte >= 128 ? byte - 256 : byte;
  }
  return ((words[index >>> 3] >>> ((index & 7) * 4)) & 0xf) - 8;
}

/** Unpacks to the row-major `[out, in]` values the GPU kernels multiply by. */
export function unpackWeight(w: PackedWeight): Float32Array {
  const { outFeatures: out, inFeatures: inF, rowStride } = w;
  const values = new Float32Array(out * inF);
  for (let n = 0; n < out; n++) {
    for (let k = 0; k < inF; k++) {
      const i = n * rowStride + k;
      switch (w.format) {
        case 'f32':
          values[n * inF + k] = (w.data as Float32Array)[i];
          break;
        case 'f16':
          values[n * inF + k] = f16BitsToF32((w.data as Uint16Array)[i]);
          break;
        default:
          values[n * inF + k] = code(w, n, k) * groupScale(w, n, Math.floor(k / GROUP_SIZE));
      }
    }
  }
  return values;
}

/**
 * What the GPU sees after uploading `values` as `format`: the references multiply by this, so the
 * matmul checks measure the kernels, not the quantization error.
 */
export function dequantizedWeights(values: Float32Array, out: number, inF: number, format: WeightFormat): Float32Array {
  if (format === 'f32') return values;
  if (format === 'f16') return roundToF16(values);
  return unpackWeight(packWeight(values, out, inF, format));
}

/**
 * Largest |x − dequantize(x)| over the matrix divided by its documented bound (scale / 2 of the
 * element's group, or f16's half-ulp for `f16`); ≤ 1 when the quantizer keeps its promise.
 */
export function quantizationErrorRatio(values: Float32Array, w: PackedWeight): number {
  const deq = unpackWeight(w);
  let worst = 0;
  for (let n = 0; n < w.outFeatures; n++) {
    for (let k = 0; k < w.inFeatures; k++) {
      const i = n * w.inFeatures + k;
      const err = Math.abs(values[i] - deq[i]);
      let bound: number;
      if (w.format === 'f32') bound = 0;
      else if (w.format === 'f16') bound = Math.max(Math.abs(values[i]) * 2 ** -11, 2 ** -25);
      else bound = groupScale(w, n, Math.floor(k / GROUP_SIZE)) / 2;
      // a relative slack of 1e-6 covers the f32 rounding of code · scale
      const ratio = err === 0 ? 0 : err / (bound * (1 + 1e-6) + 1e-30);
      worst = Math.max(worst, ratio);
    }
  }
  return worst;
}
