import source from '../../shaders/copy.wgsl?raw';
import { InputError } from '../errors';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { dispatchKernel, grid } from './common';

const copyKernel = defineKernel({
  name: 'copy',
  body: [source],
  uniforms: {
    vec4_count: 'u32', // whole 16-byte chunks
    src_offset: 'u32', // in 16-byte chunks
    dst_offset: 'u32',
  },
  bindings: { src: read('array<vec4<u32>>'), dst: readWrite('array<vec4<u32>>') },
  constants: { WG: 256 },
});

/**
 * Copies `bytes` (a multiple of 16) from `src` at `srcByte` to `dst` at `dstByte` in a compute
 * dispatch, so the copy stays inside the current compute pass (a `copyBufferToBuffer` would end it).
 */
export function copyBytes(rec: CommandRecorder, src: Tensor, srcByte: number, dst: Tensor, dstByte: number, bytes: number): void {
  if (bytes % 16 || srcByte % 16 || dstByte % 16) throw new InputError('copyBytes: sizes and offsets must be multiples of 16 bytes');
  if (srcByte + bytes > src.byteLength || dstByte + bytes > dst.byteLength) throw new InputError('copyBytes: range out of bounds');
  const chunks = bytes / 16;
  dispatchKernel(
    rec,
    copyKernel,
    { precision: 'f32' },
    { vec4_count: chunks, src_offset: srcByte / 16, dst_offset: dstByte / 16 },
    { src, dst },
    grid(rec.gpu, Math.ceil(chunks / copyKernel.constants.WG)),
  );
}
