import { framePayloadBytes } from '../../src/memory/payload';
import { blockFileName, blockFingerprint, crc32, encodeBlock, encodeIndex, openMemory, type IndexEntry, type SavedMemory } from '../../src/memory/persist';
import { memoryRoot } from './memory-dir';
import { havoc, INTERESTING_F64, INTERESTING_U32 } from './mutate-bytes';
import type { Rng } from './rng';
import { utf8, type FuzzTarget } from './target';
import { storeWithBlocks } from './targets-memory';

const NAME = 'fz';

/** Sets a u32 / f64 field and recomputes the file's trailing CRC. */
function edit(rng: Rng, bytes: Uint8Array, at: number, f64: boolean): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  if (at + (f64 ? 8 : 4) > out.length - 4) return out;
  if (f64) v.setFloat64(at, rng.pick(INTERESTING_F64), true);
  else v.setUint32(at, rng.pick(INTERESTING_U32), true);
  v.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/**
 * A whole saved memory (index and block files) with one thing changed: a block's header field with
 * its CRC and the index's copy of it both fixed (so only the sizes can give it away), an index
 * field, a file removed, two swapped, or bytes havocked.
 */
export const openMemoryTarget: FuzzTarget<Map<string, Uint8Array>, SavedMemory> = {
  name: 'open-memory',
  names: [`streamvlm-memory/${NAME}`],
  make(rng) {
    const { meta, blocks } = storeWithBlocks(rng, 1 + rng.int(4));
    const files = new Map<string, Uint8Array>();
    const entries: IndexEntry[] = [];
    const encoded = blocks.map((b) => encodeBlock(b));
    let victim = rng.int(blocks.length);
    const op = rng.int(7); // 6: left valid
    if (op === 0) encoded[victim] = edit(rng, encoded[victim], rng.pick([12, 24, 28, 32, 40, 44, 48, 52]), false);
    if (op === 1) encoded[victim] = edit(rng, encoded[victim], 16, true);
    if (op === 2) encoded[victim] = havoc(rng, encoded[victim]);
    blocks.forEach((b, i) => {
      const fingerprint = blockFingerprint(b);
      const bytes = encoded[i];
      files.set(blockFileName(b.index, fingerprint), bytes);
      const crc = bytes.length >= 4 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 4, true) : 0;
      entries.push({ index: b.index, timestampMs: b.timestampMs, fileBytes: bytes.length, fingerprint, crc });
    });
    let index = encodeIndex(meta, entries);
    if (op === 3) index = edit(rng, index, rng.int(Math.max(1, index.length - 8)), rng.chance(0.3));
    if (op === 4) {
      victim = rng.int(blocks.length);
      const keys = [...files.keys()];
      if (rng.chance(0.5)) files.delete(keys[victim]);
      else files.set(keys[victim], files.get(keys[(victim + 1) % keys.length])!);
    }
    if (op === 5) index = havoc(rng, index);
    files.set('index.svmi', index);
    return files;
  },
  async run(files) {
    const saved = await openMemory(NAME, { root: memoryRoot(NAME, files) });
    for (const b of saved.blocks) await b.loadPayload();
    return saved;
  },
  async check(_files, saved) {
    let last = -Infinity;
    for (const b of saved.blocks) {
      if (!Number.isFinite(b.timestampMs) || b.timestampMs < last) return 'accepted timestamps that are not finite or go back';
      last = b.timestampMs;
      const payload = await b.loadPayload();
      if (payload.length !== framePayloadBytes(b) || b.layers !== saved.meta.layers) return 'accepted a block unlike its store';
    }
    return null;
  },
  bytes: (files) => utf8(JSON.stringify([...files].map(([k, v]) => [k, Buffer.from(v).toString('base64')]))),
};
