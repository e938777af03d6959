// Frame blocks for the crash-safe save tests, made the same way in the page and in the worker that
// is terminated mid-save: two streams, A (the save that must survive) and B (the save interrupted).
import type { FrameBlock } from '../../../src/memory/frame-block';
import { framePayloadBytes } from '../../../src/memory/payload';
import { KEY_GROUP_TOKENS } from '../../../src/kernels/kvquant';
import type { StoreMeta } from '../../../src/memory/store';
import { fillSeeded } from './seeded-bytes';

export const META: StoreMeta = { modelKey: 'crash-save:test', layers: 4, kvHeads: 2, headDim: 64, bits: 4, dtype: 'f32' };


function block(index: number, seed: number, tokens: number): FrameBlock {
  const channels = META.kvHeads * META.headDim;
  const payload = fillSeeded(new Uint8Array(framePayloadBytes({ layers: META.layers, tokens, channels, bits: META.bits, keyGroup: KEY_GROUP_TOKENS, dtype: META.dtype })), seed);
  const keySummary = new Float32Array(META.layers * channels).map((_, i) => Math.sin(seed * 7.3 + i));
  const thumbnail = { width: 16, height: 12, data: fillSeeded(new Uint8Array(16 * 12 * 3), seed + 1) };
  return { index, timestampMs: index * 1000, tokens, layers: META.layers, channels, bits: META.bits, keyGroup: KEY_GROUP_TOKENS, dtype: META.dtype, payload, keySummary, thumbnail };
}

/** Stream A: 6 frames. Stream B: 30 larger frames, another stream (other contents), partly the same indices. */
export const streamA = (): FrameBlock[] => Array.from({ length: 6 }, (_, i) => block(i, 100 + i, 40));
export const streamB = (): FrameBlock[] => Array.from({ length: 30 }, (_, i) => block(i, 900 + i, 300));

/** Which stream the blocks are ('A', 'B'), or 'neither' (a mix, or damaged). */
export function whichStream(blocks: FrameBlock[]): 'A' | 'B' | 'neither' {
  for (const [label, ref] of [['A', streamA()], ['B', streamB()]] as const) {
    if (blocks.length === ref.length && blocks.every((b, i) => b.index === ref[i].index && b.payload.length === ref[i].payload.length && b.payload.every((x, j) => x === ref[i].payload[j]))) return label;
  }
  return 'neither';
}
