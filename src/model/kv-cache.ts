import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import type { CommandRecorder } from '../gpu/recorder';
import { BYTES_PER_ELEMENT, Tensor, type DType } from '../gpu/tensor';
import { copyBytes } from '../kernels/copy';

export interface KvCacheConfig {
  layers: number;
  /** Rows (token slots) per layer. */
  capacity: number;
  kvHeads: number;
  headDim: number;
  /** Element type of K and V: the activation dtype, since rows are appended by a raw byte copy. */
  dtype?: DType;
}

/**
 * The text decoder's key/value cache. Per layer, K and V are `[capacity, kvHeads, headDim]`; the first
 * `length` rows are valid. Keys are stored BEFORE RoPE (DESIGN decision 3): the attention kernel
 * rotates key j to `positions[j]` while reading it, so a row's position can be changed later
 * (sliding windows, re-positioning) without rewriting the key.
 *
 * Appending is a copy recorded into the caller's recorder (no submit, no readback); `length` is
 * host state that the caller advances once the whole step (every layer) has been recorded.
 */
export class KvCache {
  readonly keys: Tensor[] = [];
  readonly values: Tensor[] = [];
  /** u32 [capacity]: the RoPE position of each cached row, filled by the caller (see `recordPositions`). */
  readonly positions: Tensor;
  /** Valid rows. */
  length = 0;
  private scratch: Tensor | null = null;

  private constructor(
    readonly gpu: GpuDevice,
    readonly config: Required<KvCacheConfig>,
  ) {
    const { layers, capacity, kvHeads, headDim, dtype } = config;
    for (let l = 0; l < layers; l++) {
      this.keys.push(Tensor.empty(gpu, [capacity, kvHeads, headDim], dtype, `kv cache k.${l}`));
      this.values.push(Tensor.empty(gpu, [capacity, kvHeads, headDim], dtype, `kv cache v.${l}`));
    }
    this.positions = Tensor.empty(gpu, [capacity], 'u32', 'kv cache positions');
    // Every row starts at the position equal to its index (contiguous positions, StreamingLLM / ReKV):
    // rows placed by copies (restored frames, moved windows) then need no position writes, and a
    // forward that appends at positions length… writes the same values again.
    this.positions.write(Uint32Array.from({ length: capacity }, (_, i) => i));
  }

  static create(gpu: GpuDevice, config: KvCacheConfig): KvCache {
    const full = { dtype: 'f32' as DType, ...config };
    for (const key of ['layers', 'capacity', 'kvHeads', 'headDim'] as const) {
      if (!Number.isInteger(full[key]) || full[key] <= 0) throw new InputError(`KvCache: ${key} must be a positive integer, got ${full[key]}`);
    }
    if (full.dtype !== 'f32' && full.dtype !== 'f16') throw new InputError(`KvCache: dtype must be f32 or f16, got ${full.dtype}`);
    if (rowBytesOf(full) % 16) throw new InputError(`KvCache: a row of ${full.kvHeads}×${full.headDim} ${full.dtype} is not a multiple of 16 bytes`);
    return new KvCache(gpu, full);
  }

  get capacity(): number {
    return this.config.capacity;
  }

  /** Bytes of one cached row (all kv heads of one token). */
  get rowBytes(): number {
    return rowBytesOf(this.config);
  }

  /** Throws unless `tokens` more rows fit. */
  reserve(tokens: number): void {
    if (this.length + tokens > this.capacity) {
      throw new InputError(`KV cache full: ${this.length} + ${tokens} tokens exceed its capacity of ${this.capacity}`);
    }
  }

  /**
   * Records the copy of T new rows `k`, `v` ([T, kvHeads, headDim], unrotated keys) into layer
   * `layer` at rows length … length+T−1. Does not advance `length` (see `advance`).
   */
  append(rec: CommandRecorder, layer: number, k: Tensor, v: Tensor): void {
    const row = this.rowBytes;
    const tokens = k.byteLength / row;
    if (!Number.isInteger(tokens) || v.byteLength !== k.byteLength) throw new InputError(`KvCache.append: k/v of ${k.byteLength}/${v.byteLength} bytes are not whole rows of ${row}`);
    if (k.dtype !== this.config.dtype || v.dtype !== this.config.dtype) throw new InputError(`KvCache.append: k/v are ${k.dtype}/${v.dtype}, the cache is ${this.config.dtype}`);
    this.reserve(tokens);
    copyBytes(rec, k, 0, this.keys[layer], this.length * row, tokens * row);
    copyBytes(rec, v, 0, this.values[layer], this.length * row, tokens * row);
  }

  /**
   * Records the copy of T query positions (u32 [T]) into `positions` at rows length … length+T−1.
   * A buffer copy (4-byte granularity; it ends the compute pass, once per step).
   */
  recordPositions(rec: CommandRecorder, positions: Tensor): void {
    if (positions.dtype !== 'u32') throw new InputError(`KvCache: positions must be u32, got ${positions.dtype}`);
    this.reserve(positions.size);
    rec.copy(positions.buffer, 0, this.positions.buffer, this.length * 4, positions.size * 4);
  }

  /** Marks T appended rows valid, after every layer of the step was recorded. */
  advance(tokens: number): void {
    this.reserve(tokens);
    this.length += tokens;
  }

  /** Forgets every row (the buffers are reused as they are). */
  reset(): void {
    this.length = 0;
  }

  /** Keeps the first `rows` rows and forgets the rest (rows written by copies become valid this way too). */
  truncate(rows: number): void {
    if (!Number.isInteger(rows) || rows < 0 || rows > this.capacity) throw new InputError(`KvCache.truncate: ${rows} rows of ${this.capacity}`);
    this.length = rows;
  }

  /** Layer `layer`'s keys or values seen as [capacity, kvHeads·headDim] rows (kvquant and summaries take rows of channels). */
  rows(layer: number, part: 'keys' | 'values'): Tensor {
    const t = (part === 'keys' ? this.keys : this.values)[layer];
    return new Tensor(this.gpu, t.buffer, [this.capacity, this.config.kvHeads * this.config.headDim], t.dtype);
  }

  /**
   * Records the removal of rows [start, start+count) of every layer: later valid rows move down
   * (through a scratch buffer, since a buffer cannot be copied onto itself) and `length` shrinks.
   * Keys are unrotated, so moved rows need no rewrite: they take the positions of their new index.
   */
  removeRows(rec: CommandRecorder, start: number, count: number): void {
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > this.length) {
      throw new InputError(`KvCache.removeRows: rows [${start}, ${start + count}) are not within the ${this.length} valid rows`);
    }
    const row = this.rowBytes;
    const tail = this.length - start - count;
    if (tail > 0) {
      this.scratch ??= Tensor.empty(this.gpu, [this.capacity * row / 4], 'u32', 'kv cache move scratch');
      for (const t of [...this.keys, ...this.values]) {
        copyBytes(rec, t, (start + count) * row, this.scratch, 0, tail * row);
        copyBytes(rec, this.scratch, 0, t, start * row, tail * row);
      }
    }
    this.length -= count;
  }

  /**
   * Records the copy of rows [srcRow, srcRow+count) of every layer of `src` into this cache at
   * `dstRow` (same model: same layers, heads and dtype). Does not change `length`.
   */
  copyRowsFrom(rec: CommandRecorder, src: KvCache, srcRow: number, dstRow: number, count: number): void {
    const c = this.config;
    const o = src.config;
    if (o.layers !== c.layers || o.kvHeads !== c.kvHeads || o.headDim !== c.headDim || o.dtype !== c.dtype) throw new InputError('KvCache.copyRowsFrom: the caches belong to different models');
    if (count === 0) return;
    if (srcRow < 0 || srcRow + count > src.capacity || dstRow < 0 || dstRow + count > this.capacity) throw new InputError(`KvCache.copyRowsFrom: ${count} rows from ${srcRow} to ${dstRow} are out of bounds`);
    const row = this.rowBytes;
    for (let l = 0; l < c.layers; l++) {
      copyBytes(rec, src.keys[l], srcRow * row, this.keys[l], dstRow * row, count * row);
      copyBytes(rec, src.values[l], srcRow * row, this.values[l], dstRow * row, count * row);
    }
  }

  /** Bytes of the K/V buffers (all layers, full capacity). */
  get bytes(): number {
    return 2 * this.config.layers * this.capacity * this.rowBytes;
  }

  destroy(): void {
    for (const t of [...this.keys, ...this.values, this.positions]) t.destroy();
    this.scratch?.destroy();
  }
}

function rowBytesOf(c: { kvHeads: number; headDim: number; dtype: DType }): number {
  return c.kvHeads * c.headDim * BYTES_PER_ELEMENT[c.dtype];
}
