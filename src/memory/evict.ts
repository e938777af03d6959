import type { GpuDevice } from '../gpu/device';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { KEY_GROUP_TOKENS, createKvQuantBlock, destroyKvQuantBlock, quantizeKeys, quantizeValues, type KvQuantBlock } from '../kernels/kvquant';
import { keySummary } from '../kernels/kv-summary';
import type { KvCache } from './kv-cache';
import type { FrameBlock, Thumbnail } from './frame-block';
import { payloadLayout } from './payload';
import { unitSlices } from './retrieval-rows';
import type { StoreMeta } from './store';

export interface FrameInfo {
  index: number;
  timestampMs: number;
  thumbnail: Thumbnail;
}

/**
 * Turns a frame's rows of the GPU cache into a FrameBlock: per layer the key summary (mean
 * pre-RoPE key, shaders/kv_summary.wgsl) and the K/V, quantized on the GPU (shaders/kvquant.wgsl)
 * or copied raw, all packed into one GPU buffer and read back with a single map. The cache rows
 * are only read, so the caller decides when they leave the GPU.
 *
 * GPU scratch (quantized blocks per layer, the packing buffer) is kept per frame length and reused:
 * frames of one stream have one or two lengths.
 */
export class FrameBlockWriter {
  private readonly summary: Tensor;
  private readonly scratch = new Map<number, { blocks: KvQuantBlock[]; packed: Tensor }>();

  constructor(
    readonly gpu: GpuDevice,
    readonly meta: StoreMeta,
  ) {
    this.summary = Tensor.empty(gpu, [meta.layers * meta.kvHeads * meta.headDim], 'f32', 'frame key summary');
  }

  async write(cache: KvCache, start: number, tokens: number, info: FrameInfo): Promise<FrameBlock> {
    const { layers, kvHeads, headDim, bits, dtype } = this.meta;
    const channels = kvHeads * headDim;
    const keyGroup = KEY_GROUP_TOKENS; // the layout scratchFor's quantized blocks are made with
    const layout = payloadLayout({ layers, tokens, channels, bits, keyGroup, dtype });
    const { blocks, packed } = this.scratchFor(tokens, layout.bytes);
    const rec = new CommandRecorder(this.gpu, undefined, 'evict frame');
    for (let l = 0; l < layers; l++) {
      keySummary(rec, cache.rows(l, 'keys'), tokens, this.summary, { row: start, outOffset: l * channels });
      if (bits !== 'none') {
        quantizeKeys(rec, cache.rows(l, 'keys'), blocks[l], { row: start });
        quantizeValues(rec, cache.rows(l, 'values'), blocks[l], { row: start });
      }
    }
    // copies after every dispatch: one compute pass, then the copies
    layout.layers.forEach((slices, l) => {
      if (bits === 'none') {
        cache.recordReadRows(rec, l, 'keys', start, tokens, packed.buffer, slices.keys.offset);
        cache.recordReadRows(rec, l, 'values', start, tokens, packed.buffer, slices.values.offset);
        return;
      }
      const b = blocks[l];
      for (const [part, s] of [[b.keys, slices.keys], [b.values, slices.values]] as const) {
        rec.copy(part.codes.buffer, 0, packed.buffer, s.offset, s.bytes);
        rec.copy(part.params.buffer, 0, packed.buffer, s.params!.offset, s.params!.bytes);
      }
    });
    rec.submit();
    const [payloadWords, keySummaryValues] = await Promise.all([packed.read(), this.summary.readFloat()]);
    const payload = new Uint8Array(payloadWords.buffer, payloadWords.byteOffset, layout.bytes).slice();
    return {
      index: info.index,
      timestampMs: info.timestampMs,
      tokens,
      layers,
      channels,
      bits,
      keyGroup,
      dtype,
      payload,
      // as unit-length slices, the form the store keeps and saves (frame-block.ts)
      keySummary: unitSlices(keySummaryValues, this.meta.headDim),
      thumbnail: info.thumbnail,
    };
  }

  private scratchFor(tokens: number, bytes: number) {
    let s = this.scratch.get(tokens);
    if (!s) {
      const { layers, kvHeads, headDim, bits } = this.meta;
      const blocks = bits === 'none' ? [] : Array.from({ length: layers }, () => createKvQuantBlock(this.gpu, { tokens, channels: kvHeads * headDim, keyBits: bits, keyGroup: KEY_GROUP_TOKENS }));
      s = { blocks, packed: Tensor.empty(this.gpu, [Math.ceil(bytes / 4)], 'u32', 'frame block packing') };
      this.scratch.set(tokens, s);
    }
    return s;
  }

  destroy(): void {
    this.summary.destroy();
    for (const s of this.scratch.values()) {
      s.blocks.forEach(destroyKvQuantBlock);
      s.packed.destroy();
    }
    this.scratch.clear();
  }
}
