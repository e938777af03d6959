import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { RAW_CODEC } from './codecs/raw';
import { codecOf } from './codecs/registry';
import { FrameBlockWriter } from './evict';
import type { FrameBlock } from './frame-block';
import { KvCache } from './kv-cache';
import { FrameBlockReader } from './restore';
import { MemoryStore, type MemoryStoreOptions, type StoreMeta } from './store';

/**
 * Re-encodes raw frame blocks with another store meta's codec, on the GPU, through the writer an
 * engine evicts with. A raw block is a copy of its frame's cache rows, so its rows are written back
 * into a scratch cache and encoded from there; the codec's encoder and the key summary read only
 * those rows, so the result is bit for bit the block an engine of that codec would have evicted
 * from the same rows. Only raw blocks: a quantized one has lost what its rows held.
 *
 * What it is for: ingest never reads the memory store (a frame attends to the sinks and the raw
 * window only), so the stream a raw engine ingested is the stream an engine of any codec would
 * have ingested, and every codec's store can be made from one ingest (the needle benchmark does,
 * bench/needle-run.ts).
 */
export class BlockTranscoder {
  private readonly writer: FrameBlockWriter;
  private readonly reader: FrameBlockReader;
  private cache: KvCache | null = null;

  constructor(
    readonly gpu: GpuDevice,
    /** The store meta the blocks are re-encoded for (its codec; its shape must be the blocks'). */
    readonly meta: StoreMeta,
  ) {
    this.writer = new FrameBlockWriter(gpu, meta);
    this.reader = new FrameBlockReader(gpu);
  }

  async transcode(block: FrameBlock): Promise<FrameBlock> {
    const codec = codecOf(block).id;
    if (codec !== RAW_CODEC.id) throw new InputError(`BlockTranscoder: block ${block.index} is ${codec}, not raw; only raw blocks hold their rows`);
    // the scratch cache has the target store's shape: restore refuses a block of another shape
    const cache = this.cacheFor(block.tokens);
    this.reader.restore(cache, block, 0);
    return this.writer.write(cache, 0, block.tokens, block);
  }

  destroy(): void {
    this.writer.destroy();
    this.reader.destroy();
    this.cache?.destroy();
    this.cache = null;
  }

  /** A scratch cache of at least `tokens` rows (kept; replaced by a larger one when a block needs it). */
  private cacheFor(tokens: number): KvCache {
    if (!this.cache || this.cache.capacity < tokens) {
      this.cache?.destroy();
      const { layers, kvHeads, headDim, dtype } = this.meta;
      this.cache = KvCache.create(this.gpu, { layers, capacity: tokens, kvHeads, headDim, dtype });
    }
    return this.cache;
  }
}

/**
 * A new store of `meta` holding every frame of `source` (a raw store) re-encoded, in order, with the
 * input embeddings it kept for them. Blocks are re-encoded `lanes` at a time, each lane a
 * BlockTranscoder of its own (its scratch cache and writer), because one block's work is a few
 * tiny dispatches and two read-backs: done one after another, an hour of frames waits on ~7,000
 * read-backs in turn, which took minutes with 17 processes sharing an H100 (2026-12-07).
 */
export async function transcodeStore(gpu: GpuDevice, meta: StoreMeta, source: MemoryStore, options: MemoryStoreOptions = {}, lanes = 16): Promise<MemoryStore> {
  const store = new MemoryStore(meta, options);
  const blocks: FrameBlock[] = new Array<FrameBlock>(source.frames);
  const transcoders = Array.from({ length: Math.max(1, Math.min(lanes, source.frames)) }, () => new BlockTranscoder(gpu, meta));
  let next = 0;
  // every lane settles before the lanes' GPU scratch is freed, also when one of them fails
  const settled = await Promise.allSettled(
    transcoders.map(async (t) => {
      for (let i = next++; i < source.frames; i = next++) blocks[i] = await t.transcode(await source.load(i));
    }),
  );
  for (const t of transcoders) t.destroy();
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  for (const [i, block] of blocks.entries()) {
    store.add(block);
    const inputs = source.inputsOf(i);
    if (inputs) store.setInputs(i, inputs);
  }
  return store;
}
