/**
 * Pillow's LANCZOS resize of 8-bit RGB images (libImaging/Resample.c: precompute_coeffs,
 * normalize_coeffs_8bpc, ImagingResampleHorizontal_8bpc / ImagingResampleVertical_8bpc), ported
 * operation for operation so the output bytes are identical to `Image.resize(size, LANCZOS)`.
 * transformers' SmolVLMImageProcessorPil resizes with exactly this, up to three times per image,
 * rounding to uint8 after every pass; the GPU kernel (src/kernels/resize.ts) uses the same
 * fixed-point coefficients (src/kernels/lanczos-coeffs.ts).
 */

import { PRECISION_BITS, lanczosCoeffs, type AxisCoeffs } from '../kernels/lanczos-coeffs';

export { PRECISION_BITS, lanczosCoeffs, type AxisCoeffs };

/** Pillow's clip8: the fixed-point sum back to a byte, clamped to 0..255. */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

const HALF = 1 << (PRECISION_BITS - 1);

/** ImagingResampleHorizontal_8bpc over an interleaved image of `channels` bytes per pixel. */
export function resampleHorizontal(src: Uint8Array, width: number, height: number, channels: number, c: AxisCoeffs): Uint8Array {
  const outW = c.outSize;
  const out = new Uint8Array(outW * height * channels);
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = c.bounds[xx * 2];
      const n = c.bounds[xx * 2 + 1];
      const kOff = xx * c.ksize;
      for (let ch = 0; ch < channels; ch++) {
        let acc = HALF;
        for (let x = 0; x < n; x++) acc += src[row + (x + xmin) * channels + ch] * c.weights[kOff + x];
        out[(y * outW + xx) * channels + ch] = clip8(acc);
      }
    }
  }
  return out;
}

/** ImagingResampleVertical_8bpc over an interleaved image of `channels` bytes per pixel. */
export function resampleVertical(src: Uint8Array, width: number, height: number, channels: number, c: AxisCoeffs): Uint8Array {
  const outH = c.outSize;
  const out = new Uint8Array(width * outH * channels);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = c.bounds[yy * 2];
    const n = c.bounds[yy * 2 + 1];
    const kOff = yy * c.ksize;
    for (let x = 0; x < width; x++) {
      for (let ch = 0; ch < channels; ch++) {
        let acc = HALF;
        for (let y = 0; y < n; y++) acc += src[((y + ymin) * width + x) * channels + ch] * c.weights[kOff + y];
        out[(yy * width + x) * channels + ch] = clip8(acc);
      }
    }
  }
  return out;
}

/**
 * `Image.resize((outW, outH), Image.LANCZOS)` of an interleaved uint8 image (3 or 4 channels,
 * every channel filtered alike, as Pillow does for RGB). Like ImagingResampleInner: horizontal
 * pass first, a pass is skipped when its dimension is unchanged, bytes between the passes.
 */
export function pilResizeLanczos(src: Uint8Array, width: number, height: number, outW: number, outH: number, channels = 3): Uint8Array {
  let img = src;
  if (outW !== width) img = resampleHorizontal(img, width, height, channels, lanczosCoeffs(width, outW));
  if (outH !== height) img = resampleVertical(img, outW, height, channels, lanczosCoeffs(height, outH));
  return img === src ? src.slice() : img;
}
