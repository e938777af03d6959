import source from '../../shaders/embedding.wgsl?raw';
import { InputError } from '../errors';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { dispatchKernel, expectDType, grid } from './common';

const embeddingKernel = defineKernel({
  name: 'embedding',
  body: [source],
  uniforms: {
    tokens: 'u32',
    width: 'u32', // H
    vocab: 'u32', // rows in this table binding
    first_row: 'u32', // id of the binding's first row
    zero_missing: 'u32',
  },
  bindings: {
    ids: read('array<u32>'),
    // TABLE_F16: f16 bit patterns, two per u32 word (no shader-f16 needed)
    table: read((d) => (d.TABLE_F16 ? 'array<u32>' : 'array<f32>')),
    out: readWrite('array<act>'),
  },
  constants: { WG: 256 },
  defines: ['TABLE_F16'],
});

export interface EmbeddingOptions {
  /**
   * Token id of the table's first row (default 0). A vocabulary too large for one binding is
   * split into row ranges, each its own tensor, gathered by one call per part.
   */
  firstRow?: number;
  /**
   * What happens to tokens whose id is not in this table's rows: 'zero' (default) writes zeros,
   * so an id ≥ vocabulary size never reads out of bounds and yields a zero embedding; 'keep'
   * leaves the output untouched (for every part of a split table after the first).
   */
  missing?: 'zero' | 'keep';
}

/**
 * Embedding gather: out[t, :] = table[ids[t], :].
 * ids: u32 [T]; table: f32 or f16 [V, H] (f16 as raw bits, read as u32 words without shader-f16;
 * any H, odd too); out: act [T, H] (f32 or f16 = the precision).
 */
export function embedding(rec: CommandRecorder, ids: Tensor, table: Tensor, out: Tensor, options: EmbeddingOptions = {}): void {
  expectDType(ids, 'u32', 'embedding ids');
  if (table.dtype !== 'f32' && table.dtype !== 'f16') throw new InputError(`embedding: table must be f32 or f16, got ${table.dtype}`);
  if (table.shape.length !== 2) throw new InputError(`embedding: table must be [vocab, hidden], got [${table.shape.join(', ')}]`);
  if (out.dtype !== 'f32' && out.dtype !== 'f16') throw new InputError(`embedding: out must be an f32 or f16 activation tensor, got ${out.dtype}`);
  const [vocab, width] = table.shape;
  const tokens = ids.size;
  if (out.size !== tokens * width) throw new InputError(`embedding: out has ${out.size} elements, ${tokens} ids × ${width} need ${tokens * width}`);
  const firstRow = options.firstRow ?? 0;
  if (!Number.isInteger(firstRow) || firstRow < 0) throw new InputError(`embedding: firstRow must be a non-negative integer, got ${firstRow}`);
  const uniforms = { tokens, width, vocab, first_row: firstRow, zero_missing: (options.missing ?? 'zero') === 'zero' ? 1 : 0 };
  const call = { precision: out.dtype, variant: { TABLE_F16: table.dtype === 'f16' }, entryPoint: 'embedding' };
  dispatchKernel(rec, embeddingKernel, call, uniforms, { ids, table, out }, grid(rec.gpu, Math.ceil((tokens * width) / embeddingKernel.constants.WG)));
}
