// The page Playwright drives for memory persistence: frame blocks of real layouts (payload sizes from
// the engine's own payload layout) with random contents, saved to this page's OPFS and reopened,
// then files damaged on disk in the ways a crash or a bad disk does.
import { StreamVlmError } from '../../../src/errors';
import type { FrameBlock, KvStoreBits, LazyFrameBlock } from '../../../src/memory/frame-block';
import { framePayloadBytes } from '../../../src/memory/payload';
import { KEY_GROUP_TOKENS } from '../../../src/kernels/kvquant';
import { blockFileName, blockFingerprint, crc32, decodeIndex, encodeIndex, MEMORY_FORMAT_VERSION, type SaveReport } from '../../../src/memory/persist';
import { deleteMemory, listMemories, openMemory, saveMemory } from '../../../src/platform/browser/saved-memories';
import { OpfsSpill } from '../../../src/platform/browser/opfs-spill';
import type { PayloadSpill } from '../../../src/memory/spill';
import { unitSlices } from '../../../src/memory/retrieval-rows';
import { MemoryStore, type StoreMeta } from '../../../src/memory/store';
import { fillSeeded } from './seeded-bytes';

export interface ErrorResult {
  name: string;
  code: string;
  message: string;
  file?: string;
}

export type Damage = 'truncate-block' | 'flip-payload-byte' | 'flip-header-byte' | 'missing-block' | 'swap-blocks' | 'truncate-index' | 'flip-index-byte' | 'index-version' | 'empty-index' | 'absurd-block-layers' | 'absurd-meta-layers' | 'nan-timestamp';

declare global {
  interface Window {
    persistHarness: {
      roundTrip: (bits: KvStoreBits, dtype: 'f32' | 'f16') => Promise<{ reports: SaveReport[]; equal: boolean[]; names: string[]; counts: number[] }>;
      damage: (kind: Damage) => Promise<{ error: ErrorResult | null; recovered: boolean; resaved: boolean }>;
      refusals: () => Promise<Record<string, ErrorResult | null>>;
      spill: () => Promise<SpillResult>;
      openedLazily: () => Promise<{ onDisk: number; onDiskBytes: number; payloadBytes: number; allEqual: boolean; damagedError: ErrorResult | null; othersEqual: boolean; adopted: { spilled: number; onDiskBytes: number; equalAfterDelete: boolean } }>;
      spillFailure: () => Promise<SpillFailureResult>;
      olderVersion: () => Promise<OlderVersionResult>;
    };
  }
}

export interface SpillResult {
  frames: number;
  spilledFrames: number;
  /** bytes − ramBytes: what is on disk. */
  onDiskBytes: number;
  payloadBytes: number;
  filesOnDisk: number;
  loadedEqual: boolean;
  savedFromSpillEqual: boolean;
  missingFileError: ErrorResult | null;
  othersStillLoad: boolean;
  staleRemoved: boolean;
  heldKept: boolean;
  removedOnDestroy: boolean;
}

export interface OlderVersionResult {
  /** Format version and key group field of the block files as rewritten to look like version 2. */
  onDisk: { version: number; keyGroupField: number }[];
  keyGroups: number[];
  allEqual: boolean;
  /** The same memory saved again under another name: the block files' header fields, and whether it reopens equal. */
  resaved: { version: number; keyGroupField: number }[];
  resavedEqual: boolean;
}

export interface SpillFailureResult {
  frames: number;
  spilledFrames: number;
  onDiskBytes: number;
  payloadBytes: number;
  spillError: string | null;
  loadedEqual: boolean;
}

const META = (bits: KvStoreBits, dtype: 'f32' | 'f16'): StoreMeta => ({ modelKey: 'tiny-gqa:test', layers: 2, kvHeads: 1, headDim: 64, bits, dtype });


// 17 rows: `Frame from MM:SS:` + 4 image tokens + markers, as tiny-gqa's frame piece
function makeBlock(meta: StoreMeta, index: number, seed: number, tokens = 17, keyGroup = KEY_GROUP_TOKENS): FrameBlock {
  const channels = meta.kvHeads * meta.headDim;
  const payload = fillSeeded(new Uint8Array(framePayloadBytes({ layers: meta.layers, tokens, channels, bits: meta.bits, keyGroup, dtype: meta.dtype })), seed);
  const keySummary = new Float32Array(meta.layers * channels).map((_, i) => Math.sin(seed * 7.3 + i));
  const thumbnail = { width: 8, height: 6, data: fillSeeded(new Uint8Array(8 * 6 * 3), seed + 1) };
  return { index, timestampMs: index * 1000 + 0.5, tokens, layers: meta.layers, channels, bits: meta.bits, keyGroup, dtype: meta.dtype, payload, keySummary, thumbnail };
}

function sameBlock(a: FrameBlock, b: FrameBlock): boolean {
  const eq = (x: ArrayBufferView, y: ArrayBufferView) => {
    const u = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    const v = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
    return u.length === v.length && u.every((e, i) => e === v[i]);
  };
  return (
    a.index === b.index && a.timestampMs === b.timestampMs && a.tokens === b.tokens && a.layers === b.layers && a.channels === b.channels && a.bits === b.bits && a.keyGroup === b.keyGroup && a.dtype === b.dtype &&
    a.keySummary instanceof Float32Array && eq(a.payload, b.payload) && eq(a.keySummary, b.keySummary) &&
    a.thumbnail.width === b.thumbnail.width && a.thumbnail.height === b.thumbnail.height && eq(a.thumbnail.data, b.thumbnail.data)
  );
}

function errorResult(e: unknown): ErrorResult {
  if (!(e instanceof StreamVlmError)) throw e;
  const file = (e as { file?: unknown }).file;
  return { name: e.name, code: e.code, message: e.message, ...(typeof file === 'string' ? { file } : {}) };
}

async function dirOf(name: string): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return (await root.getDirectoryHandle('streamvlm-memory')).getDirectoryHandle(name);
}

async function readRaw(dir: FileSystemDirectoryHandle, file: string): Promise<Uint8Array> {
  return new Uint8Array(await (await (await dir.getFileHandle(file)).getFile()).arrayBuffer());
}

async function writeRaw(dir: FileSystemDirectoryHandle, file: string, bytes: Uint8Array): Promise<void> {
  const w = await (await dir.getFileHandle(file, { create: true })).createWritable();
  await w.write(bytes as Uint8Array<ArrayBuffer>);
  await w.close();
}

/** A fresh folder of this page's OPFS standing in for the origin's root (the spill's own tests). */
async function testRoot(name: string): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  await root.removeEntry(name, { recursive: true }).catch(() => {});
  return root.getDirectoryHandle(name, { create: true });
}

async function entryNames(dir: FileSystemDirectoryHandle): Promise<string[]> {
  const names: string[] = [];
  for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(key);
  return names;
}

/** A reopened memory's blocks with their payloads read from disk. */
async function loaded(blocks: LazyFrameBlock[]): Promise<FrameBlock[]> {
  return Promise.all(blocks.map(async ({ loadPayload, payloadBytes: _bytes, ...info }) => ({ ...info, payload: await loadPayload() })));
}

/** The block as a store gives it back: its key summary kept as unit-length (layer, KV head) slices. */
function asStored(b: FrameBlock, headDim: number): FrameBlock {
  return { ...b, keySummary: unitSlices(b.keySummary, headDim) };
}

async function loadsEqual(store: MemoryStore, blocks: FrameBlock[], indices = blocks.map((_, i) => i)): Promise<boolean> {
  for (const i of indices) if (!sameBlock(await store.load(i), asStored(blocks[i], store.meta.headDim))) return false;
  return true;
}

window.persistHarness = {
  async roundTrip(bits, dtype) {
    const name = `round-${bits}-${dtype}`;
    await deleteMemory(name);
    const meta = META(bits, dtype);
    const stream = Array.from({ length: 12 }, (_, i) => makeBlock(meta, i, i + 1));
    const reports: SaveReport[] = [];
    const equal: boolean[] = [];
    const counts: number[] = [];
    const check = async (expected: FrameBlock[]) => {
      const back = await openMemory(name);
      const blocks = await loaded(back.blocks);
      counts.push(blocks.length);
      equal.push(JSON.stringify(back.meta) === JSON.stringify(meta) && blocks.length === expected.length && blocks.every((b, i) => sameBlock(b, expected[i])));
    };
    // the first 8 frames, then the same stream 4 frames later (incremental), then the same again
    reports.push(await saveMemory(name, meta, stream.slice(0, 8)));
    await check(stream.slice(0, 8));
    reports.push(await saveMemory(name, meta, stream));
    await check(stream);
    reports.push(await saveMemory(name, meta, stream));
    // a window slid on: frames 0-1 gone from what is saved (e.g. a store that dropped them)
    reports.push(await saveMemory(name, meta, stream.slice(2)));
    await check(stream.slice(2));
    // another stream under the same name: same indices and times, other content → all rewritten
    const other = Array.from({ length: 3 }, (_, i) => makeBlock(meta, i, 100 + i));
    reports.push(await saveMemory(name, meta, other));
    await check(other);
    const names = await listMemories();
    return { reports, equal, names, counts };
  },

  async damage(kind) {
    const name = `damaged-${kind}`;
    await deleteMemory(name);
    const meta = META(4, 'f32');
    const blocks = Array.from({ length: 4 }, (_, i) => makeBlock(meta, i, 50 + i));
    await saveMemory(name, meta, blocks);
    const dir = await dirOf(name);
    const file = (i: number) => blockFileName(blocks[i].index, blockFingerprint(blocks[i]));
    const block2 = await readRaw(dir, file(2));
    const index = await readRaw(dir, 'index.svmi');
    if (kind === 'truncate-block') await writeRaw(dir, file(2), block2.subarray(0, block2.length - 100));
    if (kind === 'flip-payload-byte') await writeRaw(dir, file(2), block2.map((b, i) => (i === 64 + 500 ? b ^ 0x10 : b)));
    if (kind === 'flip-header-byte') await writeRaw(dir, file(2), block2.map((b, i) => (i === 24 ? b ^ 0x01 : b)));
    if (kind === 'missing-block') await dir.removeEntry(file(2));
    if (kind === 'swap-blocks') await writeRaw(dir, file(2), await readRaw(dir, file(1)));
    if (kind === 'truncate-index') await writeRaw(dir, 'index.svmi', index.subarray(0, index.length - 10));
    if (kind === 'flip-index-byte') await writeRaw(dir, 'index.svmi', index.map((b, i) => (i === 20 ? b ^ 0x04 : b)));
    if (kind === 'index-version') await writeRaw(dir, 'index.svmi', index.map((b, i) => (i === 4 ? MEMORY_FORMAT_VERSION + 1 : b)));
    if (kind === 'empty-index') await writeRaw(dir, 'index.svmi', new Uint8Array(0));
    // right checksums, absurd sizes (issue #14): what a file written or edited by something else looks like
    const saved = decodeIndex(index, 'index.svmi');
    const recrc = (bytes: Uint8Array) => (new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true), bytes);
    if (kind === 'absurd-block-layers') {
      const edited = block2.slice();
      new DataView(edited.buffer).setUint32(28, 0xffffffff, true);
      recrc(edited);
      await writeRaw(dir, file(2), edited);
      const entries = saved.entries.map((e, i) => (i === 2 ? { ...e, crc: new DataView(edited.buffer).getUint32(edited.length - 4, true) } : e));
      await writeRaw(dir, 'index.svmi', encodeIndex(saved.meta, entries));
    }
    if (kind === 'absurd-meta-layers') await writeRaw(dir, 'index.svmi', encodeIndex({ ...saved.meta, layers: 4e9 }, saved.entries));
    if (kind === 'nan-timestamp') await writeRaw(dir, 'index.svmi', encodeIndex(saved.meta, saved.entries.map((e, i) => (i === 1 ? { ...e, timestampMs: Number.NaN } : e))));
    let error: ErrorResult | null = null;
    try {
      await openMemory(name);
    } catch (e) {
      error = errorResult(e);
    }
    // saving again over a missing or cut file rewrites it (sizes are checked, contents are not
    // re-read); any damage goes with deleteMemory and a save, as the error's advice says
    await saveMemory(name, meta, blocks);
    const resaved = await openMemory(name).then(() => true, () => false);
    if (!resaved) {
      await deleteMemory(name);
      await saveMemory(name, meta, blocks);
    }
    const back = await loaded((await openMemory(name)).blocks);
    const recovered = back.length === 4 && back.every((b, i) => sameBlock(b, blocks[i]));
    return { error, recovered, resaved };
  },

  async refusals() {
    const out: Record<string, ErrorResult | null> = {};
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
        out[what] = null;
      } catch (e) {
        out[what] = errorResult(e);
      }
    };
    const meta = META(8, 'f32');
    const b = [makeBlock(meta, 0, 1), makeBlock(meta, 1, 2)];
    await attempt('missing', () => openMemory('never-saved'));
    await attempt('bad name', () => saveMemory('../escape', meta, b));
    await attempt('out of order', () => saveMemory('order', meta, [b[1], b[0]]));
    await attempt('meta mismatch', () => saveMemory('mismatch', META(4, 'f32'), b));
    await attempt('deleted', async () => {
      await saveMemory('to-delete', meta, b);
      if (!(await deleteMemory('to-delete'))) throw new Error('deleteMemory said nothing was there');
      await openMemory('to-delete');
    });
    return out;
  },
  async spill() {
    const root = await testRoot('spill-test');
    const parent = await root.getDirectoryHandle('streamvlm-spill', { create: true });
    // a folder left by a tab that is gone (no lock), and one whose tab is alive (its lock held)
    await writeRaw(await parent.getDirectoryHandle('stale-session', { create: true }), 'p0000001.kv', new Uint8Array(10));
    await parent.getDirectoryHandle('held-session', { create: true });
    let releaseHeld!: () => void;
    await new Promise<void>((granted) => {
      void navigator.locks.request('streamvlm-spill/held-session', () => {
        granted();
        return new Promise<void>((r) => (releaseHeld = r));
      });
    });
    const spill = await OpfsSpill.create({ root });
    const afterSweep = await entryNames(parent);
    releaseHeld();
    const own = afterSweep.find((n) => n !== 'held-session')!;

    const meta = META(4, 'f32');
    const blocks = Array.from({ length: 8 }, (_, i) => makeBlock(meta, i, 300 + i));
    const payloadBytes = blocks[0].payload.byteLength;
    // room for two and a half payloads: the six oldest go to disk
    const store = new MemoryStore(meta, { ramBudgetBytes: 2.5 * payloadBytes, spill });
    for (const b of blocks) store.add(b);
    await store.settled();
    const files = await entryNames(await parent.getDirectoryHandle(own));
    const loadedEqual = await loadsEqual(store, blocks);

    // saving reads the spilled payloads back one at a time
    await deleteMemory('from-spill');
    await saveMemory('from-spill', meta, store.lazyBlocks());
    const back = await loaded((await openMemory('from-spill')).blocks);
    const savedFromSpillEqual = back.length === blocks.length && back.every((b, i) => sameBlock(b, asStored(blocks[i], meta.headDim)));
    await deleteMemory('from-spill');

    // a spilled file that vanished: a MemoryFileError for that frame, the others still load
    await (await parent.getDirectoryHandle(own)).removeEntry(files.sort()[0]);
    let missingFileError: ErrorResult | null = null;
    try {
      await store.load(0);
    } catch (e) {
      missingFileError = errorResult(e);
    }
    const othersStillLoad = await loadsEqual(store, blocks, [1, 2, 3, 4, 5, 6, 7]);

    const result: SpillResult = {
      frames: store.frames,
      spilledFrames: store.spilledFrames,
      onDiskBytes: store.bytes - store.ramBytes,
      payloadBytes,
      filesOnDisk: files.length,
      loadedEqual,
      savedFromSpillEqual,
      missingFileError,
      othersStillLoad,
      staleRemoved: !afterSweep.includes('stale-session'),
      heldKept: afterSweep.includes('held-session'),
      removedOnDestroy: false,
    };
    await spill.destroy();
    result.removedOnDestroy = !(await entryNames(parent)).includes(own);
    await (await navigator.storage.getDirectory()).removeEntry('spill-test', { recursive: true });
    return result;
  },

  async spillFailure() {
    const root = await testRoot('spill-failure-test');
    const disk = await OpfsSpill.create({ root });
    // the disk fills up at the third payload (what a QuotaExceededError from OPFS does)
    let writes = 0;
    const filling: PayloadSpill = {
      write: (index, payload) => (++writes >= 3 ? Promise.reject(new Error('the disk is full')) : disk.write(index, payload)),
      read: (index, bytes) => disk.read(index, bytes),
      destroy: () => disk.destroy(),
    };
    const meta = META(2, 'f16');
    const blocks = Array.from({ length: 8 }, (_, i) => makeBlock(meta, i, 400 + i));
    const store = new MemoryStore(meta, { ramBudgetBytes: 0, spill: filling });
    for (const b of blocks.slice(0, 6)) store.add(b);
    await store.settled();
    // the stream goes on after the failure: later frames are kept, in RAM
    for (const b of blocks.slice(6)) store.add(b);
    await store.settled();
    const result: SpillFailureResult = {
      frames: store.frames,
      spilledFrames: store.spilledFrames,
      onDiskBytes: store.bytes - store.ramBytes,
      payloadBytes: blocks[0].payload.byteLength,
      spillError: store.spillError?.message ?? null,
      loadedEqual: await loadsEqual(store, blocks),
    };
    await filling.destroy();
    await (await navigator.storage.getDirectory()).removeEntry('spill-failure-test', { recursive: true });
    return result;
  },
  async openedLazily() {
    const name = 'opened-lazily';
    await deleteMemory(name);
    const meta = META(4, 'f16');
    const blocks = Array.from({ length: 4 }, (_, i) => makeBlock(meta, i, 500 + i));
    await saveMemory(name, meta, blocks);
    // a store made from the opened memory holds no payload in RAM until one is asked for
    const store = new MemoryStore(meta);
    for (const b of (await openMemory(name)).blocks) store.add(b);
    const allEqual = await loadsEqual(store, blocks);
    // the file of frame 2 changes after opening: its read is refused, the others still come back
    const dir = await dirOf(name);
    const file = blockFileName(blocks[2].index, blockFingerprint(blocks[2]));
    await writeRaw(dir, file, (await readRaw(dir, file)).map((b, i) => (i === 64 + 10 ? b ^ 0x40 : b)));
    let damagedError: ErrorResult | null = null;
    try {
      await store.load(2);
    } catch (e) {
      damagedError = errorResult(e);
    }
    // adopting before the saved memory is deleted: with a budget of 0 the payloads move to the spill
    const spillRoot = await testRoot('adopt-test');
    const adopter = new MemoryStore(meta, { ramBudgetBytes: 0, spill: await OpfsSpill.create({ root: spillRoot }) });
    await saveMemory('adopt-source', meta, blocks);
    for (const b of (await openMemory('adopt-source')).blocks) adopter.add(b);
    await adopter.adoptExternal();
    await deleteMemory('adopt-source');
    const adopted = { spilled: adopter.spilledFrames, onDiskBytes: adopter.bytes - adopter.ramBytes, equalAfterDelete: await loadsEqual(adopter, blocks) };
    await (await navigator.storage.getDirectory()).removeEntry('adopt-test', { recursive: true });
    const result = {
      adopted,
      onDisk: store.spilledFrames,
      onDiskBytes: store.bytes - store.ramBytes,
      payloadBytes: blocks[0].payload.byteLength,
      allEqual,
      damagedError,
      othersEqual: await loadsEqual(store, blocks, [0, 1, 3]),
    };
    await deleteMemory(name);
    return result;
  },

  async olderVersion() {
    // Blocks of 77 rows in key groups of 32 (the layout memory format 2 wrote; at 77 rows it is not
    // the 128-token layout), saved, then their files rewritten as version 2 wrote them: version 2,
    // 0 in the key-group field, checksums and index to match.
    const name = 'older-version';
    await deleteMemory(name);
    await deleteMemory(`${name}-resaved`);
    const meta = META(4, 'f16');
    const blocks = Array.from({ length: 3 }, (_, i) => makeBlock(meta, i, 70 + i, 77, 32));
    await saveMemory(name, meta, blocks);
    const dir = await dirOf(name);
    const header = (bytes: Uint8Array) => {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return { version: v.getUint32(4, true), keyGroupField: v.getUint16(38, true) };
    };
    const withCrc = (bytes: Uint8Array) => {
      new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
      return bytes;
    };
    const { entries } = decodeIndex(await readRaw(dir, 'index.svmi'), 'index.svmi');
    const onDisk: OlderVersionResult['onDisk'] = [];
    for (const [i, b] of blocks.entries()) {
      const file = blockFileName(b.index, blockFingerprint(b));
      const bytes = (await readRaw(dir, file)).slice();
      const v = new DataView(bytes.buffer);
      v.setUint32(4, 2, true);
      v.setUint16(38, 0, true);
      await writeRaw(dir, file, withCrc(bytes));
      entries[i].crc = v.getUint32(bytes.length - 4, true);
      onDisk.push(header(bytes));
    }
    const index = encodeIndex(meta, entries).slice();
    new DataView(index.buffer).setUint32(4, 2, true);
    await writeRaw(dir, 'index.svmi', withCrc(index));

    const back = await loaded((await openMemory(name)).blocks);
    await saveMemory(`${name}-resaved`, meta, back);
    const resavedDir = await dirOf(`${name}-resaved`);
    const resaved = await Promise.all(back.map(async (b) => header(await readRaw(resavedDir, blockFileName(b.index, blockFingerprint(b))))));
    const again = await loaded((await openMemory(`${name}-resaved`)).blocks);
    return {
      onDisk,
      keyGroups: back.map((b) => b.keyGroup),
      allEqual: back.length === 3 && back.every((b, i) => sameBlock(b, blocks[i])),
      resaved,
      resavedEqual: again.length === 3 && again.every((b, i) => sameBlock(b, blocks[i])),
    };
  },
};
