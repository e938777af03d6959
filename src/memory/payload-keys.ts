import { InputError } from '../errors';
import { codecOf } from './codecs/registry';
import type { FrameBlock } from './frame-block';
import { payloadLayout } from './payload';

/**
 * One layer's pre-RoPE keys of a frame, f32 [tokens, channels], decoded on the CPU from its block's
 * payload by its codec, exactly as the GPU restores them (kernels/kvquant-cpu.ts mirrors the kernel
 * bit for bit). Retrieval reads these, so a live store and a reopened saved one rank with the same keys.
 */
export function payloadLayerKeys(block: Pick<FrameBlock, 'index' | 'layers' | 'tokens' | 'channels' | 'bits' | 'codec' | 'keyGroup' | 'dtype'>, payload: Uint8Array, layer: number): Float32Array {
  if (!Number.isInteger(layer) || layer < 0 || layer >= block.layers) throw new InputError(`frame block ${block.index}: no layer ${layer} among its ${block.layers}`);
  const layout = payloadLayout(block);
  if (payload.byteLength !== layout.bytes) throw new InputError(`frame block ${block.index}: payload of ${payload.byteLength} bytes, expected ${layout.bytes}`);
  const s = layout.layers[layer].keys;
  // a copy into aligned memory: payload offsets are 4-byte multiples but the view's start may not be
  return codecOf(block).decodeKeys(payload.slice(s.offset, s.offset + s.bytes), block);
}
