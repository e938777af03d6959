import type { GpuDevice } from '../gpu/device';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { KEY_GROUP_TOKENS } from '../kernels/kvquant-layout';
import { keySummary } from '../kernels/kv-summary';
import type { KvCodec, KvEncoder } from './codecs/codec';
import { kernelsOf } from './codecs/gpu-registry';
import { codecOf } from './codecs/registry';
import type { FrameBlock, Thumbnail } from './frame-block';
import type { KvCache } from './kv-cache';
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
 * pre-RoPE key, shaders/kv_summary.wgsl) and the K/V encoded by the store's codec (codecs/: KIVI
 * quantized on the GPU, or copied raw), all packed into one GPU buffer and read back with a single
 * map. The cache rows are only read, so the caller decides when they leave the GPU.
 *
 * GPU scratch (the codec's encoder, the packing buffer) is kept for the current frame length and
 * reused; a new length replaces it.
 */
export class FrameBlockWriter {
  private readonly summary: Tensor;
  private readonly codec: KvCodec;
  private readonly scratch = new Map<number, { encoder: KvEncoder; packed: Tensor }>();

  constructor(
    readonly gpu: GpuDevice,
    readonly meta: StoreMeta,
  ) {
    this.codec = codecOf(meta);
    this.summary = Tensor.empty(gpu, [meta.layers * meta.kvHeads * meta.headDim], 'f32', 'frame key summary');
  }

  async write(cache: KvCache, start: number, tokens: number, info: FrameInfo): Promise<FrameBlock> {
    const { layers, kvHeads, headDim, bits, dtype } = this.meta;
    const channels = kvHeads * headDim;
    const keyGroup = KEY_GROUP_TOKENS; // the key group this version makes blocks with
    const codec = this.codec.id;
    const layout = payloadLayout({ layers, tokens, channels, bits, codec, keyGroup, dtype });
    const { encoder, packed } = this.scratchFor(tokens, layout.bytes);
    const rec = new CommandRecorder(this.gpu, undefined, 'evict frame');
    for (let l = 0; l < layers; l++) {
      keySummary(rec, cache.rows(l, 'keys'), tokens, this.summary, { row: start, outOffset: l * channels });
      encoder.recordEncode(rec, cache, l, start);
    }
    // copies after every dispatch: one compute pass, then the copies
    layout.layers.forEach((slices, l) => encoder.recordCopies(rec, cache, l, start, packed.buffer, slices.keys, slices.values));
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
      codec,
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
      // one piece length at a time: a frame's token count changes only where its printed time gains a
      // digit (`Frame from 100:00:` at 100 minutes), and frames leave in time order, so an older
      // length's buffers are not needed again; keeping them added a set of buffers at each change
      // (the 20,000-frame soak's GPU buffer count stepped by 17 at frame 6,000)
      this.releaseScratch();
      const { layers, kvHeads, headDim, dtype } = this.meta;
      const encoder = kernelsOf(this.codec).createEncoder(this.gpu, { tokens, channels: kvHeads * headDim, keyGroup: KEY_GROUP_TOKENS, dtype }, layers);
      s = { encoder, packed: Tensor.empty(this.gpu, [Math.ceil(bytes / 4)], 'u32', 'frame block packing') };
      this.scratch.set(tokens, s);
    }
    return s;
  }

  destroy(): void {
    this.summary.destroy();
    this.releaseScratch();
  }

  private releaseScratch(): void {
    for (const s of this.scratch.values()) {
      s.encoder.destroy();
      s.packed.destroy();
    }
    this.scratch.clear();
  }
}
