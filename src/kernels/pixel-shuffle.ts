import source from '../../shaders/pixel_shuffle.wgsl?raw';
import { InputError } from '../errors';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { dispatchKernel, grid, type Precision } from './common';

const pixelShuffleKernel = defineKernel({
  name: 'pixel_shuffle',
  body: [source],
  uniforms: {
    count: 'u32', // output elements
    side: 'u32', // patches per row of a tile (√seq)
    scale: 'u32', // s
    width: 'u32', // E
  },
  bindings: { x: read('array<act>'), out: readWrite('array<act>') },
  constants: { WG: 256 },
});

/**
 * The SmolVLM connector's pixel shuffle: x [n, seq, E] → out [n, seq/s², E·s²] (seq a square whose
 * side is a multiple of s). Output token (hp, wp) holds the s×s block of patches at
 * (s·hp + dh, s·wp + dw), dh-major, each patch's E features contiguous (spec §6.3).
 */
export function pixelShuffle(rec: CommandRecorder, x: Tensor, out: Tensor, scale: number): void {
  if (x.dtype !== 'f32' && x.dtype !== 'f16') throw new InputError(`pixelShuffle: x must be f32 or f16, got ${x.dtype}`);
  if (out.dtype !== x.dtype) throw new InputError(`pixelShuffle: out is ${out.dtype}, x is ${x.dtype}`);
  if (x.shape.length !== 3) throw new InputError(`pixelShuffle: x must be [n, seq, E], got [${x.shape.join(', ')}]`);
  const [n, seq, width] = x.shape;
  const side = Math.round(Math.sqrt(seq));
  if (side * side !== seq) throw new InputError(`pixelShuffle: seq ${seq} is not a square`);
  if (!Number.isInteger(scale) || scale <= 0 || side % scale) throw new InputError(`pixelShuffle: side ${side} is not a multiple of scale ${scale}`);
  const expected = [n, seq / (scale * scale), width * scale * scale];
  if (out.shape.join() !== expected.join()) {
    throw new InputError(`pixelShuffle: out has shape [${out.shape.join(', ')}], expected [${expected.join(', ')}]`);
  }
  if (out.size === 0) return;
  const workgroups = grid(rec.gpu, Math.ceil(out.size / pixelShuffleKernel.constants.WG));
  dispatchKernel(rec, pixelShuffleKernel, { precision: x.dtype as Precision }, { count: out.size, side, scale, width }, { x, out }, workgroups);
}
