import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { CommandRecorder } from '../gpu/recorder';
import { createKvQuantBlock, dequantizeKeys, dequantizeValues, destroyKvQuantBlock, type KvQuantBlock } from '../kernels/kvquant';
import type { KvCache } from './kv-cache';
import type { FrameBlock } from './frame-block';
import { checkPayload, payloadLayout } from './payload';

/**
 * Puts frame blocks back into a GPU cache at given rows: raw blocks by a buffer write, quantized
 * blocks by uploading their codes into reusable GPU blocks and dequantizing on the GPU
 * (shaders/kvquant.wgsl) into the rows. Keys come back unrotated; they take the positions of the
 * rows they land in (contiguous positions, see StreamEngine).
 */
export class FrameBlockReader {
  private readonly scratch = new Map<string, KvQuantBlock[]>();

  constructor(readonly gpu: GpuDevice) {}

  /** Writes `block` into rows row … row+tokens−1 of every layer of `cache`; the work is submitted before this returns. */
  restore(cache: KvCache, block: FrameBlock, row: number): void {
    checkPayload(block);
    const c = cache.config;
    if (block.layers !== c.layers || block.channels !== c.kvHeads * c.headDim || block.dtype !== c.dtype) {
      throw new InputError(`frame block ${block.index} does not fit this cache (${block.layers} layers, ${block.channels} channels, ${block.dtype})`);
    }
    if (row < 0 || row + block.tokens > cache.capacity) throw new InputError(`frame block ${block.index}: rows [${row}, ${row + block.tokens}) exceed the cache's ${cache.capacity}`);
    const layout = payloadLayout(block);
    const queue = this.gpu.device.queue;
    const p = block.payload;
    if (block.bits === 'none') {
      layout.layers.forEach((s, l) => {
        cache.writeRows(l, 'keys', row, p, s.keys.offset, s.keys.bytes);
        cache.writeRows(l, 'values', row, p, s.values.offset, s.values.bytes);
      });
      return;
    }
    const bits = block.bits;
    const key = `${block.tokens}/${bits}/${block.keyGroup}`;
    let blocks = this.scratch.get(key);
    if (!blocks) {
      blocks = Array.from({ length: block.layers }, () => createKvQuantBlock(this.gpu, { tokens: block.tokens, channels: block.channels, keyBits: bits, keyGroup: block.keyGroup }));
      this.scratch.set(key, blocks);
    }
    // the uploads land before this submit, and the next restore's uploads after it: one submit per block
    const rec = new CommandRecorder(this.gpu, undefined, 'restore frame');
    layout.layers.forEach((s, l) => {
      const b = blocks[l];
      for (const [part, slice] of [[b.keys, s.keys], [b.values, s.values]] as const) {
        queue.writeBuffer(part.codes.buffer, 0, p.buffer, p.byteOffset + slice.offset, slice.bytes);
        queue.writeBuffer(part.params.buffer, 0, p.buffer, p.byteOffset + slice.params!.offset, slice.params!.bytes);
      }
      dequantizeKeys(rec, b, cache.rows(l, 'keys'), { row });
      dequantizeValues(rec, b, cache.rows(l, 'values'), { row });
    });
    rec.submit();
  }

  destroy(): void {
    for (const blocks of this.scratch.values()) blocks.forEach(destroyKvQuantBlock);
    this.scratch.clear();
  }
}
