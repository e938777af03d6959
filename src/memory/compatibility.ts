import { InputError } from '../errors';
import { codecOf } from './codecs/registry';
import type { FrameBlockInfo } from './frame-block';
import type { StoreMeta } from './store';

// The one compatibility check between memories, blocks and engines. A store's blocks can only be
// read back by an engine of the same model (modelKey), shape (layers, KV heads, head size), K/V
// encoding and cache element type; every place that brings a memory and an engine, or a block and
// a store, together asks here.

/** The fields that must agree, in the order a mismatch is reported; 'codec' compares codecOf (an absent id means the one `bits` names). */
const STORE_META_FIELDS: readonly (keyof StoreMeta)[] = ['modelKey', 'layers', 'kvHeads', 'headDim', 'bits', 'codec', 'dtype'];

/** The first field where `have` differs from `want`, or null when a store of `have` fits an engine of `want`. */
export function storeMetaMismatch(have: StoreMeta, want: StoreMeta): { field: keyof StoreMeta; have: string; want: string } | null {
  for (const field of STORE_META_FIELDS) {
    const [a, b] = field === 'codec' ? [codecOf(have).id, codecOf(want).id] : [have[field], want[field]];
    if (a !== b) return { field, have: String(a), want: String(b) };
  }
  return null;
}

export function sameStoreMeta(a: StoreMeta, b: StoreMeta): boolean {
  return storeMetaMismatch(a, b) === null;
}

/**
 * Throws an InputError unless a memory of `have` can be read by an engine of `want`; `describe`
 * words the first differing field for the caller's context (resume, restore, open).
 */
export function checkStoreMeta(have: StoreMeta, want: StoreMeta, describe: (field: string, have: string, want: string) => string): void {
  const m = storeMetaMismatch(have, want);
  if (m) throw new InputError(describe(m.field, m.have, m.want));
}

/** The shape fields of a block that the store's meta fixes. */
export type BlockShape = Pick<FrameBlockInfo, 'layers' | 'channels' | 'bits' | 'codec' | 'dtype'>;

/** Whether a block of this shape belongs in a store of `meta` (its K/V encoding and size per token). */
export function blockFitsMeta(block: BlockShape, meta: StoreMeta): boolean {
  return block.layers === meta.layers && block.channels === meta.kvHeads * meta.headDim && block.bits === meta.bits && codecOf(block).id === codecOf(meta).id && block.dtype === meta.dtype;
}

/** The key summary a block of a store of `meta` carries: one float per (layer, KV head, channel). */
export function summaryFloatsOf(meta: Pick<StoreMeta, 'layers' | 'kvHeads' | 'headDim'>): number {
  return meta.layers * meta.kvHeads * meta.headDim;
}
