import { InputError } from '../errors';
import { SerialQueue } from '../serial-queue';
import { blockFitsMeta, summaryFloatsOf } from './compatibility';
import { blockInfo, type FrameBlock, type FrameBlockMeta, type KvStoreBits, type LazyFrameBlock } from './frame-block';
import type { RetrievalIndex, StoredFrame } from './retrieval/policy';
import { unitSlices } from './retrieval-rows';
import { RowMatrix } from './simd-dot';
import type { PayloadSpill } from './spill';

/** What a store's blocks were made by; a store reopened later must match the engine that reads it. */
export interface StoreMeta {
  /** Identifies the model (its config and weights' tensor manifest); see StreamEngine. */
  modelKey: string;
  layers: number;
  kvHeads: number;
  headDim: number;
  bits: KvStoreBits;
  /**
   * The id of the K/V codec of the store's blocks (codecs/registry.ts), saved in memory indexes.
   * Absent in memories saved before codecs had ids and in metas made by hand: then `bits` names it.
   */
  codec?: string;
  dtype: 'f32' | 'f16';
}

export interface MemoryStoreOptions {
  /**
   * K/V payload bytes kept in RAM; beyond it the oldest payloads move to `spill` (default: no
   * limit). Key summaries, thumbnails and retrieval rows always stay in RAM.
   */
  ramBudgetBytes?: number;
  /** Where payloads beyond the budget go; without one the budget is not enforced. */
  spill?: PayloadSpill;
  /**
   * The retrieval policy's index (retrieval/policy.ts), told of every frame as it is stored; the
   * store keeps it beside the frames (RAM, never spilled, not saved). Default: none.
   */
  index?: RetrievalIndex;
}

/** A stored frame's piece as the model's input: its embeddings [tokens, hidden] as f16 bits. */
export interface FrameInputs {
  tokens: number;
  embeddings: Uint16Array;
}

/** One stored frame: its info, and its payload while it is in RAM, else where to read it. */
interface Entry {
  info: FrameBlockMeta;
  payload: Uint8Array | null;
  /** Reads the payload from disk (the spill, or the saved memory the block was opened from). */
  fetch: (() => Promise<Uint8Array>) | null;
  /** The payload is read from files the store does not own (a saved memory), not from the spill. */
  external: boolean;
  /** Being written to the spill (its RAM copy is kept until the write resolves). */
  spilling: boolean;
}

/**
 * The long-term memory: frame blocks that left the GPU window, in stream order. Retrieval reads the
 * retrieval policy's index (retrieval/policy.ts, told of each frame as it is stored) and the key
 * summaries (`unitSummaries`), kept in one flat array so scoring a question against an hour of
 * frames is a single pass over contiguous memory; the K/V payloads are touched only for the
 * frames a question restores, so they alone may leave RAM for a spill when they outgrow the RAM
 * budget (oldest first, in the background; a payload is dropped from RAM only after its write
 * succeeded, so a failing disk loses nothing — spilling stops and the error is reported).
 * Persistence (OPFS) lives in persist.ts.
 */
export class MemoryStore {
  private readonly list: Entry[] = [];
  private infoBytes = 0;
  private payloadBytes = 0;
  private residentBytes = 0;
  /** Resident payload bytes not yet being spilled: what the budget is checked against. */
  private unclaimedBytes = 0;
  private spilledCount = 0;
  /** Spill writes, one at a time in eviction order. */
  private readonly spillQueue = new SerialQueue();
  private spillFailure: Error | null = null;
  /** Where the next spill looks for the oldest payload still in RAM and unclaimed. */
  private spillFrom = 0;
  private readonly ramBudget: number;
  private readonly spill: PayloadSpill | null;
  /**
   * f32 [frames, layers·kvHeads·headDim] in WebAssembly memory (simd-dot.ts): each frame's key
   * summary with every (layer, KV head) slice scaled to unit length, so scoring a question (a cosine
   * per slice) is only SIMD dot products over contiguous memory.
   */
  private readonly summaryRows: RowMatrix;
  private readonly index: RetrievalIndex | null;
  /** Stored frames the index still needs the payload of (opened lazily), in stream order. */
  private readonly unindexed: number[] = [];
  private readonly inputs: (FrameInputs | undefined)[] = [];
  private inputBytes = 0;

  constructor(
    readonly meta: StoreMeta,
    options: MemoryStoreOptions = {},
  ) {
    const budget = options.ramBudgetBytes ?? Infinity;
    if (!(budget >= 0)) throw new InputError(`MemoryStore: ramBudgetBytes must be ≥ 0, got ${budget}`);
    this.ramBudget = budget;
    this.spill = options.spill ?? null;
    this.summaryRows = new RowMatrix(this.summaryLength);
    this.index = options.index ?? null;
  }

  /**
   * The retrieval index (the store's `index` option), complete: frames opened from a saved memory,
   * whose payloads are still on disk, are read once here for an index that needs them.
   */
  async retrievalIndex(): Promise<RetrievalIndex> {
    const index = this.index;
    if (!index) throw new InputError('MemoryStore: made without a retrieval index');
    // an index that lost its keys (a ranking worker died) starts again empty: every frame again
    if (index.restart?.()) this.unindexed.splice(0, this.unindexed.length, ...this.list.keys());
    while (this.unindexed.length) {
      const i = this.unindexed[0];
      const block = await this.load(i);
      if (!index.add(this.storedFrame(i, block, block.payload))) throw new Error(`MemoryStore: the retrieval index refused frame ${i} with its payload`);
      this.unindexed.shift();
    }
    return index;
  }

  /** Worker threads the retrieval index ranks with (0: the caller's thread). */
  get rankingThreads(): number {
    return this.index?.threads ?? 0;
  }

  /** Stops the retrieval index's workers, if any: the store is done with (its engine disposed). */
  close(): void {
    this.index?.close?.();
  }

  /** Keeps stored frame i's input embeddings (engines that re-prefill answer contexts). */
  setInputs(i: number, inputs: FrameInputs): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.list.length) throw new InputError(`MemoryStore.setInputs: no frame ${i}`);
    const old = this.inputs[i];
    this.inputBytes += inputs.embeddings.byteLength - (old ? old.embeddings.byteLength : 0);
    this.inputs[i] = inputs;
  }

  /** Stored frame i's input embeddings, or null where none were kept (e.g. a reopened memory). */
  inputsOf(i: number): FrameInputs | null {
    return this.inputs[i] ?? null;
  }

  /** RAM of the retrieval index and kept input embeddings (never spilled, not in a saved memory). */
  get sideBytes(): number {
    return (this.index?.bytes ?? 0) + this.inputBytes;
  }

  /** Floats in one frame's key summary. */
  get summaryLength(): number {
    return summaryFloatsOf(this.meta);
  }

  get frames(): number {
    return this.list.length;
  }

  /**
   * Bytes of the memory, wherever they are: the blocks' K/V payloads, key summaries (kept as unit
   * summaries, f32, per frame) and thumbnails. The retrieval policy's index is in `sideBytes`.
   */
  get bytes(): number {
    return this.infoBytes + this.payloadBytes + this.indexBytes;
  }

  /** Of `bytes`, those in RAM (all but the spilled payloads). */
  get ramBytes(): number {
    return this.infoBytes + this.residentBytes + this.indexBytes;
  }

  /** Frames whose payload is on disk, not in RAM: spilled, or opened lazily from a saved memory. */
  get spilledFrames(): number {
    return this.spilledCount;
  }

  /** Why spilling stopped (the payloads it could not write stay in RAM), or null. */
  get spillError(): Error | null {
    return this.spillFailure;
  }

  private get indexBytes(): number {
    return this.list.length * this.summaryLength * 4;
  }

  /**
   * Appends a block; blocks come in stream order (index increasing). A lazy block (openMemory's)
   * stays on disk until a question needs it.
   */
  add(block: FrameBlock | LazyFrameBlock): void {
    const m = this.meta;
    this.checkFits(block, this.list.length ? this.list[this.list.length - 1].info.index : null);
    const n = this.list.length;
    const unit = unitSlices(block.keySummary, m.headDim);
    this.summaryRows.append().set(unit);
    // the key summary lives on only as its unit-slice row above
    const payload = 'payload' in block ? block.payload : null;
    if (this.index && !this.index.add(this.storedFrame(n, block, payload, unit))) this.unindexed.push(n);
    if ('payload' in block) {
      const { keySummary: _summary, ...info } = blockInfo(block);
      this.list.push({ info, payload: block.payload, fetch: null, external: false, spilling: false });
      this.residentBytes += info.payloadBytes;
      this.unclaimedBytes += info.payloadBytes;
    } else {
      const { loadPayload, keySummary: _summary, ...info } = block;
      this.list.push({ info, payload: null, fetch: loadPayload, external: true, spilling: false });
      this.spilledCount++;
    }
    const info = this.list[n].info;
    this.infoBytes += info.thumbnail.data.byteLength;
    this.payloadBytes += info.payloadBytes;
    this.spillOverBudget();
  }

  /**
   * Throws unless `block` could be added after a block of index `after` (null: first): the store's
   * shape and bits, a key summary of the store's length, a greater index. Lets a batch be checked
   * whole before any of it is added.
   */
  checkFits(block: FrameBlock | LazyFrameBlock, after: number | null): void {
    const m = this.meta;
    if (!blockFitsMeta(block, m)) {
      throw new InputError(`MemoryStore: block ${block.index} (${block.layers} layers, ${block.channels} channels, ${block.bits} bits, ${block.dtype}) does not match the store`);
    }
    if (block.keySummary.length !== this.summaryLength) throw new InputError(`MemoryStore: block ${block.index} has a key summary of ${block.keySummary.length} floats, expected ${this.summaryLength}`);
    if (after !== null && block.index <= after) throw new InputError(`MemoryStore: block ${block.index} arrives after block ${after}`);
  }

  /** The i-th stored block's index, time, shape and thumbnail (stream order), 0 ≤ i < frames. */
  at(i: number): FrameBlockMeta {
    return this.entry(i).info;
  }

  /** The i-th block's key summary, unit-length slices (a copy). */
  keySummary(i: number): Float32Array {
    this.entry(i);
    return this.summaryRows.rows().slice(i * this.summaryLength, (i + 1) * this.summaryLength);
  }

  /** The i-th stored block with its payload, read back from the spill if it is there. */
  async load(i: number): Promise<FrameBlock> {
    const e = this.entry(i);
    const { payloadBytes: _bytes, ...meta } = e.info;
    return { ...meta, keySummary: this.keySummary(i), payload: await this.payloadOf(e) };
  }

  /** The blocks with frame index ≥ `fromIndex` (index, time, shape, thumbnail), in stream order. */
  infosFrom(fromIndex: number): FrameBlockMeta[] {
    // blocks are in index order: binary search for the first one at or after fromIndex
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid].info.index < fromIndex) lo = mid + 1;
      else hi = mid;
    }
    return this.list.slice(lo).map((e) => e.info);
  }

  /**
   * Every block, its payload fetched on demand (for saving without holding every payload at once),
   * and its key summary copied out of the retrieval rows when read, not all up front (an hour's
   * are 83 MB). The store only grows, so block i stays block i while a save reads them.
   */
  lazyBlocks(): LazyFrameBlock[] {
    const store = this;
    return this.list.map((e, i) => ({
      ...e.info,
      get keySummary() {
        return store.keySummary(i);
      },
      loadPayload: () => store.payloadOf(e),
    }));
  }

  /**
   * Reads every payload that still lives in a saved memory's files into the store (RAM, and the
   * spill beyond the budget), so the store no longer depends on those files (before deleting them).
   */
  async adoptExternal(): Promise<void> {
    for (let i = 0; i < this.list.length; i++) {
      const e = this.list[i];
      if (!e.external) continue;
      const payload = await e.fetch!();
      if (!e.external) continue;
      e.payload = payload;
      e.fetch = null;
      e.external = false;
      this.spilledCount--;
      this.residentBytes += e.info.payloadBytes;
      this.unclaimedBytes += e.info.payloadBytes;
      this.spillFrom = Math.min(this.spillFrom, i);
      this.spillOverBudget();
      // keep RAM near the budget while hours of frames come in: wait for the writes to catch up
      if (this.spill && !this.spillFailure && this.residentBytes > 2 * this.ramBudget) await this.settled();
    }
    await this.settled();
  }

  /** Resolves once the spill writes started so far have finished (or failed). */
  settled(): Promise<void> {
    return this.spillQueue.idle();
  }

  /** [frames, summaryLength]: every block's key summary with unit-length (layer, KV head) slices, in stream order. */
  unitSummaries(): RowMatrix {
    return this.summaryRows;
  }

  private storedFrame(position: number, block: StoredFrame['block'], payload: Uint8Array | null, unitSummary?: Float32Array): StoredFrame {
    return { position, block, payload, unitSummary: unitSummary ?? this.summaryRows.rows().subarray(position * this.summaryLength, (position + 1) * this.summaryLength) };
  }

  private entry(i: number): Entry {
    const e = this.list[i];
    if (!e) throw new InputError(`MemoryStore: no block at ${i} (${this.list.length} stored)`);
    return e;
  }

  private payloadOf(e: Entry): Promise<Uint8Array> {
    return e.payload ? Promise.resolve(e.payload) : e.fetch!();
  }

  /** Queues the oldest resident payloads for the spill until the unclaimed ones fit the budget. */
  private spillOverBudget(): void {
    const spill = this.spill;
    if (!spill || this.spillFailure) return;
    // entries before spillFrom are all on disk or on their way there
    for (let i = this.spillFrom; i < this.list.length && this.unclaimedBytes > this.ramBudget; i++) {
      const e = this.list[i];
      if (i === this.spillFrom) this.spillFrom++;
      if (!e.payload || e.spilling) continue;
      e.spilling = true;
      this.unclaimedBytes -= e.info.payloadBytes;
      void this.spillQueue.run(async () => {
        const payload = e.payload;
        if (this.spillFailure || !payload) return;
        try {
          await spill.write(e.info.index, payload);
        } catch (err) {
          // keep this and every later payload in RAM: nothing is lost, the budget is just not kept
          this.spillFailure = err instanceof Error ? err : new Error(String(err));
          e.spilling = false;
          for (const other of this.list) if (other.spilling && other.payload) {
            other.spilling = false;
            this.unclaimedBytes += other.info.payloadBytes;
          }
          this.unclaimedBytes += e.info.payloadBytes;
          return;
        }
        const { index, payloadBytes } = e.info;
        e.fetch = () => spill.read(index, payloadBytes);
        e.payload = null;
        e.spilling = false;
        this.residentBytes -= e.info.payloadBytes;
        this.spilledCount++;
      });
    }
  }
}
