import source from '../../shaders/copy.wgsl?raw';
import { InputError } from '../errors';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { UniformWriter } from '../gpu/uniforms';
import { grid, pipeline } from './common';

const WG = 256;

/**
 * Copies `bytes` (a multiple of 16) from `src` at `srcByte` to `dst` at `dstByte` in a compute
 * dispatch, so the copy stays inside the current compute pass (a `copyBufferToBuffer` would end it).
 */
export function copyBytes(rec: CommandRecorder, src: Tensor, srcByte: number, dst: Tensor, dstByte: number, bytes: number): void {
  if (bytes % 16 || srcByte % 16 || dstByte % 16) throw new InputError('copyBytes: sizes and offsets must be multiples of 16 bytes');
  if (srcByte + bytes > src.byteLength || dstByte + bytes > dst.byteLength) throw new InputError('copyBytes: range out of bounds');
  const chunks = bytes / 16;
  const p = pipeline(rec.gpu, { name: 'copy', source, precision: 'f32' });
  const uniforms = new UniformWriter().u32(chunks).u32(srcByte / 16).u32(dstByte / 16).finish();
  rec.dispatch(p, uniforms, [src, dst], grid(rec.gpu, Math.ceil(chunks / WG)));
}
