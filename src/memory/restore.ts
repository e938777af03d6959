import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { CommandRecorder } from '../gpu/recorder';
import type { KvDecoder } from './codecs/codec';
import { kernelsOf } from './codecs/gpu-registry';
import { codecOf } from './codecs/registry';
import type { FrameBlock } from './frame-block';
import type { KvCache } from './kv-cache';
import { checkPayload, payloadLayout } from './payload';

/**
 * Puts frame blocks back into a GPU cache at given rows, through the block's codec (codecs/): raw
 * blocks by buffer writes, quantized ones by uploading their codes into reusable GPU blocks and
 * dequantizing on the GPU (shaders/kvquant.wgsl) into the rows. Keys come back unrotated; they take
 * the positions of the rows they land in (contiguous positions, see StreamEngine).
 */
export class FrameBlockReader {
  private readonly scratch = new Map<string, KvDecoder>();

  constructor(readonly gpu: GpuDevice) {}

  /** Writes `block` into rows row … row+tokens−1 of every layer of `cache`; the work is submitted before this returns. */
  restore(cache: KvCache, block: FrameBlock, row: number): void {
    checkPayload(block);
    const c = cache.config;
    if (block.layers !== c.layers || block.channels !== c.kvHeads * c.headDim || block.dtype !== c.dtype) {
      throw new InputError(`frame block ${block.index} does not fit this cache (${block.layers} layers, ${block.channels} channels, ${block.dtype})`);
    }
    if (row < 0 || row + block.tokens > cache.capacity) throw new InputError(`frame block ${block.index}: rows [${row}, ${row + block.tokens}) exceed the cache's ${cache.capacity}`);
    const codec = codecOf(block);
    const layout = payloadLayout(block);
    const key = `${codec.id}/${block.tokens}/${block.keyGroup}/${block.dtype}`;
    let decoder = this.scratch.get(key);
    if (!decoder) {
      decoder = kernelsOf(codec).createDecoder(this.gpu, { tokens: block.tokens, channels: block.channels, keyGroup: block.keyGroup, dtype: block.dtype }, block.layers);
      this.scratch.set(key, decoder);
    }
    // one submit per block, and none for a codec that only writes buffers
    let rec: CommandRecorder | null = null;
    const recorder = () => (rec ??= new CommandRecorder(this.gpu, undefined, 'restore frame'));
    layout.layers.forEach((s, l) => decoder.decode(recorder, cache, l, row, block.payload, s.keys, s.values));
    (rec as CommandRecorder | null)?.submit();
  }

  destroy(): void {
    for (const decoder of this.scratch.values()) decoder.destroy();
    this.scratch.clear();
  }
}
