import { expect, test } from '@playwright/test';
import { KEY_GROUP_TOKENS } from '../../src/kernels/kvquant-layout';
import type { FrameBlock } from '../../src/memory/frame-block';
import { framePayloadBytes } from '../../src/memory/payload';
import { blockFileName, blockFingerprint, crc32, decodeBlock, decodeIndex, encodeBlock, encodeIndex, MemoryFileError, openMemory } from '../../src/memory/persist';
import type { StoreMeta } from '../../src/memory/store';
import { memoryRoot } from '../../tools/fuzz/memory-dir';
import { expectBoundedRefusal } from '../support/bounded';

// Issue #14: a saved memory whose checksums are right but whose sizes are absurd (a file written
// by something else, or edited and re-checksummed) must be a MemoryFileError naming the file and
// field at once: before, a block claiming 4 billion layers sent the payload layout into a loop
// that allocated until the tab died. Timestamps must be finite times that never go back.

const meta: StoreMeta = { modelKey: 'm', layers: 2, kvHeads: 1, headDim: 32, bits: 4, dtype: 'f16' };

function block(): FrameBlock {
  const shape = { layers: 2, tokens: 3, channels: 32, bits: 4 as const, keyGroup: KEY_GROUP_TOKENS, dtype: 'f16' as const };
  return { ...shape, index: 5, timestampMs: 2500, payload: new Uint8Array(framePayloadBytes(shape)), keySummary: new Float32Array(64).fill(0.125), thumbnail: { width: 2, height: 1, data: new Uint8Array(6) } };
}

/** The file with one field changed and its trailing CRC recomputed: every checksum right. */
function edited(file: Uint8Array, edit: (v: DataView) => void): Uint8Array {
  const out = file.slice();
  const v = new DataView(out.buffer);
  edit(v);
  v.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

test('a memory block with right checksums and absurd sizes is refused by name, at once', async () => {
  const file = encodeBlock(block());
  expect(decodeBlock(file, 'b5.svmb', meta).tokens).toBe(3);
  const cases: [(v: DataView) => void, RegExp][] = [
    [(v) => v.setUint32(28, 0xffffffff, true), /^m\/b5\.svmb: layers 4294967295 is outside 1…256/],
    [(v) => v.setUint32(32, 0x7fffffff, true), /channels 2147483647 is outside/],
    [(v) => v.setUint32(24, 0xfffffff0, true), /tokens 4294967280 is outside/],
    [(v) => (v.setUint32(40, 100_000, true), v.setUint32(44, 100_000, true)), /thumbnail 100000 × 100000 is larger than 4096/],
    [(v) => v.setUint32(52, 0xffffffff, true), /key summary of 4294967295 floats/],
    [(v) => v.setFloat64(16, Number.NaN, true), /timestamp NaN ms is not a time ≥ 0/],
    [(v) => v.setFloat64(16, Infinity, true), /timestamp Infinity ms is not a time ≥ 0/],
  ];
  for (const [edit, message] of cases) {
    await expectBoundedRefusal(() => decodeBlock(edited(file, edit), 'm/b5.svmb', meta), MemoryFileError, message, { ms: 500, mb: 20 });
  }
});

test('a memory index with right checksums and absurd sizes or non-finite times is refused by name', async () => {
  const entries = [
    { index: 0, timestampMs: 0, fileBytes: 400, fingerprint: 1, crc: 2 },
    { index: 1, timestampMs: 1000, fileBytes: 400, fingerprint: 3, crc: 4 },
  ];
  const file = encodeIndex(meta, entries);
  expect(decodeIndex(file, 'index.svmi').entries).toHaveLength(2);
  const metaAt = 12;
  const countAt = metaAt + new DataView(file.buffer).getUint32(8, true);
  const entryAt = (i: number) => countAt + 4 + 24 * i;
  const cases: [Uint8Array, RegExp][] = [
    [edited(file, (v) => v.setFloat64(entryAt(1) + 4, Number.NaN, true)), /^m\/index\.svmi: entry 1 \(block 1\) has timestamp NaN ms/],
    [edited(file, (v) => v.setFloat64(entryAt(0) + 4, -Infinity, true)), /entry 0 \(block 0\) has timestamp -Infinity ms/],
    [
      edited(file, (v) => {
        v.setFloat64(entryAt(0) + 4, 5000, true);
        v.setFloat64(entryAt(1) + 4, 0, true);
      }),
      /entry 1 \(block 1\) at 0 ms goes back/,
    ],
    [edited(file, (v) => v.setUint32(entryAt(1) + 12, 0xffffffff, true)), /claims a 4294967295-byte file/],
    [encodeIndex({ ...meta, layers: 1e9 }, entries), /meta\.layers 1000000000 is more than 256/],
    [encodeIndex({ ...meta, kvHeads: 256, headDim: 1024 }, entries), /channels, more than 65536/],
    [encodeIndex({ ...meta, modelKey: 'k'.repeat(10_000) }, entries), /modelKey of 10000 characters/],
  ];
  for (const [bytes, message] of cases) {
    await expectBoundedRefusal(() => decodeIndex(bytes, 'm/index.svmi'), MemoryFileError, message, { ms: 500, mb: 20 });
  }
  // a description nested too deep never reaches JSON.parse's consumers
  const deep = `{"modelKey":"m","x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  const text = new TextEncoder().encode(deep);
  const rebuilt = new Uint8Array(12 + text.length + 4 + 4);
  rebuilt.set(file.subarray(0, 12));
  new DataView(rebuilt.buffer).setUint32(8, text.length, true);
  rebuilt.set(text, 12);
  await expectBoundedRefusal(() => decodeIndex(edited(rebuilt, () => {}), 'm/index.svmi'), MemoryFileError, /nests more than 64 deep/);
});

test('openMemory refuses a block file cut under its header even when the index agrees with its size', async () => {
  // found by the open-memory fuzz target: reading the trailing CRC of a 2-byte file threw a RangeError
  const b = block();
  const fingerprint = blockFingerprint(b);
  const cut = encodeBlock(b).subarray(0, 2);
  const index = encodeIndex(meta, [{ index: b.index, timestampMs: b.timestampMs, fileBytes: cut.length, fingerprint, crc: 0 }]);
  const root = memoryRoot('cut', new Map([['index.svmi', index], [blockFileName(b.index, fingerprint), cut]]));
  await expectBoundedRefusal(() => openMemory('cut', { root }), MemoryFileError, /^streamvlm-memory\/cut\/b0000005-[0-9a-f]{8}\.svmb: truncated \(2 bytes/);
});
