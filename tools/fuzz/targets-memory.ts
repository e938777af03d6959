import { KEY_GROUP_TOKENS } from '../../src/kernels/kvquant-layout';
import { LIMITS } from '../../src/limits';
import type { FrameBlock, KvStoreBits } from '../../src/memory/frame-block';
import { framePayloadBytes } from '../../src/memory/payload';
import { crc32, decodeBlock, decodeIndex, encodeBlock, encodeIndex, type IndexEntry } from '../../src/memory/persist';
import type { StoreMeta } from '../../src/memory/store';
import { concat, havoc, INTERESTING_F64, INTERESTING_U32 } from './mutate-bytes';
import { mutateJson } from './mutate-json';
import type { Rng } from './rng';
import type { FuzzTarget } from './target';

/** A store description and `n` valid blocks of it, in stream order. */
export function storeWithBlocks(rng: Rng, n: number): { meta: StoreMeta; blocks: FrameBlock[] } {
  const { meta, block } = store(rng);
  const blocks = [block];
  for (let i = 1; i < n; i++) {
    const prev = blocks[i - 1];
    blocks.push({ ...prev, index: prev.index + 1 + rng.int(3), timestampMs: prev.timestampMs + rng.int(2000), payload: prev.payload.map(() => rng.int(256)), keySummary: prev.keySummary.map(() => rng.next()) });
  }
  return { meta, blocks };
}

/** A small store description and a valid block of it (random payload: the format does not read it). */
function store(rng: Rng): { meta: StoreMeta; block: FrameBlock } {
  const bits = rng.pick<KvStoreBits>([8, 4, 2, 'none']);
  const dtype = rng.pick(['f32', 'f16'] as const);
  const meta: StoreMeta = { modelKey: `model-${rng.int(1000)}`, layers: 1 + rng.int(3), kvHeads: 1 + rng.int(2), headDim: 32 * (1 + rng.int(2)), bits, dtype };
  const channels = meta.kvHeads * meta.headDim;
  const tokens = 1 + rng.int(9);
  const shape = { layers: meta.layers, tokens, channels, bits, keyGroup: KEY_GROUP_TOKENS, dtype };
  const payload = Uint8Array.from({ length: framePayloadBytes(shape) }, () => rng.int(256));
  const tw = rng.int(5);
  const th = tw ? 1 + rng.int(4) : 0;
  const block: FrameBlock = {
    ...shape,
    index: rng.int(100),
    timestampMs: rng.int(100_000),
    payload,
    keySummary: Float32Array.from({ length: meta.layers * channels }, () => rng.next()),
    thumbnail: { width: tw, height: th, data: Uint8Array.from({ length: tw * th * 3 }, () => rng.int(256)) },
  };
  return { meta, block };
}

/** Recomputes a memory file's trailing CRC: checksums right, so only the sizes can give it away. */
function fixCrc(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= 8) new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/** Header fields of a block file: [offset, width in bytes]. */
const BLOCK_FIELDS: [number, 1 | 2 | 4 | 8][] = [[4, 4], [8, 4], [12, 4], [16, 8], [24, 4], [28, 4], [32, 4], [36, 1], [37, 1], [38, 2], [40, 4], [44, 4], [48, 4], [52, 4]];

function setField(rng: Rng, v: DataView, at: number, width: 1 | 2 | 4 | 8): void {
  if (width === 8) v.setFloat64(at, rng.pick(INTERESTING_F64), true);
  else if (width === 4) v.setUint32(at, rng.pick(INTERESTING_U32), true);
  else if (width === 2) v.setUint16(at, rng.pick([0, 1, 32, 64, 128, 256, 0xffff]), true);
  else v.setUint8(at, rng.pick([0, 1, 2, 3, 4, 8, 16, 255]));
}

interface BlockCase {
  bytes: Uint8Array;
  meta?: StoreMeta;
}

export const memoryBlockTarget: FuzzTarget<BlockCase, FrameBlock> = {
  name: 'memory-block',
  names: ['b0000001.svmb'],
  make(rng) {
    const { meta, block } = store(rng);
    const valid = encodeBlock(block);
    const withMeta = rng.chance(0.5) ? { meta } : {};
    switch (rng.int(4)) {
      case 0: {
        // one or more header fields absurd, checksum recomputed
        const out = valid.slice();
        const v = new DataView(out.buffer);
        for (let i = 0, n = 1 + rng.int(3); i < n; i++) setField(rng, v, ...rng.pick(BLOCK_FIELDS));
        return { bytes: fixCrc(out), ...withMeta };
      }
      case 1:
        return { bytes: fixCrc(havoc(rng, valid)), ...withMeta };
      case 2:
        return { bytes: havoc(rng, valid), ...withMeta };
      default:
        return { bytes: valid, ...withMeta };
    }
  },
  run: (c) => decodeBlock(c.bytes, 'b0000001.svmb', c.meta),
  check(c, block) {
    if (!Number.isFinite(block.timestampMs) || block.layers > LIMITS.memoryLayers || block.tokens > LIMITS.memoryTokens) return 'accepted an out-of-bounds block';
    if (block.payload.length !== framePayloadBytes(block)) return 'payload size disagrees with the shape';
    // an accepted file is one this streamvlm writes: encoding the block gives the same bytes back
    const again = encodeBlock(block);
    if (c.bytes[4] === 3 && (again.length !== c.bytes.length || !again.every((b, i) => b === c.bytes[i]))) return 'does not re-encode to the same bytes';
    return null;
  },
  bytes: (c) => c.bytes,
};

interface IndexCase {
  bytes: Uint8Array;
}

/** An index file around `metaText` (any text) and entries, lengths and CRC right. */
function indexBytes(metaText: string, entries: IndexEntry[]): Uint8Array {
  const good = encodeIndex({ modelKey: 'm', layers: 1, kvHeads: 1, headDim: 32, bits: 4, dtype: 'f16' }, entries);
  const oldMeta = new DataView(good.buffer).getUint32(8, true);
  const meta = new TextEncoder().encode(metaText);
  const out = concat(good.subarray(0, 12), meta, good.subarray(12 + oldMeta));
  new DataView(out.buffer).setUint32(8, meta.length, true);
  return fixCrc(out);
}

export const memoryIndexTarget: FuzzTarget<IndexCase, ReturnType<typeof decodeIndex>> = {
  name: 'memory-index',
  names: ['index.svmi'],
  make(rng) {
    const { meta } = store(rng);
    const entries: IndexEntry[] = Array.from({ length: rng.int(5) }, (_, i) => ({ index: i * 2, timestampMs: i * 500, fileBytes: 1000 + i, fingerprint: rng.int(2 ** 31), crc: rng.int(2 ** 31) }));
    const valid = encodeIndex(meta, entries);
    switch (rng.int(5)) {
      case 0:
        return { bytes: indexBytes(mutateJson(rng, JSON.stringify(meta)), entries) };
      case 1: {
        // an entry's field or the count absurd, checksum recomputed
        const out = valid.slice();
        const v = new DataView(out.buffer);
        const countAt = 12 + v.getUint32(8, true);
        if (entries.length && rng.chance(0.7)) {
          const at = countAt + 4 + 24 * rng.int(entries.length);
          const [off, w] = rng.pick([[0, 4], [4, 8], [12, 4]] as [number, 4 | 8][]);
          setField(rng, v, at + off, w);
        } else v.setUint32(countAt, rng.pick(INTERESTING_U32), true);
        return { bytes: fixCrc(out) };
      }
      case 2:
        return { bytes: fixCrc(havoc(rng, valid)) };
      case 3:
        return { bytes: havoc(rng, valid) };
      default:
        return { bytes: valid };
    }
  },
  run: (c) => decodeIndex(c.bytes, 'index.svmi'),
  check(_c, { meta, entries }) {
    if (meta.layers > LIMITS.memoryLayers || meta.kvHeads > LIMITS.memoryKvHeads || meta.headDim > LIMITS.headDim) return 'accepted an out-of-bounds store';
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (!Number.isFinite(e.timestampMs) || e.timestampMs < 0) return 'accepted a non-finite timestamp';
      if (i > 0 && (e.index <= entries[i - 1].index || e.timestampMs < entries[i - 1].timestampMs)) return 'accepted entries out of order';
    }
    return null;
  },
  bytes: (c) => c.bytes,
};
