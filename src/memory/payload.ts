import { InputError } from '../errors';
import { kvQuantPartLayout, type KvQuantPartLayout } from '../kernels/kvquant-layout';
import { payloadSizeOf, type FrameBlock, type FrameBlockInfo, type KvStoreBits } from './frame-block';

/** Where one layer's keys and values sit in a frame block's payload (byte offsets). */
export interface LayerSlices {
  keys: PartSlices;
  values: PartSlices;
}

export interface PartSlices {
  /** bits 'none': the raw rows; quantized: the codes. */
  offset: number;
  bytes: number;
  /** Quantized only: the param words right after the codes. */
  params?: { offset: number; bytes: number };
  layout?: KvQuantPartLayout;
}

export interface PayloadShape {
  layers: number;
  tokens: number;
  channels: number;
  bits: KvStoreBits;
  /** Tokens per key group (FrameBlock.keyGroup). */
  keyGroup: number;
  dtype: 'f32' | 'f16';
}

/** The payload layout of FrameBlock (frame-block.ts): per layer, keys then values. */
export function payloadLayout(shape: PayloadShape): { layers: LayerSlices[]; bytes: number } {
  const { layers, tokens, channels, bits, keyGroup, dtype } = shape;
  if (!Number.isInteger(tokens) || tokens < 1 || !Number.isInteger(layers) || layers < 1) throw new InputError(`frame block: ${layers} layers × ${tokens} tokens`);
  const out: LayerSlices[] = [];
  let at = 0;
  const part = (kind: 'keys' | 'values'): PartSlices => {
    if (bits === 'none') {
      const bytes = tokens * channels * (dtype === 'f16' ? 2 : 4);
      const s = { offset: at, bytes };
      at += bytes;
      return s;
    }
    const layout = kvQuantPartLayout(kind, tokens, channels, bits, keyGroup);
    const s: PartSlices = { offset: at, bytes: layout.codeWords * 4, params: { offset: at + layout.codeWords * 4, bytes: layout.paramWords * 4 }, layout };
    at += layout.bytes;
    return s;
  };
  for (let l = 0; l < layers; l++) {
    const keys = part('keys');
    const values = part('values');
    out.push({ keys, values });
  }
  return { layers: out, bytes: at };
}

export function framePayloadBytes(shape: PayloadShape): number {
  return payloadLayout(shape).bytes;
}

/** Throws unless the block's payload (at hand or only described) has the size its shape implies. */
export function checkPayload(block: FrameBlock | FrameBlockInfo): void {
  const expected = framePayloadBytes(block);
  const size = payloadSizeOf(block);
  if (size !== expected) throw new InputError(`frame block ${block.index}: payload of ${size} bytes, its shape implies ${expected}`);
}
