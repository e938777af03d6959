/**
 * Pillow's LANCZOS resampling coefficients (libImaging/Resample.c: precompute_coeffs,
 * normalize_coeffs_8bpc), ported operation for operation. The GPU resize kernel (./resize.ts)
 * uploads them, and the CPU reference of the resize (src/reference/pil-resize.ts) uses the same
 * ones, so both give the bytes of `Image.resize(size, LANCZOS)`.
 */

/** Pillow: 8 bits of result, 2 bits of headroom for filters with negative lobes, in an int32. */
export const PRECISION_BITS = 32 - 8 - 2;

/** Lanczos a = 3 (Pillow's `LANCZOS = {lanczos_filter, 3.0}`). */
const LANCZOS_SUPPORT = 3.0;

function sinc(x: number): number {
  if (x === 0.0) return 1.0;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  // truncated sinc; the interval is half-open as in Pillow
  if (-3.0 <= x && x < 3.0) return sinc(x) * sinc(x / 3);
  return 0.0;
}

/**
 * Fixed-point resampling coefficients of one axis, as Pillow computes them for 8-bit images.
 * Output pixel `i` reads input pixels `bounds[2i] .. bounds[2i] + bounds[2i+1] − 1` with weights
 * `weights[i·ksize ..]` (the unused tail of each row is 0).
 */
export interface AxisCoeffs {
  inSize: number;
  outSize: number;
  /** Stride of `weights` per output pixel: 2·ceil(support) + 1. */
  ksize: number;
  /** Per output pixel: first input index, number of taps. */
  bounds: Int32Array;
  /** Weights scaled by 2^PRECISION_BITS and rounded half away from zero. */
  weights: Int32Array;
}

/** `precompute_coeffs(inSize, 0, inSize, outSize, LANCZOS)` then `normalize_coeffs_8bpc`. */
export function lanczosCoeffs(inSize: number, outSize: number): AxisCoeffs {
  // in1 − in0 is a C float; exact for any image size below 2^24
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1.0);
  const support = LANCZOS_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = 0 + (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; a negative xmin is clipped to 0 anyway
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0.0 ? k[x] / ww : k[x];
      // normalize_coeffs_8bpc: round half away from zero, (int) truncation
      weights[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { inSize, outSize, ksize, bounds, weights };
}
