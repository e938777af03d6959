import { InputError } from '../errors';
import type { KvPartSlice } from './codecs/codec';
import { codecOf } from './codecs/registry';
import { payloadSizeOf, type FrameBlock, type FrameBlockInfo, type KvStoreBits } from './frame-block';

/** Where one layer's keys and values sit in a frame block's payload (byte offsets). */
export interface LayerSlices {
  keys: KvPartSlice;
  values: KvPartSlice;
}

export interface PayloadShape {
  layers: number;
  tokens: number;
  channels: number;
  bits: KvStoreBits;
  /** The K/V codec's id; absent: the one `bits` names (codecOf). */
  codec?: string;
  /** Tokens per key group (FrameBlock.keyGroup). */
  keyGroup: number;
  dtype: 'f32' | 'f16';
}

/** The payload layout of FrameBlock (frame-block.ts): per layer, keys then values, each as long as its codec says. */
export function payloadLayout(shape: PayloadShape): { layers: LayerSlices[]; bytes: number } {
  const { layers, tokens } = shape;
  if (!Number.isInteger(tokens) || tokens < 1 || !Number.isInteger(layers) || layers < 1) throw new InputError(`frame block: ${layers} layers × ${tokens} tokens`);
  const codec = codecOf(shape);
  const out: LayerSlices[] = [];
  let at = 0;
  const part = (kind: 'keys' | 'values'): KvPartSlice => {
    const bytes = codec.partBytes(kind, shape);
    const s = { offset: at, bytes };
    at += bytes;
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
