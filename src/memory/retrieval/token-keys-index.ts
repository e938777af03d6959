import { AttentionKeys, type AttentionKeyShape } from '../attention-keys';
import { payloadLayerKeys } from '../payload-keys';
import type { ParallelRanking } from '../ranking-shard-protocol';
import { RankingShards } from '../ranking-shards';
import type { QuestionQueries, RankedStore, Ranking, RetrievalGeometry, RetrievalIndex, StoredFrame } from './policy';

/**
 * The index of token-level policies: every frame's pre-RoPE keys at the retrieval layer, per token
 * (AttentionKeys: int8 with a scale per token and KV head), decoded from the payload by its codec
 * so a live store and a reopened saved one rank with the same keys. Subclasses rank.
 *
 * With `parallel` the keys are kept by ranking workers that score a question together
 * (ranking-shards.ts); where they cannot start, or once one dies, the keys are kept in the caller's
 * thread instead (restart: the store adds every frame again).
 */
export abstract class TokenKeysIndex implements RetrievalIndex {
  protected keys: AttentionKeys;
  private readonly shape: AttentionKeyShape;

  constructor(
    protected readonly geometry: RetrievalGeometry,
    parallel?: ParallelRanking,
  ) {
    this.shape = { heads: geometry.heads, kvHeads: geometry.kvHeads, headDim: geometry.headDim };
    this.keys = new AttentionKeys(this.shape, startShards(parallel, this.shape));
  }

  add(frame: StoredFrame): boolean {
    if (!frame.payload) return false;
    this.keys.set(frame.position, payloadLayerKeys(frame.block, frame.payload, this.geometry.layer), frame.block.tokens);
    return true;
  }

  get bytes(): number {
    return this.keys.bytes;
  }

  get threads(): number {
    return this.keys.threads;
  }

  restart(): boolean {
    if (this.keys.lost === null) return false;
    this.keys = new AttentionKeys(this.shape);
    return true;
  }

  close(): void {
    this.keys.close();
  }

  /** The question's queries at the retrieval layer, [tokens, heads·headDim]. */
  protected layerQueries(q: QuestionQueries): Float32Array {
    const width = this.geometry.heads * this.geometry.headDim;
    const layer = this.geometry.layer;
    return q.queries.subarray(layer * q.tokens * width, (layer + 1) * q.tokens * width);
  }

  abstract rank(question: QuestionQueries, k: number, store: RankedStore): Promise<Ranking>;
}

/** Ranking workers for these keys, or null (none asked for, or the platform refused to start one). */
function startShards(parallel: ParallelRanking | undefined, shape: AttentionKeyShape): RankingShards | null {
  if (!parallel || parallel.threads < 1) return null;
  try {
    return new RankingShards(parallel.spawn, parallel.threads, shape.headDim, shape.kvHeads);
  } catch {
    // e.g. a Content-Security-Policy without worker-src 'self': rank in the caller's thread
    return null;
  }
}
