import type { KvBits } from '../kernels/kvquant-layout';

/**
 * The `kvBits` setting: how a frame block's K/V are kept off the GPU, KIVI-quantized at 8/4/2 bits
 * (keys per channel in groups of `keyGroup` tokens, values per token in groups of 32 channels;
 * src/kernels/kvquant-layout.ts), or 'none' = the cache rows as they were (f32 or f16), which
 * restores them bit for bit. Each value names a K/V codec (codecs/registry.ts).
 */
export type KvStoreBits = KvBits | 'none';

/** Every KvStoreBits value, for checking settings. */
export const KV_STORE_BITS: readonly KvStoreBits[] = [8, 4, 2, 'none'];

/** A small picture of the frame for timelines: RGB, interleaved, longest edge ≤ the engine's setting. */
export interface Thumbnail {
  width: number;
  height: number;
  /** width·height·3 bytes. */
  data: Uint8Array;
}

/**
 * The unit of memory (DESIGN decision 4): one frame's tokens' K/V for every layer, evicted from the
 * GPU window, plus what retrieval and the UI need without touching the K/V.
 *
 * `payload` holds, layer after layer, that layer's keys then values, as its K/V codec encodes them
 * (codecs/: 'raw' = rows [tokens, channels] in `dtype`; 'kivi-8/4/2' = codes then params, the GPU
 * layout of kvQuantPartLayout). So its size follows from (layers, tokens, channels, codec,
 * keyGroup, dtype) alone: `framePayloadBytes`.
 */
export interface FrameBlock {
  /** 0-based index of the frame in the stream (ingest order). */
  index: number;
  timestampMs: number;
  /** Rows (tokens) of this frame's piece: `Frame from MM:SS:` and its image tokens. */
  tokens: number;
  layers: number;
  /** kv_heads · head_dim. */
  channels: number;
  bits: KvStoreBits;
  /**
   * The id of the K/V codec that encoded `payload` (codecs/registry.ts). Absent in blocks made by
   * hand: then `bits` names it (codecOf).
   */
  codec?: string;
  /**
   * Tokens per key quantization group: KEY_GROUP_TOKENS (128) in blocks this version makes, 32 in
   * blocks saved by memory format version 2. Kept for raw blocks too, where it shapes nothing.
   */
  keyGroup: number;
  /** Element type of the GPU cache rows (the raw payload's type when bits is 'none'). */
  dtype: 'f32' | 'f16';
  payload: Uint8Array;
  /**
   * f32 [layers, kv_heads, head_dim]: per layer and KV head, the mean of the frame's pre-RoPE keys,
   * each (layer, KV head) slice scaled to unit length: the only form retrieval uses (it compares
   * directions), so the store keeps one copy of it (FrameBlockWriter makes it so; blocks from
   * elsewhere are normalized by the store).
   */
  keySummary: Float32Array;
  thumbnail: Thumbnail;
}

/**
 * A stored frame without its K/V payload: what the memory store keeps in RAM for every frame, even
 * when the payload itself has moved to disk (spill.ts). `payloadBytes` is the payload's size.
 */
export type FrameBlockInfo = Omit<FrameBlock, 'payload'> & { payloadBytes: number };

/** What the memory store keeps of every frame besides its retrieval rows: no payload, no key summary. */
export type FrameBlockMeta = Omit<FrameBlockInfo, 'keySummary'>;

/** A frame block whose payload is fetched on demand (from RAM or from disk). */
export type LazyFrameBlock = FrameBlockInfo & { loadPayload(): Promise<Uint8Array> };

/** A block's payload size, whether the payload is at hand or only described. */
export function payloadSizeOf(block: FrameBlock | FrameBlockInfo): number {
  return 'payload' in block ? block.payload.byteLength : block.payloadBytes;
}

/** The block without its payload. */
export function blockInfo(block: FrameBlock): FrameBlockInfo {
  const { payload, ...rest } = block;
  return { ...rest, payloadBytes: payload.byteLength };
}

/** A full block as a LazyFrameBlock (its payload already at hand). */
export function lazyBlock(block: FrameBlock): LazyFrameBlock {
  return { ...blockInfo(block), loadPayload: () => Promise.resolve(block.payload) };
}
