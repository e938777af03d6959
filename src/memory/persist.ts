import { jsonDepthExceeds } from '../bounded-json';
import { SerialQueue } from '../serial-queue';
import { InputError, QuotaError, StreamVlmError } from '../errors';
import { LIMITS } from '../limits';
import { codecOf, isKvCodecId, kvCodec, kvCodecForFileCode } from './codecs/registry';
import { blockFitsMeta, sameStoreMeta, summaryFloatsOf } from './compatibility';
import { blockInfo, KV_STORE_BITS, payloadSizeOf, type FrameBlock, type KvStoreBits, type LazyFrameBlock } from './frame-block';
import { framePayloadBytes } from './payload';
import type { StoreMeta } from './store';

/**
 * The memory store on disk: the browser's Origin Private File System (OPFS), in the page or the
 * worker. "The store lives in RAM, persists to OPFS on request and reopens after a reload."
 *
 * Layout: `streamvlm-memory/<name>/` holds one file per frame block (`b<index>-<fingerprint>.svmb`)
 * and an index (`index.svmi`: the StoreMeta and one entry per block). One file per block keeps
 * saving incremental: a save writes only the blocks that the directory does not already hold (an
 * hour of stream is 3600 blocks; saving every minute writes 60), then replaces the index. OPFS's
 * `createWritable` commits a file on close, so the index swap is atomic; where only sync access
 * handles exist (truncate, then write) a whole copy of the new index (`index.svmi.next`) is written
 * first and read if index.svmi turns out torn. A save that fails half way (quota, closed tab, lost
 * device) thus leaves the previous save readable; a failed save removes the files it added (a full
 * disk needs the room), and a closed tab's strays are swept by the next save. Opening reads and checks every file before returning anything: a corrupt or truncated
 * file is a MemoryFileError naming it, and nothing is half-loaded.
 *
 * Format, little-endian (every WebGPU platform is):
 *   block  'SVMB' u32 version u32 headerBytes(=64) u32 index f64 timestampMs u32 tokens u32 layers
 *          u32 channels u8 codec (its fileCode: 0=raw, 8/4/2=KIVI) u8 dtype(0=f32,1=f16) u16 keyGroup u32 thumbWidth u32 thumbHeight
 *          u32 payloadBytes u32 summaryFloats u32 0 u32 0 | payload | key summary f32 | thumbnail RGB
 *          | u32 crc32 of everything before it
 *   index  'SVMI' u32 version u32 metaBytes | meta JSON (UTF-8; its `codec` id since codecs had ids,
 *          absent before: then its `bits` names the codec) | u32 count | count × (u32 index
 *          f64 timestampMs u32 fileBytes u32 fingerprint u32 the block's crc32) | u32 crc32 of everything before
 */

/**
 * The version this streamvlm writes. 3: a block's header says its key group (tokens per key
 * quantization group, FrameBlock.keyGroup; this version makes 128). Version 2 wrote 0 there and
 * meant 32; its files still open, and their blocks keep their layout (the kernels dequantize both).
 */
export const MEMORY_FORMAT_VERSION = 3;
const READABLE_VERSIONS = [2, 3];
const V2_KEY_GROUP = 32;
const BLOCK_MAGIC = 'SVMB';
const INDEX_MAGIC = 'SVMI';
const BLOCK_HEADER_BYTES = 64;
const INDEX_ENTRY_BYTES = 24;
export const INDEX_FILE = 'index.svmi';
/**
 * The new index, written whole before index.svmi is replaced and removed after: where a file write
 * is not atomic (sync access handles truncate, then write), a save cut while replacing index.svmi
 * leaves this complete copy, which opening falls back to.
 */
const INDEX_NEXT = 'index.svmi.next';
const ROOT_DIR = 'streamvlm-memory';

/** A saved memory file is missing, truncated, corrupt, of another format version, or does not match its index. */
export class MemoryFileError extends StreamVlmError {
  static override readonly errorName = 'MemoryFileError';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super('INPUT', `${file}: ${problem}`, 'The saved memory is damaged; delete it (deleteMemory) and save the stream again.');
  }
}

export interface SavedMemory {
  meta: StoreMeta;
  /** In stream order; payloads are read from their files on demand (see openMemory). */
  blocks: LazyFrameBlock[];
}

export interface SaveReport {
  /** Blocks in the saved memory. */
  blocks: number;
  /** Block files written by this save. */
  written: number;
  /** Block files already there from an earlier save and kept as they were. */
  kept: number;
  /** Files of earlier saves no longer referenced, removed. */
  removed: number;
  /** Bytes written (block files and the index). */
  bytesWritten: number;
}

/** Where the memories live: a directory, or a function that opens it (called only when a call needs it). */
export type MemoriesRoot = FileSystemDirectoryHandle | (() => Promise<FileSystemDirectoryHandle>);

export interface PersistOptions {
  /**
   * Directory the memories live under. The SDK's saveMemory/openMemory/listMemories/deleteMemory
   * (src/platform/browser/saved-memories.ts) default it to the OPFS root.
   */
  root?: MemoriesRoot;
}

// ---- CRC-32 (IEEE), to tell a corrupt file from a good one ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * A block file's own checksum (its last 4 bytes), which the index repeats. (A CRC over a whole file
 * that ends in its own CRC is the same constant for every file, so the index keeps this one.)
 */
function trailingCrc(file: Uint8Array): number {
  return new DataView(file.buffer, file.byteOffset + file.byteLength - 4, 4).getUint32(0, true);
}

const asBytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * What identifies a block's content without serializing its payload: index, time, sizes and the CRC
 * of its key summary and thumbnail (two different frames never share key summaries). A save keeps a
 * file whose fingerprint matches; a new stream saved under the same name rewrites its blocks.
 */
export function blockFingerprint(b: FrameBlock | LazyFrameBlock): number {
  const head = new DataView(new ArrayBuffer(24));
  head.setUint32(0, b.index, true);
  head.setFloat64(4, b.timestampMs, true);
  head.setUint32(12, payloadSizeOf(b), true);
  head.setUint32(16, b.tokens, true);
  head.setUint32(20, codecOf(b).fileCode | (b.dtype === 'f16' ? 0x100 : 0) | (b.keyGroup << 16), true);
  return crc32(b.thumbnail.data, crc32(asBytes(b.keySummary), crc32(new Uint8Array(head.buffer))));
}

export function blockFileName(index: number, fingerprint: number): string {
  return `b${String(index).padStart(7, '0')}-${fingerprint.toString(16).padStart(8, '0')}.svmb`;
}

/** The file's format version, if this streamvlm reads it. */
function checkVersion(v: DataView, bad: (problem: string) => never): number {
  const version = v.getUint32(4, true);
  if (!READABLE_VERSIONS.includes(version)) bad(`format version ${version}; this streamvlm reads versions ${READABLE_VERSIONS.join(' and ')}`);
  return version;
}

function writeMagic(view: DataView, magic: string): void {
  for (let i = 0; i < 4; i++) view.setUint8(i, magic.charCodeAt(i));
}

function readMagic(view: DataView): string {
  return String.fromCharCode(view.getUint8(0), view.getUint8(1), view.getUint8(2), view.getUint8(3));
}

// ---- one block ----

export function encodeBlock(b: FrameBlock): Uint8Array {
  const keySummary = b.keySummary; // read once: a store's lazy block copies it out on each read
  const summaryBytes = keySummary.byteLength;
  const thumbBytes = b.thumbnail.data.byteLength;
  const total = BLOCK_HEADER_BYTES + b.payload.byteLength + summaryBytes + thumbBytes + 4;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  writeMagic(v, BLOCK_MAGIC);
  v.setUint32(4, MEMORY_FORMAT_VERSION, true);
  v.setUint32(8, BLOCK_HEADER_BYTES, true);
  v.setUint32(12, b.index, true);
  v.setFloat64(16, b.timestampMs, true);
  v.setUint32(24, b.tokens, true);
  v.setUint32(28, b.layers, true);
  v.setUint32(32, b.channels, true);
  v.setUint8(36, codecOf(b).fileCode);
  v.setUint8(37, b.dtype === 'f16' ? 1 : 0);
  v.setUint16(38, b.keyGroup, true);
  v.setUint32(40, b.thumbnail.width, true);
  v.setUint32(44, b.thumbnail.height, true);
  v.setUint32(48, b.payload.byteLength, true);
  v.setUint32(52, keySummary.length, true);
  let at = BLOCK_HEADER_BYTES;
  out.set(b.payload, at);
  at += b.payload.byteLength;
  out.set(asBytes(keySummary), at);
  at += summaryBytes;
  out.set(b.thumbnail.data, at);
  at += thumbBytes;
  v.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

/** Parses and checks one block file (magic, version, sizes, CRC, shape against meta). */
export function decodeBlock(bytes: Uint8Array, file: string, meta?: StoreMeta): FrameBlock {
  const bad = (problem: string): never => {
    throw new MemoryFileError(file, problem);
  };
  if (bytes.byteLength < BLOCK_HEADER_BYTES + 4) bad(`truncated (${bytes.byteLength} bytes, a block file has at least ${BLOCK_HEADER_BYTES + 4})`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (readMagic(v) !== BLOCK_MAGIC) bad('not a streamvlm frame block file');
  const version = checkVersion(v, bad);
  if (v.getUint32(8, true) !== BLOCK_HEADER_BYTES) bad('bad header size');
  // written as 0: anything else is not a file this streamvlm wrote (and would not survive a re-save)
  if (v.getUint32(56, true) !== 0 || v.getUint32(60, true) !== 0) bad('reserved header words are not 0');
  const codec = kvCodecForFileCode(v.getUint8(36));
  const dtypeCode = v.getUint8(37);
  if (codec === null || dtypeCode > 1) bad(`unknown bit width ${v.getUint8(36)} or element type ${dtypeCode}`);
  const dtype = dtypeCode === 1 ? 'f16' : 'f32';
  const index = v.getUint32(12, true);
  const timestampMs = v.getFloat64(16, true);
  const tokens = v.getUint32(24, true);
  const layers = v.getUint32(28, true);
  const channels = v.getUint32(32, true);
  const keyGroupField = v.getUint16(38, true);
  if (version === 2 && keyGroupField !== 0) bad(`a version 2 header with ${keyGroupField} where version 2 writes 0`);
  const keyGroup = version === 2 ? V2_KEY_GROUP : keyGroupField;
  const tw = v.getUint32(40, true);
  const th = v.getUint32(44, true);
  const payloadBytes = v.getUint32(48, true);
  const summaryFloats = v.getUint32(52, true);
  // every size bounded before the payload layout loops over the layers or anything is sliced:
  // checksums only prove the file is what was written, not that what was written is sane
  if (!Number.isFinite(timestampMs) || timestampMs < 0) bad(`timestamp ${timestampMs} ms is not a time ≥ 0`);
  if (index > LIMITS.memoryIndex) bad(`frame index ${index} is beyond ${LIMITS.memoryIndex}`);
  if (layers < 1 || layers > LIMITS.memoryLayers) bad(`layers ${layers} is outside 1…${LIMITS.memoryLayers}`);
  if (channels < 1 || channels > LIMITS.memoryChannels) bad(`channels ${channels} is outside 1…${LIMITS.memoryChannels}`);
  if (tokens < 1 || tokens > LIMITS.memoryTokens) bad(`tokens ${tokens} is outside 1…${LIMITS.memoryTokens}`);
  if (tw > LIMITS.thumbnailSide || th > LIMITS.thumbnailSide) bad(`thumbnail ${tw} × ${th} is larger than ${LIMITS.thumbnailSide} a side`);
  if (summaryFloats > LIMITS.memoryLayers * LIMITS.memoryChannels) bad(`key summary of ${summaryFloats} floats is beyond any store's`);
  const thumbBytes = tw * th * 3;
  const expectedTotal = BLOCK_HEADER_BYTES + payloadBytes + summaryFloats * 4 + thumbBytes + 4;
  if (bytes.byteLength < expectedTotal) bad(`truncated (${bytes.byteLength} of ${expectedTotal} bytes)`);
  if (bytes.byteLength > expectedTotal) bad(`${bytes.byteLength - expectedTotal} bytes more than its header describes`);
  const end = expectedTotal - 4;
  if (crc32(bytes.subarray(0, end)) !== v.getUint32(end, true)) bad('checksum mismatch (the file is corrupt)');
  const { bits, id: codecId } = codec!;
  let expectedPayload: number;
  try {
    expectedPayload = framePayloadBytes({ layers, tokens, channels, bits, codec: codecId, keyGroup, dtype });
  } catch (e) {
    return bad(`impossible block shape (${(e as Error).message})`);
  }
  if (payloadBytes !== expectedPayload) bad(`payload of ${payloadBytes} bytes, its shape needs ${expectedPayload}`);
  if (meta) {
    if (!blockFitsMeta({ layers, channels, bits, codec: codecId, dtype }, meta)) {
      bad(`block (${layers} layers, ${channels} channels, ${bits} bits, ${dtype}) does not match the index's store`);
    }
    if (summaryFloats !== summaryFloatsOf(meta)) bad(`key summary of ${summaryFloats} floats, the store needs ${summaryFloatsOf(meta)}`);
  }
  // copies: the blocks outlive the file buffer and must not alias each other
  let at = BLOCK_HEADER_BYTES;
  const payload = bytes.slice(at, at + payloadBytes);
  at += payloadBytes;
  const keySummary = new Float32Array(bytes.slice(at, at + summaryFloats * 4).buffer);
  at += summaryFloats * 4;
  const thumbnail = { width: tw, height: th, data: bytes.slice(at, at + thumbBytes) };
  return { index, timestampMs, tokens, layers, channels, bits, codec: codecId, keyGroup, dtype, payload, keySummary, thumbnail };
}

// ---- the index ----

export interface IndexEntry {
  index: number;
  timestampMs: number;
  fileBytes: number;
  fingerprint: number;
  crc: number;
}

export function encodeIndex(meta: StoreMeta, entries: IndexEntry[]): Uint8Array {
  const metaBytes = new TextEncoder().encode(JSON.stringify(meta));
  const total = 12 + metaBytes.length + 4 + entries.length * INDEX_ENTRY_BYTES + 4;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  writeMagic(v, INDEX_MAGIC);
  v.setUint32(4, MEMORY_FORMAT_VERSION, true);
  v.setUint32(8, metaBytes.length, true);
  out.set(metaBytes, 12);
  let at = 12 + metaBytes.length;
  v.setUint32(at, entries.length, true);
  at += 4;
  for (const e of entries) {
    v.setUint32(at, e.index, true);
    v.setFloat64(at + 4, e.timestampMs, true);
    v.setUint32(at + 12, e.fileBytes, true);
    v.setUint32(at + 16, e.fingerprint, true);
    v.setUint32(at + 20, e.crc, true);
    at += INDEX_ENTRY_BYTES;
  }
  v.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

export function decodeIndex(bytes: Uint8Array, file: string): { meta: StoreMeta; entries: IndexEntry[] } {
  const bad = (problem: string): never => {
    throw new MemoryFileError(file, problem);
  };
  if (bytes.byteLength < 20) bad(`truncated (${bytes.byteLength} bytes)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (readMagic(v) !== INDEX_MAGIC) bad('not a streamvlm memory index');
  checkVersion(v, bad);
  const metaLength = v.getUint32(8, true);
  if (metaLength > LIMITS.memoryMetaBytes) bad(`store description of ${metaLength} bytes, more than ${LIMITS.memoryMetaBytes}`);
  if (12 + metaLength + 8 > bytes.byteLength) bad(`truncated (${bytes.byteLength} bytes, the meta alone needs ${12 + metaLength + 8})`);
  const countAt = 12 + metaLength;
  const count = v.getUint32(countAt, true);
  const expected = countAt + 4 + count * INDEX_ENTRY_BYTES + 4;
  if (bytes.byteLength !== expected) bad(`${bytes.byteLength} bytes, ${count} entries need ${expected} (truncated or corrupt)`);
  if (crc32(bytes.subarray(0, expected - 4)) !== v.getUint32(expected - 4, true)) bad('checksum mismatch (the file is corrupt)');
  let meta: StoreMeta;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, countAt));
    if (jsonDepthExceeds(text)) return bad(`the store description nests more than ${LIMITS.jsonDepth} deep`);
    meta = JSON.parse(text);
  } catch (e) {
    if (e instanceof MemoryFileError) throw e;
    return bad('the store description is not valid JSON');
  }
  if (!isStoreMeta(meta)) bad('the store description lacks fields (modelKey, layers, kvHeads, headDim, bits, dtype)');
  if (meta.codec !== undefined && !(isKvCodecId(meta.codec) && kvCodec(meta.codec).bits === meta.bits)) bad(`unknown K/V codec ${JSON.stringify(meta.codec)} for ${String(meta.bits)} bits`);
  // the store sizes its retrieval rows from these: bounded before anything is built from them
  if (meta.modelKey.length > LIMITS.memoryModelKeyChars) bad(`modelKey of ${meta.modelKey.length} characters, more than ${LIMITS.memoryModelKeyChars}`);
  if (meta.layers > LIMITS.memoryLayers) bad(`meta.layers ${meta.layers} is more than ${LIMITS.memoryLayers}`);
  if (meta.kvHeads > LIMITS.memoryKvHeads) bad(`meta.kvHeads ${meta.kvHeads} is more than ${LIMITS.memoryKvHeads}`);
  if (meta.headDim > LIMITS.headDim) bad(`meta.headDim ${meta.headDim} is more than ${LIMITS.headDim}`);
  if (meta.kvHeads * meta.headDim > LIMITS.memoryChannels) bad(`meta.kvHeads × headDim = ${meta.kvHeads * meta.headDim} channels, more than ${LIMITS.memoryChannels}`);
  const entries: IndexEntry[] = [];
  let at = countAt + 4;
  for (let i = 0; i < count; i++, at += INDEX_ENTRY_BYTES) {
    const e = { index: v.getUint32(at, true), timestampMs: v.getFloat64(at + 4, true), fileBytes: v.getUint32(at + 12, true), fingerprint: v.getUint32(at + 16, true), crc: v.getUint32(at + 20, true) };
    if (!Number.isFinite(e.timestampMs) || e.timestampMs < 0) bad(`entry ${i} (block ${e.index}) has timestamp ${e.timestampMs} ms, not a time ≥ 0`);
    if (e.index > LIMITS.memoryIndex) bad(`entry ${i} has frame index ${e.index}, beyond ${LIMITS.memoryIndex}`);
    if (i > 0 && e.index <= entries[i - 1].index) bad(`entry ${i} (block ${e.index}) is out of order`);
    // a stream's clock never goes back (the engine refuses it), so neither may a saved one's
    if (i > 0 && e.timestampMs < entries[i - 1].timestampMs) bad(`entry ${i} (block ${e.index}) at ${e.timestampMs} ms goes back before block ${entries[i - 1].index}`);
    if (e.fileBytes > LIMITS.memoryBlockFileBytes) bad(`entry ${i} (block ${e.index}) claims a ${e.fileBytes}-byte file, more than ${LIMITS.memoryBlockFileBytes}`);
    entries.push(e);
  }
  return { meta, entries };
}

function isStoreMeta(m: unknown): m is StoreMeta {
  const o = m as Record<string, unknown>;
  return (
    !!o &&
    typeof o.modelKey === 'string' &&
    [o.layers, o.kvHeads, o.headDim].every((x) => Number.isInteger(x) && (x as number) > 0) &&
    KV_STORE_BITS.includes(o.bits as KvStoreBits) &&
    (o.codec === undefined || typeof o.codec === 'string') &&
    (o.dtype === 'f32' || o.dtype === 'f16')
  );
}

// ---- OPFS ----

function checkName(name: string): void {
  if (typeof name !== 'string' || !/^[\w.-]{1,100}$/.test(name) || name === '.' || name === '..') {
    throw new InputError(`memory name "${String(name)}": use 1–100 letters, digits, '_', '-' or '.'`);
  }
}

async function memoriesRoot(options: PersistOptions, create: boolean): Promise<FileSystemDirectoryHandle | null> {
  if (!options.root) throw new InputError('saved memories: no root directory given (the SDK gives the OPFS root: src/platform/browser/saved-memories.ts)');
  const root = typeof options.root === 'function' ? await options.root() : options.root;
  try {
    return await root.getDirectoryHandle(ROOT_DIR, { create });
  } catch (e) {
    if (!create && (e as DOMException).name === 'NotFoundError') return null;
    throw e;
  }
}

async function memoryDir(name: string, options: PersistOptions, create: boolean): Promise<FileSystemDirectoryHandle | null> {
  checkName(name);
  const root = await memoriesRoot(options, create);
  if (!root) return null;
  try {
    return await root.getDirectoryHandle(name, { create });
  } catch (e) {
    if (!create && (e as DOMException).name === 'NotFoundError') return null;
    throw e;
  }
}

async function readFileBytes(dir: FileSystemDirectoryHandle, file: string): Promise<Uint8Array | null> {
  try {
    const handle = await dir.getFileHandle(file);
    return new Uint8Array(await (await handle.getFile()).arrayBuffer());
  } catch (e) {
    if ((e as DOMException).name === 'NotFoundError') return null;
    throw e;
  }
}

async function fileSize(dir: FileSystemDirectoryHandle, file: string): Promise<number> {
  try {
    return (await (await dir.getFileHandle(file)).getFile()).size;
  } catch {
    return -1;
  }
}

type SyncHandle = { write(b: Uint8Array, o?: { at: number }): number; truncate(n: number): void; flush(): void; close(): void };

/** Writes a whole file. createWritable commits on close (atomic); Safari's workers only have sync access handles. */
export async function writeWholeFile(dir: FileSystemDirectoryHandle, file: string, bytes: Uint8Array): Promise<void> {
  const handle = await dir.getFileHandle(file, { create: true });
  if (typeof handle.createWritable === 'function') {
    const w = await handle.createWritable();
    try {
      await w.write(bytes as Uint8Array<ArrayBuffer>);
      await w.close();
    } catch (e) {
      await w.abort().catch(() => {});
      throw e;
    }
    return;
  }
  const sync = await (handle as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle();
  try {
    sync.truncate(0);
    sync.write(bytes, { at: 0 });
    sync.flush();
  } finally {
    sync.close();
  }
}

export const isQuotaError = (e: unknown) => (e as DOMException | null)?.name === 'QuotaExceededError';

async function writeFileBytes(dir: FileSystemDirectoryHandle, file: string, bytes: Uint8Array, where: string): Promise<void> {
  try {
    await writeWholeFile(dir, file, bytes);
  } catch (e) {
    if (isQuotaError(e)) {
      throw new QuotaError(`saveMemory: the browser's storage quota is full writing ${where}/${file}; the previous save is intact.`, { cause: e });
    }
    throw e;
  }
}

/** One save or open at a time per memory name (in this realm). */
const locks = new Map<string, SerialQueue>();
function locked<T>(name: string, task: () => Promise<T>): Promise<T> {
  let queue = locks.get(name);
  if (!queue) locks.set(name, (queue = new SerialQueue()));
  return queue.run(task);
}

/**
 * Saves the store's blocks (stream order) under `name`, writing only blocks that an earlier save
 * there does not already hold. Blocks not in this save are removed afterwards. Lazy blocks (a
 * store's, whose payloads may be on its spill) have their payload loaded only when their file is
 * written, one at a time, so saving hours of stream does not pull them all into RAM.
 */
export function saveMemory(name: string, meta: StoreMeta, blocks: readonly (FrameBlock | LazyFrameBlock)[], options: PersistOptions = {}): Promise<SaveReport> {
  checkName(name);
  if (!isStoreMeta(meta)) throw new InputError('saveMemory: meta is not a StoreMeta (modelKey, layers, kvHeads, headDim, bits, dtype)');
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i];
    if (i > 0 && b.index <= blocks[i - 1].index) throw new InputError(`saveMemory: block ${b.index} comes after block ${blocks[i - 1].index}; blocks must be in stream order`);
    if (!blockFitsMeta(b, meta)) {
      throw new InputError(`saveMemory: block ${b.index} does not match the store's meta`);
    }
  }
  return locked(name, async () => writeMemory((await memoryDir(name, options, true))!, `${ROOT_DIR}/${name}`, meta, blocks));
}

/**
 * saveMemory's work in a given directory (`where` names it in messages): OPFS's, or any object
 * with the same methods (the CLI's folder on disk, src/platform/node/fs-directory.ts). The blocks must have
 * been checked (stream order, matching meta); block files of an earlier save that this one does
 * not keep are removed afterwards.
 */
export async function writeMemory(dir: FileSystemDirectoryHandle, where: string, meta: StoreMeta, blocks: readonly (FrameBlock | LazyFrameBlock)[]): Promise<SaveReport> {
  // what an earlier save left; a damaged or foreign index just means nothing is reused
  let previous = new Map<string, IndexEntry>();
  try {
    const old = await readIndex(dir, where);
    if (old && sameStoreMeta(old.meta, meta)) previous = new Map(old.entries.map((e) => [blockFileName(e.index, e.fingerprint), e]));
  } catch {
    previous = new Map();
  }
  const existing = new Set<string>();
  for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) existing.add(key);

  const report: SaveReport = { blocks: blocks.length, written: 0, kept: 0, removed: 0, bytesWritten: 0 };
  const entries: IndexEntry[] = [];
  /** Files this save created or began (a failed write may leave an empty or partial one). */
  const added: string[] = [];
  try {
    for (const b of blocks) {
      const fingerprint = blockFingerprint(b);
      const file = blockFileName(b.index, fingerprint);
      const old = previous.get(file);
      // kept only when the file is there whole (a size check reads metadata, not the file)
      if (old && existing.has(file) && old.timestampMs === b.timestampMs && (await fileSize(dir, file)) === old.fileBytes) {
        entries.push(old);
        report.kept++;
        continue;
      }
      const bytes = encodeBlock('payload' in b ? b : { ...b, payload: await b.loadPayload() });
      if (!previous.has(file)) added.push(file);
      await writeFileBytes(dir, file, bytes, where);
      entries.push({ index: b.index, timestampMs: b.timestampMs, fileBytes: bytes.byteLength, fingerprint, crc: trailingCrc(bytes) });
      report.written++;
      report.bytesWritten += bytes.byteLength;
    }
    // the commit point: until the new index is in place, the previous one (and its files) rules
    const index = encodeIndex(meta, entries);
    added.push(INDEX_NEXT);
    await writeFileBytes(dir, INDEX_NEXT, index, where);
    await writeFileBytes(dir, INDEX_FILE, index, where);
    await dir.removeEntry(INDEX_NEXT).catch(() => {});
    report.bytesWritten += 2 * index.byteLength;
  } catch (e) {
    // the files this save added only take space, which a full disk needs back: remove them now
    // rather than at the next save's sweep (a save cut short by a closed tab leaves them to it)
    for (const file of added) await dir.removeEntry(file).catch(() => {});
    throw e;
  }
  // only now (the new index committed) are the old files unreferenced
  const live = new Set(entries.map((e) => blockFileName(e.index, e.fingerprint)));
  for (const file of existing) {
    // only stale block files: anything else in the directory is not the save's to remove
    if (!file.endsWith('.svmb') || live.has(file)) continue;
    await dir.removeEntry(file).catch(() => {});
    report.removed++;
  }
  return report;
}

/**
 * Reads the memory saved under `name`: every file is read and checked before anything is returned.
 * No such memory → InputError; a damaged file → MemoryFileError naming it. The blocks come back
 * lazy: their infos (key summaries, thumbnails) in RAM, their K/V payloads read again from their
 * files, and checked again, only when asked for — so opening hours of memory does not need hours of
 * it in RAM. A file changed or removed after opening (deleteMemory, a save of another stream under
 * this name) is a MemoryFileError at that read.
 */
export function openMemory(name: string, options: PersistOptions = {}): Promise<SavedMemory> {
  checkName(name);
  return locked(name, async () => {
    const dir = await memoryDir(name, options, false);
    const where = `${ROOT_DIR}/${name}`;
    const index = dir ? await readIndex(dir, where) : null;
    if (!dir || !index) throw new InputError(`openMemory: nothing is saved as "${name}" (no ${where}/${INDEX_FILE}); save a stream's memory under that name first`);
    return lazyBlocksOf(dir, where, index);
  });
}

/** openMemory's work in a given directory (OPFS's, or the CLI's folder on disk); `where` names it in messages. */
export async function readMemory(dir: FileSystemDirectoryHandle, where: string): Promise<SavedMemory> {
  const index = await readIndex(dir, where);
  if (!index) throw new MemoryFileError(`${where}/${INDEX_FILE}`, 'missing: this is not a saved memory');
  return lazyBlocksOf(dir, where, index);
}

/** Every block the index lists, read and checked now; their payloads read (and checked) again when asked for. */
async function lazyBlocksOf(dir: FileSystemDirectoryHandle, where: string, index: { meta: StoreMeta; entries: IndexEntry[] }): Promise<SavedMemory> {
  const { meta, entries } = index;
  const blocks: LazyFrameBlock[] = [];
  for (const e of entries) {
    const info = blockInfo(await readBlockFile(dir, where, e, meta));
    blocks.push({ ...info, loadPayload: async () => (await readBlockFile(dir, where, e, meta)).payload });
  }
  return { meta, blocks };
}

/**
 * The memory's index: index.svmi, or, if that is missing or damaged, the whole copy a save wrote
 * first (INDEX_NEXT: the save was cut while replacing index.svmi). Null when neither exists; a
 * damaged index.svmi with no good copy is its MemoryFileError.
 */
async function readIndex(dir: FileSystemDirectoryHandle, where: string): Promise<{ meta: StoreMeta; entries: IndexEntry[] } | null> {
  // its size from metadata first: an index grown huge is refused without being read into memory
  const indexSize = await fileSize(dir, INDEX_FILE);
  if (indexSize > LIMITS.memoryIndexBytes) throw new MemoryFileError(`${where}/${INDEX_FILE}`, `${indexSize} bytes, more than the ${LIMITS.memoryIndexBytes} an index of this streamvlm can have`);
  const main = await readFileBytes(dir, INDEX_FILE);
  let damaged: unknown = null;
  if (main) {
    try {
      return decodeIndex(main, `${where}/${INDEX_FILE}`);
    } catch (e) {
      damaged = e;
    }
  }
  const next = await readFileBytes(dir, INDEX_NEXT);
  if (next) {
    try {
      return decodeIndex(next, `${where}/${INDEX_NEXT}`);
    } catch {
      // a copy cut short: the save never reached index.svmi, whose state stands
    }
  }
  if (damaged) throw damaged;
  return null;
}

/** Reads one block file the index lists and checks it against the index entry and the meta. */
async function readBlockFile(dir: FileSystemDirectoryHandle, where: string, e: IndexEntry, meta: StoreMeta): Promise<FrameBlock> {
  const file = blockFileName(e.index, e.fingerprint);
  const path = `${where}/${file}`;
  // the size from the file's metadata first: a file grown huge is refused without being read
  const size = await fileSize(dir, file);
  if (size >= 0 && size !== e.fileBytes) throw new MemoryFileError(path, `${size} bytes, the index says ${e.fileBytes} (truncated or overwritten)`);
  const bytes = await readFileBytes(dir, file);
  if (!bytes) throw new MemoryFileError(path, 'missing (listed in the index)');
  if (bytes.byteLength !== e.fileBytes) throw new MemoryFileError(path, `${bytes.byteLength} bytes, the index says ${e.fileBytes} (truncated or overwritten)`);
  // before its trailing CRC is read: a file (and an index entry) cut to under a header is no block
  if (bytes.byteLength < BLOCK_HEADER_BYTES + 4) throw new MemoryFileError(path, `truncated (${bytes.byteLength} bytes, a block file has at least ${BLOCK_HEADER_BYTES + 4})`);
  if (trailingCrc(bytes) !== e.crc) throw new MemoryFileError(path, 'checksum mismatch with the index (the file is corrupt or another block)');
  const block = decodeBlock(bytes, path, meta);
  if (block.index !== e.index || block.timestampMs !== e.timestampMs) throw new MemoryFileError(path, `holds frame ${block.index} at ${block.timestampMs} ms, the index says frame ${e.index} at ${e.timestampMs} ms`);
  return block;
}

/** Names of the memories saved in this origin. */
export async function listMemories(options: PersistOptions = {}): Promise<string[]> {
  const root = await memoriesRoot(options, false);
  if (!root) return [];
  const names: string[] = [];
  for await (const [key, handle] of (root as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (handle.kind === 'directory') names.push(key);
  }
  return names.sort();
}

/** Removes a saved memory; false when there was none. */
export function deleteMemory(name: string, options: PersistOptions = {}): Promise<boolean> {
  checkName(name);
  return locked(name, async () => {
    const root = await memoriesRoot(options, false);
    if (!root) return false;
    try {
      await root.removeEntry(name, { recursive: true });
      return true;
    } catch (e) {
      if ((e as DOMException).name === 'NotFoundError') return false;
      throw e;
    }
  });
}
