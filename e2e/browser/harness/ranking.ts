// Ranking workers (src/memory/ranking-shards.ts) in Chromium: the stored frames' keys spread over
// real Web Workers, scored against the same keys kept in the page's thread, and a worker that dies.
import { AttentionKeys, type AttentionKeyShape } from '../../../src/memory/attention-keys';
import type { FrameBlock } from '../../../src/memory/frame-block';
import { payloadLayout } from '../../../src/memory/payload';
import { RankingShards } from '../../../src/memory/ranking-shards';
import { maxSimScores } from '../../../src/memory/retrieval/max-sim-policy';
import { retrievalPolicy } from '../../../src/memory/retrieval/registry';
import { rankByAttention } from '../../../src/memory/retriever';
import { MemoryStore } from '../../../src/memory/store';
import { Random } from '../../../src/reference/random';
import { browserRankingWorkers } from '../../../src/platform/browser/ranking-workers';
import { twoWorkersOneCrashing } from './crashing-worker';

export interface Comparison {
  geometry: string;
  frames: number;
  threads: number;
  simd: boolean | null;
  bytes: [number, number];
  /** Per ranking: same frames chosen, and every scored frame's score the same bits. */
  rankings: Record<string, { sameChosen: boolean; sameScores: boolean; scored: number; chosen: number[] }>;
  maxSimSame: boolean;
}

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((x, i) => Object.is(x, b[i]));

/**
 * `frames` frames of random keys (token counts 20, 17, 1 and 6: none a multiple of the kernels' 4
 * for all) kept in this thread and by `threads` ranking workers; the default ranking exactly and in
 * two passes (a budget of 1), and the max-sim scores of every frame, from both.
 */
async function compare(shape: AttentionKeyShape, frames: number, threads: number): Promise<Comparison> {
  const rng = new Random(31 + shape.headDim);
  const ch = shape.kvHeads * shape.headDim;
  const local = new AttentionKeys(shape);
  const parallel = browserRankingWorkers(threads)!;
  const shards = new RankingShards(parallel.spawn, threads, shape.headDim, shape.kvHeads);
  const shared = new AttentionKeys(shape, shards);
  const tokenCounts = [20, 17, 1, 6];
  for (let f = 0; f < frames; f++) {
    const tokens = tokenCounts[f % tokenCounts.length];
    const keys = rng.normals(tokens * ch);
    local.set(f, keys, tokens);
    shared.set(f, keys, tokens);
  }
  const qTokens = 5;
  const q = rng.normals(qTokens * shape.heads * shape.headDim);
  const rankings: Comparison['rankings'] = {};
  for (const [name, budget] of [['exact', undefined], ['two passes', 1]] as const) {
    const a = await rankByAttention(q, qTokens, local, frames, 8, budget);
    const b = await rankByAttention(q, qTokens, shared, frames, 8, budget);
    const sameScores = a.scores.size === b.scores.size && [...a.scores].every(([f, s]) => Object.is(b.scores.get(f), s));
    rankings[name] = { sameChosen: a.chosen.join() === b.chosen.join(), sameScores, scored: b.scores.size, chosen: b.chosen };
  }
  const all = Int32Array.from({ length: frames }, (_, i) => i);
  const maxSimSame = sameBits(await maxSimScores(local, q, qTokens, all), await maxSimScores(shared, q, qTokens, all));
  const result = { geometry: `${shape.heads}/${shape.kvHeads}×${shape.headDim}`, frames, threads, simd: shards.simd, bytes: [local.bytes, shared.bytes] as [number, number], rankings, maxSimSame };
  shared.close();
  return result;
}

const geometry = { layers: 2, heads: 4, kvHeads: 2, headDim: 32, layer: 1 };
const meta = { modelKey: 'test', layers: geometry.layers, kvHeads: geometry.kvHeads, headDim: geometry.headDim, bits: 'none' as const, dtype: 'f32' as const };

function rawBlocks(count: number): FrameBlock[] {
  const rng = new Random(77);
  const ch = geometry.kvHeads * geometry.headDim;
  const tokens = 9;
  return Array.from({ length: count }, (_, f) => {
    const layout = payloadLayout({ ...meta, tokens, channels: ch, keyGroup: 128 });
    const payload = new Uint8Array(layout.bytes);
    for (let l = 0; l < geometry.layers; l++) payload.set(new Uint8Array(rng.normals(tokens * ch).buffer), layout.layers[l].keys.offset);
    return { index: f, timestampMs: f * 1000, tokens, layers: geometry.layers, channels: ch, bits: 'none', keyGroup: 128, dtype: 'f32', payload, keySummary: rng.normals(geometry.layers * ch), thumbnail: { width: 1, height: 1, data: new Uint8Array(3) } };
  });
}

/**
 * A store whose attention index ranks with two workers, the second of which dies as it starts (its
 * script throws: the browser reports it to the Worker's onerror, as it would a worker's crash). The
 * question asked at once fails with ShardLostError; then, as the engine does, the store's index is
 * asked for again: it starts over in this thread, the store gives it every frame again, and the
 * same question ranks as a store that never had workers.
 */
async function workerDies(): Promise<{ firstError: string; threadsAfter: number; sameChosen: boolean; sameScores: boolean; chosen: number[] }> {
  const parallel = twoWorkersOneCrashing('start');
  const blocks = rawBlocks(60);
  const withWorkers = new MemoryStore(meta, { index: retrievalPolicy('attention').createIndex(geometry, parallel) });
  const plain = new MemoryStore(meta, { index: retrievalPolicy('attention').createIndex(geometry) });
  for (const b of blocks) {
    withWorkers.add(b);
    plain.add(b);
  }
  const rng = new Random(5);
  const question = { queries: rng.normals(geometry.layers * 3 * geometry.heads * geometry.headDim), tokens: 3 };
  let firstError = 'none';
  try {
    await (await withWorkers.retrievalIndex()).rank(question, 4, withWorkers);
  } catch (e) {
    firstError = `${(e as Error).name}: ${(e as Error).message}`;
  }
  const index = await withWorkers.retrievalIndex();
  const got = await index.rank(question, 4, withWorkers);
  const want = await (await plain.retrievalIndex()).rank(question, 4, plain);
  withWorkers.close();
  return {
    firstError,
    threadsAfter: index.threads ?? -1,
    sameChosen: got.chosen.join() === want.chosen.join(),
    sameScores: got.scores.size === want.scores.size && [...want.scores].every(([f, s]) => Object.is(got.scores.get(f), s)),
    chosen: got.chosen,
  };
}

const rankingHarness = { compare, workerDies };
declare global {
  interface Window {
    rankingHarness: typeof rankingHarness;
  }
}
window.rankingHarness = rankingHarness;
