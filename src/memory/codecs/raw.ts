import { fromF16Bits } from '../../gpu/f16';
import type { KvCodec, KvPartShape } from './codec';

/** The cache rows as they are (f32 or f16): restores them bit for bit. */
export const RAW_CODEC: KvCodec = {
  id: 'raw',
  fileCode: 0,
  bits: 'none',
  partBytes: (_part, s: KvPartShape) => s.tokens * s.channels * (s.dtype === 'f16' ? 2 : 4),
  decodeKeys(encoded, s) {
    const n = s.tokens * s.channels;
    return s.dtype === 'f16' ? fromF16Bits(new Uint16Array(encoded.buffer, encoded.byteOffset, n), n) : new Float32Array(encoded.buffer, encoded.byteOffset, n);
  },
};
