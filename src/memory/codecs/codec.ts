import type { CommandRecorder } from '../../gpu/recorder';
import type { GpuDevice } from '../../gpu/device';
import type { KvStoreBits } from '../frame-block';
import type { KvCache } from '../kv-cache';

/** Which half of a layer's cache rows a part of a frame block holds. */
export type KvPart = 'keys' | 'values';

/** What a codec needs to know of one layer's keys or values of one frame. */
export interface KvPartShape {
  tokens: number;
  /** kv_heads · head_dim. */
  channels: number;
  /** Tokens per key group (FrameBlock.keyGroup); codecs without groups ignore it. */
  keyGroup: number;
  /** Element type of the GPU cache rows. */
  dtype: 'f32' | 'f16';
}

/** Where one part sits in a frame block's payload (byte offsets). */
export interface KvPartSlice {
  offset: number;
  bytes: number;
}

/**
 * A way of keeping a frame's K/V off the GPU: the format side, plain arithmetic and CPU decoding
 * with no GPU import, so memory files can be parsed and checked in plain Node. Its GPU side is a
 * KvCodecKernels registered under the same id (gpu-registry.ts); registry.ts lists the codecs.
 *
 * A frame block's payload is, layer after layer, that layer's keys part then its values part,
 * each `partBytes` long, so a payload's size follows from the block's shape and codec alone.
 */
export interface KvCodec {
  /** The name saved in memory indexes and accepted by the engine's `kvCodec` option. */
  readonly id: string;
  /** The byte that names the codec in a block file's header (persist.ts); unique among codecs. */
  readonly fileCode: number;
  /**
   * The `kvBits` setting this codec is (blocks and metas also carry it as `bits`): 8/4/2 or
   * 'none'. The first codec of the registry with a given `bits` is what that setting, and a
   * memory saved before codecs had ids, means.
   */
  readonly bits: KvStoreBits;
  /** Bytes one layer's keys or values of one frame take in a payload; throws on an impossible shape. */
  partBytes(part: KvPart, shape: KvPartShape): number;
  /**
   * One layer's pre-RoPE keys, f32 [tokens, channels], decoded on the CPU from their part of a
   * payload (a copy starting at byte 0 of its buffer, so 4-byte aligned), exactly as the GPU
   * decoder would put them into the cache: retrieval reads these.
   */
  decodeKeys(encoded: Uint8Array, shape: KvPartShape): Float32Array;
}

/**
 * A codec's GPU side for frames of one shape (scratch is kept per shape and reused): it encodes
 * cache rows into a payload being packed, and decodes payload parts back into cache rows.
 */
export interface KvEncoder {
  /** Records the compute (dispatches only) that encodes layer `layer`'s rows from `row`. */
  recordEncode(rec: CommandRecorder, cache: KvCache, layer: number, row: number): void;
  /**
   * Records the copies of layer `layer`'s encoded keys and values into `packed` at their slices.
   * Called after every layer's recordEncode, so one compute pass is followed by the copies.
   */
  recordCopies(rec: CommandRecorder, cache: KvCache, layer: number, row: number, packed: GPUBuffer, keys: KvPartSlice, values: KvPartSlice): void;
  destroy(): void;
}

export interface KvDecoder {
  /**
   * Puts layer `layer`'s keys and values (their slices of `payload`) into the cache rows from
   * `row`: by queue writes, or by work recorded into `recorder()` (made on first use and
   * submitted by the caller after the last layer, so a codec that records nothing costs no submit).
   */
  decode(recorder: () => CommandRecorder, cache: KvCache, layer: number, row: number, payload: Uint8Array, keys: KvPartSlice, values: KvPartSlice): void;
  destroy(): void;
}

export interface KvCodecKernels {
  createEncoder(gpu: GpuDevice, shape: KvPartShape, layers: number): KvEncoder;
  createDecoder(gpu: GpuDevice, shape: KvPartShape, layers: number): KvDecoder;
}
