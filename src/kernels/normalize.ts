import source from '../../shaders/normalize.wgsl?raw';
import { InputError } from '../errors';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { dispatchKernel, expectDType, expectSize, grid } from './common';

const normalizeKernel = defineKernel({
  name: 'normalize',
  body: [source],
  uniforms: { src_w: 'u32', tile: 'u32', cols: 'u32', count: 'u32', out_offset: 'u32' },
  bindings: { src: read('array<u32>'), table: read('array<f32>'), out: readWrite('array<f32>') },
  constants: { WG: 256 },
});

export interface TileGrid {
  /** Width of the packed source image in pixels. */
  srcWidth: number;
  /** Tile side; tiles start at multiples of it. */
  tile: number;
  rows: number;
  cols: number;
  /** Where the first tile goes in `out`, in tiles (each 3·tile² floats). */
  outTile: number;
}

/**
 * Cuts a rows×cols grid of tile×tile crops out of a packed RGB8 image (u32 [h, w]) into `out`
 * (f32 [n, 3, tile, tile]) at tiles outTile.., row-major, mapping each byte through `table`
 * (f32 [3·256], see preprocess.ts normalizationTable).
 */
export function tilesToPlanes(rec: CommandRecorder, src: Tensor, table: Tensor, out: Tensor, g: TileGrid): void {
  expectDType(src, 'u32', 'tiles input');
  expectDType(table, 'f32', 'normalization table');
  expectDType(out, 'f32', 'pixel values');
  expectSize(table, 3 * 256, 'normalization table');
  if (g.rows <= 0 || g.cols <= 0 || g.tile <= 0) throw new InputError(`tile grid ${g.rows}×${g.cols} of ${g.tile} px is empty`);
  if (g.srcWidth < g.cols * g.tile) throw new InputError(`image ${g.srcWidth} px wide holds no ${g.cols} tiles of ${g.tile} px`);
  expectSize(src, g.srcWidth * g.rows * g.tile, 'tiles input');
  const per = 3 * g.tile * g.tile;
  const count = g.rows * g.cols * per;
  expectSize(out, (g.outTile + g.rows * g.cols) * per, 'pixel values');
  const uniforms = { src_w: g.srcWidth, tile: g.tile, cols: g.cols, count, out_offset: g.outTile * per };
  const workgroups = grid(rec.gpu, Math.ceil(count / normalizeKernel.constants.WG));
  dispatchKernel(rec, normalizeKernel, { precision: 'f32', entryPoint: 'to_planes' }, uniforms, { src, table, out }, workgroups);
}
