import source from '../../shaders/patchify.wgsl?raw';
import { InputError } from '../errors';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { UniformWriter } from '../gpu/uniforms';
import { expectDType, grid, pipeline, type Precision } from './common';

const WG = 256;

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
  const pipe = pipeline(rec.gpu, { name: 'patchify', source, precision: out.dtype as Precision });
  const uniforms = new UniformWriter().u32(out.size).u32(firstTile).u32(channels).u32(height).u32(width).u32(p).finish();
  rec.dispatch(pipe, uniforms, [pixels, out], grid(rec.gpu, Math.ceil(out.size / WG)));
}
