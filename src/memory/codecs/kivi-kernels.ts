import type { GpuDevice } from '../../gpu/device';
import { createKvQuantBlock, dequantizeKeys, dequantizeValues, destroyKvQuantBlock, quantizeKeys, quantizeValues, type KvBits, type KvQuantBlock } from '../../kernels/kvquant';
import type { KvCodecKernels, KvDecoder, KvEncoder, KvPartShape } from './codec';

/**
 * The KIVI codec's GPU side (shaders/kvquant.wgsl): per layer a quantized block the cache rows are
 * quantized into (then its codes and params copied into the payload being packed), or the
 * payload's codes and params are uploaded into (then dequantized into the cache rows).
 */
export function kiviKernels(bits: KvBits): KvCodecKernels {
  const blocksFor = (gpu: GpuDevice, s: KvPartShape, layers: number): KvQuantBlock[] =>
    Array.from({ length: layers }, () => createKvQuantBlock(gpu, { tokens: s.tokens, channels: s.channels, keyBits: bits, keyGroup: s.keyGroup }));
  return {
    createEncoder(gpu, shape, layers): KvEncoder {
      const blocks = blocksFor(gpu, shape, layers);
      return {
        recordEncode(rec, cache, l, row) {
          quantizeKeys(rec, cache.rows(l, 'keys'), blocks[l], { row });
          quantizeValues(rec, cache.rows(l, 'values'), blocks[l], { row });
        },
        recordCopies(rec, _cache, l, _row, packed, keys, values) {
          const b = blocks[l];
          for (const [part, s] of [[b.keys, keys], [b.values, values]] as const) {
            const codeBytes = part.codeWords * 4;
            rec.copy(part.codes.buffer, 0, packed, s.offset, codeBytes);
            rec.copy(part.params.buffer, 0, packed, s.offset + codeBytes, part.paramWords * 4);
          }
        },
        destroy: () => blocks.forEach(destroyKvQuantBlock),
      };
    },
    createDecoder(gpu, shape, layers): KvDecoder {
      const blocks = blocksFor(gpu, shape, layers);
      const queue = gpu.device.queue;
      return {
        decode(recorder, cache, l, row, p, keys, values) {
          const b = blocks[l];
          // the uploads land before the caller's submit, and the next block's uploads after it
          for (const [part, s] of [[b.keys, keys], [b.values, values]] as const) {
            const codeBytes = part.codeWords * 4;
            queue.writeBuffer(part.codes.buffer, 0, p.buffer, p.byteOffset + s.offset, codeBytes);
            queue.writeBuffer(part.params.buffer, 0, p.buffer, p.byteOffset + s.offset + codeBytes, part.paramWords * 4);
          }
          const rec = recorder();
          dequantizeKeys(rec, b, cache.rows(l, 'keys'), { row });
          dequantizeValues(rec, b, cache.rows(l, 'values'), { row });
        },
        destroy: () => blocks.forEach(destroyKvQuantBlock),
      };
    },
  };
}
