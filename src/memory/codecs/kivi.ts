import { kvQuantPartLayout, type KvBits } from '../../kernels/kvquant-layout';
import { dequantizeKeysRef } from '../../kernels/kvquant-cpu';
import type { KvCodec, KvPart, KvPartShape } from './codec';

/**
 * KIVI-style quantization at `bits` (keys per channel in groups of `keyGroup` tokens, values per
 * token in groups of 32 channels; src/kernels/kvquant-layout.ts). A part is its code words, then
 * its param words, in the GPU layout of kvQuantPartLayout.
 */
export function kiviCodec(bits: KvBits): KvCodec {
  return {
    id: `kivi-${bits}`,
    fileCode: bits,
    bits,
    partBytes: (part: KvPart, s: KvPartShape) => kvQuantPartLayout(part, s.tokens, s.channels, bits, s.keyGroup).bytes,
    decodeKeys(encoded, s) {
      const layout = kvQuantPartLayout('keys', s.tokens, s.channels, bits, s.keyGroup);
      const codes = new Uint32Array(encoded.buffer, encoded.byteOffset, layout.codeWords);
      const params = new Uint32Array(encoded.buffer, encoded.byteOffset + layout.codeWords * 4, layout.paramWords);
      return dequantizeKeysRef({ codes, params }, s.tokens, s.channels, bits, s.keyGroup);
    },
  };
}

