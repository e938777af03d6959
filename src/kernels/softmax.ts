import source from '../../shaders/softmax.wgsl?raw';
import { InputError } from '../errors';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { dispatchKernel, expectDType, grid } from './common';

const softmaxKernel = defineKernel({
  name: 'softmax',
  body: [source],
  uniforms: { rows: 'u32', width: 'u32' /* N */ },
  bindings: { x: read('array<act>'), out: readWrite('array<act>') },
  constants: { WG: 256 },
});

/**
 * Softmax over the last axis of x (act [rows, N], f32 or f16 = the precision) into out (same
 * shape and dtype, a distinct tensor). Numerically stable (subtracts the row maximum), f32 math;
 * one workgroup per row, any N.
 */
export function softmax(rec: CommandRecorder, x: Tensor, out: Tensor): void {
  if (x.dtype !== 'f32' && x.dtype !== 'f16') throw new InputError(`softmax: x must be an f32 or f16 activation tensor, got ${x.dtype}`);
  expectDType(out, x.dtype, 'softmax out');
  const width = x.shape[x.shape.length - 1] ?? 0;
  if (width === 0) throw new InputError(`softmax: x [${x.shape.join(', ')}] has an empty last axis`);
  if (out.size !== x.size) throw new InputError(`softmax: out has ${out.size} elements, x has ${x.size}`);
  const rows = x.size / width;
  dispatchKernel(rec, softmaxKernel, { precision: x.dtype, entryPoint: 'softmax' }, { rows, width }, { x, out }, grid(rec.gpu, rows));
}
