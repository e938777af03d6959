import source from '../../shaders/patchify.wgsl?raw';
import { InputError } from '../errors';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { dispatchKernel, expectDType, grid, type Precision } from './common';

const patchifyKernel = defineKernel({
  name: 'patchify',
  body: [source],
  uniforms: {
    count: 'u32', // output elements
    first_tile: 'u32', // image of pixels that becomes the first output tile
    channels: 'u32',
    height: 'u32',
    width: 'u32',
    patch_size: 'u32',
  },
  bindings: { pixels: read('array<f32>'), out: readWrite('array<act>') },
  constants: { WG: 256 },
});

export interface PatchifyOptions {
  /** Side of the square, non-overlapping patches (the conv's kernel = stride). */
  patchSize: number;
  /** First image of `pixels` to cut (default 0): lets a caller process tiles in batches. */
  firstTile?: number;
  /** Images to cut (default: all from firstTile on). */
  tiles?: number;
}

/**
 * pixels: f32 [n, C, H, W] → out: act [tiles·(H/p)·(W/p), C·p·p], patches row-major per tile,
 * each row in (c, ky, kx) order — the layout that turns a Conv2d(kernel = stride = p) into
 * `matmul(out, convWeight viewed as [hidden, C·p·p])`. The output dtype is the precision.
 */
export function patchify(rec: CommandRecorder, pixels: Tensor, out: Tensor, options: PatchifyOptions): void {
  expectDType(pixels, 'f32', 'patchify pixels');
  if (out.dtype !== 'f32' && out.dtype !== 'f16') throw new InputError(`patchify: out must be f32 or f16, got ${out.dtype}`);
  if (pixels.shape.length !== 4) throw new InputError(`patchify: pixels must be [n, C, H, W], got [${pixels.shape.join(', ')}]`);
  const [n, channels, height, width] = pixels.shape;
  const p = options.patchSize;
  if (!Number.isInteger(p) || p <= 0 || height % p || width % p) {
    throw new InputError(`patchify: ${height}×${width} images do not split into ${p}×${p} patches`);
  }
  const firstTile = options.firstTile ?? 0;
  const tiles = options.tiles ?? n - firstTile;
  if (!Number.isInteger(firstTile) || !Number.isInteger(tiles) || firstTile < 0 || tiles < 0 || firstTile + tiles > n) {
    throw new InputError(`patchify: tiles ${firstTile}..${firstTile + tiles} out of the ${n} images`);
  }
  const rows = tiles * (height / p) * (width / p);
  const rowLen = channels * p * p;
  if (out.size !== rows * rowLen || out.shape[out.shape.length - 1] !== rowLen) {
    throw new InputError(`patchify: out has shape [${out.shape.join(', ')}], expected [${rows}, ${rowLen}]`);
  }
  if (rows === 0) return;
  const uniforms = { count: out.size, first_tile: firstTile, channels, height, width, patch_size: p };
  const workgroups = grid(rec.gpu, Math.ceil(out.size / patchifyKernel.constants.WG));
  dispatchKernel(rec, patchifyKernel, { precision: out.dtype as Precision }, uniforms, { pixels, out }, workgroups);
}
