import { InputError } from '../errors';
import type { FrameBlock, KvStoreBits } from './frame-block';

/** What a store's blocks were made by; a store reopened later must match the engine that reads it. */
export interface StoreMeta {
  /** Identifies the model (its config and weights' tensor manifest); see StreamEngine. */
  modelKey: string;
  layers: number;
  kvHeads: number;
  headDim: number;
  bits: KvStoreBits;
  dtype: 'f32' | 'f16';
}

/**
 * The long-term memory: frame blocks that left the GPU window, in RAM, in stream order. Retrieval
 * reads only the key summaries (`summaries`), kept in one flat array so scoring a question against
 * an hour of frames is a single pass over contiguous memory; the K/V payloads are touched only for
 * the frames a question restores. Persistence (OPFS) lives in persist.ts.
 */
export class MemoryStore {
  private readonly list: FrameBlock[] = [];
  private bytesHeld = 0;
  /**
   * f32 [frames, layers·kvHeads·headDim], grown by doubling: each frame's key summary with every
   * (layer, KV head) slice scaled to unit length, so scoring a question (a cosine per slice) is only
   * dot products over contiguous memory.
   */
  private summaryRows: Float32Array;
  /** f32 [frames, coarse width]: each frame's first-pass retrieval vector (coarseVector), grown alike. */
  private coarseRows: Float32Array;
  private readonly coarseWidth: number;

  constructor(readonly meta: StoreMeta) {
    this.summaryRows = new Float32Array(64 * this.summaryLength);
    this.coarseWidth = coarseSliceStarts(meta).length * meta.headDim;
    this.coarseRows = new Float32Array(64 * this.coarseWidth);
  }

  /** Floats in one frame's key summary. */
  get summaryLength(): number {
    return this.meta.layers * this.meta.kvHeads * this.meta.headDim;
  }

  get frames(): number {
    return this.list.length;
  }

  /**
   * Bytes held: the blocks' K/V payloads, key summaries and thumbnails, plus the retrieval index
   * built from them (unit summaries and first-pass vectors, f32, per frame).
   */
  get bytes(): number {
    return this.bytesHeld + this.list.length * (this.summaryLength + this.coarseWidth) * 4;
  }

  /** Appends a block; blocks come in stream order (index increasing). */
  add(block: FrameBlock): void {
    const m = this.meta;
    if (block.layers !== m.layers || block.channels !== m.kvHeads * m.headDim || block.bits !== m.bits || block.dtype !== m.dtype) {
      throw new InputError(`MemoryStore: block ${block.index} (${block.layers} layers, ${block.channels} channels, ${block.bits} bits, ${block.dtype}) does not match the store`);
    }
    if (block.keySummary.length !== this.summaryLength) throw new InputError(`MemoryStore: block ${block.index} has a key summary of ${block.keySummary.length} floats, expected ${this.summaryLength}`);
    const last = this.list[this.list.length - 1];
    if (last && block.index <= last.index) throw new InputError(`MemoryStore: block ${block.index} arrives after block ${last.index}`);
    const n = this.list.length;
    this.summaryRows = withRoom(this.summaryRows, (n + 1) * this.summaryLength);
    this.coarseRows = withRoom(this.coarseRows, (n + 1) * this.coarseWidth);
    const unit = unitSlices(block.keySummary, m.headDim);
    this.summaryRows.set(unit, n * this.summaryLength);
    coarseVector(unit, m, this.coarseRows.subarray(n * this.coarseWidth, (n + 1) * this.coarseWidth));
    this.list.push(block);
    this.bytesHeld += blockBytes(block);
  }

  /** The i-th stored block (stream order), 0 ≤ i < frames. */
  at(i: number): FrameBlock {
    const b = this.list[i];
    if (!b) throw new InputError(`MemoryStore: no block at ${i} (${this.list.length} stored)`);
    return b;
  }

  /** Every block, in stream order (a copy of the list; the blocks themselves are shared). */
  blocks(): FrameBlock[] {
    return [...this.list];
  }

  /** f32 [frames, summaryLength]: every block's key summary with unit-length (layer, KV head) slices, in stream order. */
  unitSummaries(): Float32Array {
    return this.summaryRows.subarray(0, this.list.length * this.summaryLength);
  }

  /** f32 [frames, coarse width]: the first-pass vectors of every block, in stream order. */
  coarseSummaries(): Float32Array {
    return this.coarseRows.subarray(0, this.list.length * this.coarseWidth);
  }

  clear(): void {
    this.list.length = 0;
    this.bytesHeld = 0;
  }
}

/** The geometry retrieval works in: key summaries are [layers, kvHeads, headDim]. */
export interface RetrievalShape {
  layers: number;
  kvHeads: number;
  headDim: number;
}

/** Offsets of the (layer, KV head) slices the first pass reads: every fifth layer from the third. */
export function coarseSliceStarts(shape: RetrievalShape): Int32Array {
  const starts: number[] = [];
  for (let l = 2; l < shape.layers; l += 5) for (let h = 0; h < shape.kvHeads; h++) starts.push((l * shape.kvHeads + h) * shape.headDim);
  return Int32Array.from(starts);
}

/**
 * A frame's first-pass vector: the coarse slices of its unit summary, contiguous, so the first pass
 * over an hour of frames is one dot product per frame over adjacent memory. MemoryStore keeps them (retriever.ts reads them).
 */
export function coarseVector(unitSummary: Float32Array, shape: RetrievalShape, out: Float32Array = new Float32Array(coarseSliceStarts(shape).length * shape.headDim)): Float32Array {
  const starts = coarseSliceStarts(shape);
  starts.forEach((o, s) => out.set(unitSummary.subarray(o, o + shape.headDim), s * shape.headDim));
  return out;
}

/** `rows`, or a copy twice its size when it holds fewer than `needed` values (amortised appends). */
function withRoom(rows: Float32Array, needed: number): Float32Array {
  if (needed <= rows.length) return rows;
  const grown = new Float32Array(Math.max(needed, rows.length * 2));
  grown.set(rows);
  return grown;
}

/** A copy of `v` with each run of `width` values scaled to unit length (zero runs stay zero). */
export function unitSlices(v: Float32Array, width: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let s = 0; s < v.length; s += width) {
    let n = 0;
    for (let d = 0; d < width; d++) n += v[s + d] * v[s + d];
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let d = 0; d < width; d++) out[s + d] = v[s + d] * inv;
  }
  return out;
}

export function blockBytes(b: FrameBlock): number {
  return b.payload.byteLength + b.keySummary.byteLength + b.thumbnail.data.byteLength;
}
