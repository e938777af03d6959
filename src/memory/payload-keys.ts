import { InputError } from '../errors';
import { fromF16Bits } from '../gpu/f16';
import { dequantizeKeysRef } from '../kernels/kvquant-cpu';
import type { FrameBlock } from './frame-block';
import { payloadLayout } from './payload';

/**
 * One layer's pre-RoPE keys of a frame, f32 [tokens, channels], decoded on the CPU from its block's
 * payload: raw rows as they are, quantized ones through the same dequantization the GPU restores
 * with (kernels/kvquant-cpu.ts mirrors the kernel bit for bit). Retrieval reads these, so a live
 * store and a reopened saved one rank with the same keys.
 */
export function payloadLayerKeys(block: Pick<FrameBlock, 'index' | 'layers' | 'tokens' | 'channels' | 'bits' | 'keyGroup' | 'dtype'>, payload: Uint8Array, layer: number): Float32Array {
  if (!Number.isInteger(layer) || layer < 0 || layer >= block.layers) throw new InputError(`frame block ${block.index}: no layer ${layer} among its ${block.layers}`);
  const layout = payloadLayout(block);
  if (payload.byteLength !== layout.bytes) throw new InputError(`frame block ${block.index}: payload of ${payload.byteLength} bytes, expected ${layout.bytes}`);
  const s = layout.layers[layer].keys;
  const n = block.tokens * block.channels;
  // a copy into aligned memory: payload offsets are 4-byte multiples but the view's start may not be
  const bytes = payload.slice(s.offset, s.offset + s.bytes);
  if (block.bits === 'none') return block.dtype === 'f16' ? fromF16Bits(new Uint16Array(bytes.buffer), n) : new Float32Array(bytes.buffer, 0, n);
  const params = payload.slice(s.params!.offset, s.params!.offset + s.params!.bytes);
  return dequantizeKeysRef({ codes: new Uint32Array(bytes.buffer), params: new Uint32Array(params.buffer) }, block.tokens, block.channels, block.bits, block.keyGroup);
}
