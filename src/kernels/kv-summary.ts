import source from '../../shaders/kv_summary.wgsl?raw';
import { InputError } from '../errors';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { dispatchKernel } from './common';

const keySummaryKernel = defineKernel({
  name: 'kv_summary',
  body: [source],
  uniforms: {
    tokens: 'u32', // T
    channels: 'u32', // C = kv_heads · head_dim
    row_offset: 'u32', // first row of the block in `src`
    out_offset: 'u32', // first element written in `dst` (this layer's slot)
  },
  bindings: { src: read('array<act>') /* [rows, C] */, dst: readWrite('array<f32>') },
  constants: { WG: 64 },
});

export interface KeySummaryOptions {
  /** First row of the block in `keys` (default 0). */
  row?: number;
  /** First element written in `out` (default 0). */
  outOffset?: number;
}

/**
 * Records out[outOffset + c] = mean over rows row … row+T−1 of keys[·, c]: the mean pre-RoPE key
 * of a frame block per channel (channels = kv_heads · head_dim), summed in f32.
 * `keys` is an activation tensor [≥ row + T, C] (f32 or f16), `out` an f32 tensor.
 */
export function keySummary(rec: CommandRecorder, keys: Tensor, tokens: number, out: Tensor, options: KeySummaryOptions = {}): void {
  const row = options.row ?? 0;
  const outOffset = options.outOffset ?? 0;
  if (keys.dtype !== 'f32' && keys.dtype !== 'f16') throw new InputError(`keySummary: keys must be f32 or f16, got ${keys.dtype}`);
  if (out.dtype !== 'f32') throw new InputError(`keySummary: out must be f32, got ${out.dtype}`);
  const channels = keys.shape[keys.shape.length - 1];
  if (!Number.isInteger(tokens) || tokens < 1) throw new InputError(`keySummary: tokens must be a positive integer, got ${tokens}`);
  if (!Number.isInteger(row) || row < 0 || (row + tokens) * channels > keys.size) throw new InputError(`keySummary: rows [${row}, ${row + tokens}) do not fit keys [${keys.shape.join(', ')}]`);
  if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + channels > out.size) throw new InputError(`keySummary: ${channels} outputs at ${outOffset} do not fit out [${out.size}]`);
  const uniforms = { tokens, channels, row_offset: row, out_offset: outOffset };
  dispatchKernel(rec, keySummaryKernel, { precision: keys.dtype }, uniforms, { src: keys, dst: out }, [Math.ceil(channels / keySummaryKernel.constants.WG), 1]);
}
