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

/** One layer's K/V as a kernel binds them, and where the next appended row starts. */
export interface KvLayerBinding {
  /** [capacity, kvHeads, headDim], unrotated keys. */
  keys: Tensor;
  values: Tensor;
  /** u32 [capacity]: the RoPE position of each row (shared by every layer). */
  positions: Tensor;
  /** Element offset of row `length` in `keys`/`values`: where a kernel writing new rows in place starts. */
  appendOffset: number;
}

/**
 * The text decoder's key/value cache, owned by memory/ because memory is what moves its rows in and
 * out (eviction, restore, windows); the model only appends and attends. Per layer, K and V are
 * `[capacity, kvHeads, headDim]`; the first `length` rows are valid. Keys are stored BEFORE RoPE
 * (DESIGN decision 3): the attention kernel rotates key j to `positions[j]` while reading it, so a
 * row's position can be changed later (sliding windows, re-positioning) without rewriting the key.
 *
 * The buffers are private: every write goes through a method here (append, copy, write or read
 * rows, truncate), so what the cache holds is decided in one file. Kernels get the tensors to bind
 * through `binding` and `rows`.
 *
 * Appending is a copy recorded into the caller's recorder (no submit, no readback); `length` is
 * host state that the caller advances once the whole step (every layer) has been recorded.
 */
export class KvCache {
  private readonly keys: Tensor[] = [];
  private readonly values: Tensor[] = [];
  /** u32 [capacity]: the RoPE position of each cached row, filled by the caller (see `recordPositions`). */
  private readonly positions: Tensor;
  /** Valid rows. */
  private valid = 0;
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

  /** Valid rows. */
  get length(): number {
    return this.valid;
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
    if (this.valid + tokens > this.capacity) {
      throw new InputError(`KV cache full: ${this.valid} + ${tokens} tokens exceed its capacity of ${this.capacity}`);
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
    copyBytes(rec, k, 0, this.keys[layer], this.valid * row, tokens * row);
    copyBytes(rec, v, 0, this.values[layer], this.valid * row, tokens * row);
  }

  /**
   * Records the copy of T query positions (u32 [T]) into `positions` at rows length … length+T−1.
   * A buffer copy (4-byte granularity; it ends the compute pass, once per step).
   */
  recordPositions(rec: CommandRecorder, positions: Tensor): void {
    if (positions.dtype !== 'u32') throw new InputError(`KvCache: positions must be u32, got ${positions.dtype}`);
    this.reserve(positions.size);
    rec.copy(positions.buffer, 0, this.positions.buffer, this.valid * 4, positions.size * 4);
  }

  /** Marks T appended rows valid, after every layer of the step was recorded. */
  advance(tokens: number): void {
    this.reserve(tokens);
    this.valid += tokens;
  }

  /** Forgets every row (the buffers are reused as they are). */
  reset(): void {
    this.valid = 0;
  }

  /** Keeps the first `rows` rows and forgets the rest (rows written by copies become valid this way too). */
  truncate(rows: number): void {
    if (!Number.isInteger(rows) || rows < 0 || rows > this.capacity) throw new InputError(`KvCache.truncate: ${rows} rows of ${this.capacity}`);
    this.valid = rows;
  }

  /** Layer `layer`'s tensors for an attention kernel (or a matmul writing new rows in place at `appendOffset`). */
  binding(layer: number): KvLayerBinding {
    this.checkLayer(layer);
    return { keys: this.keys[layer], values: this.values[layer], positions: this.positions, appendOffset: this.valid * this.config.kvHeads * this.config.headDim };
  }

  /** Layer `layer`'s keys or values seen as [capacity, kvHeads·headDim] rows (kvquant and summaries take rows of channels). */
  rows(layer: number, part: 'keys' | 'values'): Tensor {
    this.checkLayer(layer);
    const t = this.tensorOf(layer, part);
    return new Tensor(this.gpu, t.buffer, [this.capacity, this.config.kvHeads * this.config.headDim], t.dtype);
  }

  /**
   * Records the removal of rows [start, start+count) of every layer: later valid rows move down
   * (through a scratch buffer, since a buffer cannot be copied onto itself) and `length` shrinks.
   * Keys are unrotated, so moved rows need no rewrite: they take the positions of their new index.
   */
  removeRows(rec: CommandRecorder, start: number, count: number): void {
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > this.valid) {
      throw new InputError(`KvCache.removeRows: rows [${start}, ${start + count}) are not within the ${this.valid} valid rows`);
    }
    const row = this.rowBytes;
    const tail = this.valid - start - count;
    if (tail > 0) {
      this.scratch ??= Tensor.empty(this.gpu, [this.capacity * row / 4], 'u32', 'kv cache move scratch');
      for (const t of [...this.keys, ...this.values]) {
        copyBytes(rec, t, (start + count) * row, this.scratch, 0, tail * row);
        copyBytes(rec, this.scratch, 0, t, start * row, tail * row);
      }
    }
    this.valid -= count;
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

  /**
   * Records the copy of rows [row, row+count) of layer `layer`'s keys or values into `dst` at byte
   * `dstByte` (a raw frame block being packed for eviction). Does not change the cache.
   */
  recordReadRows(rec: CommandRecorder, layer: number, part: 'keys' | 'values', row: number, count: number, dst: GPUBuffer, dstByte: number): void {
    this.checkRows(layer, row, count);
    const row0 = this.rowBytes;
    rec.copy(this.tensorOf(layer, part).buffer, row * row0, dst, dstByte, count * row0);
  }

  /**
   * Writes `byteLength` bytes of `data` from `dataByte` into layer `layer`'s keys or values at row
   * `row` through the device queue (a raw frame block restored): ordered before any command
   * buffer submitted after it. Does not change `length` (see `truncate`).
   */
  writeRows(layer: number, part: 'keys' | 'values', row: number, data: Uint8Array, dataByte: number, byteLength: number): void {
    const rowBytes = this.rowBytes;
    if (byteLength % rowBytes) throw new InputError(`KvCache.writeRows: ${byteLength} bytes are not whole rows of ${rowBytes}`);
    this.checkRows(layer, row, byteLength / rowBytes);
    this.gpu.device.queue.writeBuffer(this.tensorOf(layer, part).buffer, row * rowBytes, data.buffer, data.byteOffset + dataByte, byteLength);
  }

  /** Bytes of the K/V buffers (all layers, full capacity). */
  get bytes(): number {
    return 2 * this.config.layers * this.capacity * this.rowBytes;
  }

  /** Bytes of every buffer the cache allocated up front: K/V and positions. */
  get gpuBytes(): number {
    return this.bytes + this.positions.byteLength;
  }

  destroy(): void {
    for (const t of [...this.keys, ...this.values, this.positions]) t.destroy();
    this.scratch?.destroy();
  }

  private tensorOf(layer: number, part: 'keys' | 'values'): Tensor {
    return (part === 'keys' ? this.keys : this.values)[layer];
  }

  private checkLayer(layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.config.layers) throw new InputError(`KvCache: no layer ${layer} among ${this.config.layers}`);
  }

  private checkRows(layer: number, row: number, count: number): void {
    this.checkLayer(layer);
    if (!Number.isInteger(row) || !Number.isInteger(count) || row < 0 || count < 0 || row + count > this.capacity) throw new InputError(`KvCache: rows [${row}, ${row + count}) exceed the capacity of ${this.capacity}`);
  }
}

function rowBytesOf(c: { kvHeads: number; headDim: number; dtype: DType }): number {
  return c.kvHeads * c.headDim * BYTES_PER_ELEMENT[c.dtype];
}
