import type { KvCodecKernels, KvDecoder, KvEncoder, KvPartShape } from './codec';

/** The raw codec's GPU side: buffer copies out of the cache, queue writes back into it. */
export const RAW_KERNELS: KvCodecKernels = {
  createEncoder(_gpu, shape: KvPartShape): KvEncoder {
    return {
      recordEncode() {},
      recordCopies(rec, cache, layer, row, packed, keys, values) {
        cache.recordReadRows(rec, layer, 'keys', row, shape.tokens, packed, keys.offset);
        cache.recordReadRows(rec, layer, 'values', row, shape.tokens, packed, values.offset);
      },
      destroy() {},
    };
  },
  createDecoder(): KvDecoder {
    return {
      decode(_recorder, cache, layer, row, payload, keys, values) {
        cache.writeRows(layer, 'keys', row, payload, keys.offset, keys.bytes);
        cache.writeRows(layer, 'values', row, payload, values.offset, values.bytes);
      },
      destroy() {},
    };
  },
};
