import source from '../../shaders/resize.wgsl?raw';
import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import type { Size } from '../image-size';
import { dispatchKernel, expectDType, expectSize, grid } from './common';
import { PRECISION_BITS, lanczosCoeffs, type AxisCoeffs } from './lanczos-coeffs';

const resizeKernel = defineKernel({
  name: 'resize',
  body: [source],
  uniforms: { src_w: 'u32', out_w: 'u32', out_h: 'u32', ksize: 'u32' },
  bindings: {
    src: read('array<u32>'),
    // Per output index along the filtered axis: first input index, number of taps.
    bounds: read('array<i32>'),
    // ksize weights per output index along the filtered axis.
    weights: read('array<i32>'),
    dst: readWrite('array<u32>'),
  },
  // the coefficients' fixed-point fraction bits: the shader shifts by the value the CPU scaled with
  constants: { WG: 256, PRECISION_BITS },
});

/**
 * Packs interleaved uint8 pixels (RGB or RGBA; alpha dropped as PIL's convert("RGB") does) into
 * one u32 per pixel, R | G<<8 | B<<16: the image layout the resize and tile kernels read.
 */
export function packRgb(data: ArrayLike<number>, width: number, height: number, channels: 3 | 4): Uint32Array {
  if (data.length !== width * height * channels) {
    throw new InputError(`image data has ${data.length} bytes; ${width}×${height}×${channels} needs ${width * height * channels}`);
  }
  const out = new Uint32Array(width * height);
  for (let i = 0, j = 0; i < out.length; i++, j += channels) out[i] = data[j] | (data[j + 1] << 8) | (data[j + 2] << 16);
  return out;
}

/** Unpacks the kernel layout back to interleaved RGB bytes (tests, debugging). */
export function unpackRgb(packed: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(packed.length * 3);
  for (let i = 0; i < packed.length; i++) {
    out[3 * i] = packed[i] & 255;
    out[3 * i + 1] = (packed[i] >>> 8) & 255;
    out[3 * i + 2] = (packed[i] >>> 16) & 255;
  }
  return out;
}

interface AxisBuffers {
  coeffs: AxisCoeffs;
  bounds: Tensor;
  weights: Tensor;
}

function uploadAxis(gpu: GpuDevice, inSize: number, outSize: number, label: string): AxisBuffers {
  const coeffs = lanczosCoeffs(inSize, outSize);
  return {
    coeffs,
    bounds: Tensor.from(gpu, coeffs.bounds, [coeffs.bounds.length], 'i32', `${label} bounds`),
    weights: Tensor.from(gpu, coeffs.weights, [coeffs.weights.length], 'i32', `${label} weights`),
  };
}

/**
 * A planned `Image.resize(to, LANCZOS)` from one size to another on packed RGB8 tensors (u32
 * [h, w]), bit-identical to Pillow: its fixed-point coefficients are uploaded once here, and
 * `record` adds the passes (horizontal first; a pass whose dimension is unchanged is skipped, a
 * same-size resize is a copy). Call `destroy` once the recorded work is submitted.
 */
export class GpuResize {
  private constructor(
    readonly from: Size,
    readonly to: Size,
    private readonly horizontal: AxisBuffers | null,
    private readonly vertical: AxisBuffers | null,
    /** Between the passes: to.width × from.height, bytes as Pillow keeps them. */
    private readonly temp: Tensor | null,
  ) {}

  static create(gpu: GpuDevice, from: Size, to: Size): GpuResize {
    for (const s of [from, to]) {
      if (!Number.isInteger(s.width) || !Number.isInteger(s.height) || s.width <= 0 || s.height <= 0) {
        throw new InputError(`resize sizes must be positive integers, got ${s.width}×${s.height}`);
      }
    }
    const h = to.width !== from.width ? uploadAxis(gpu, from.width, to.width, 'resize x') : null;
    const v = to.height !== from.height ? uploadAxis(gpu, from.height, to.height, 'resize y') : null;
    const temp = h && v ? Tensor.empty(gpu, [from.height, to.width], 'u32', 'resize temp') : null;
    return new GpuResize({ ...from }, { ...to }, h, v, temp);
  }

  /** src: u32 [from.height, from.width] packed RGB8; dst: u32 [to.height, to.width]. */
  record(rec: CommandRecorder, src: Tensor, dst: Tensor): void {
    expectDType(src, 'u32', 'resize input');
    expectDType(dst, 'u32', 'resize output');
    expectSize(src, this.from.width * this.from.height, 'resize input');
    expectSize(dst, this.to.width * this.to.height, 'resize output');
    if (!this.horizontal && !this.vertical) {
      rec.copy(src.buffer, 0, dst.buffer, 0, this.from.width * this.from.height * 4);
      return;
    }
    let cur = src;
    let curW = this.from.width;
    if (this.horizontal) {
      const out = this.vertical ? this.temp! : dst;
      pass(rec, 'horizontal', cur, curW, this.to.width, this.from.height, this.horizontal, out);
      cur = out;
      curW = this.to.width;
    }
    if (this.vertical) pass(rec, 'vertical', cur, curW, curW, this.to.height, this.vertical, dst);
  }

  destroy(): void {
    for (const a of [this.horizontal, this.vertical]) {
      a?.bounds.destroy();
      a?.weights.destroy();
    }
    this.temp?.destroy();
  }
}

function pass(
  rec: CommandRecorder,
  entryPoint: 'horizontal' | 'vertical',
  src: Tensor,
  srcW: number,
  outW: number,
  outH: number,
  axis: AxisBuffers,
  dst: Tensor,
): void {
  const gpu: GpuDevice = rec.gpu;
  // integer-only kernel: the f32 variant serves every precision
  const uniforms = { src_w: srcW, out_w: outW, out_h: outH, ksize: axis.coeffs.ksize };
  const bindings = { src, bounds: axis.bounds, weights: axis.weights, dst };
  dispatchKernel(rec, resizeKernel, { precision: 'f32', entryPoint }, uniforms, bindings, grid(gpu, Math.ceil((outW * outH) / resizeKernel.constants.WG)));
}
