import { AttentionKeys } from '../attention-keys';
import { payloadLayerKeys } from '../payload-keys';
import type { QuestionQueries, RankedStore, Ranking, RetrievalGeometry, RetrievalIndex, StoredFrame } from './policy';

/**
 * The index of token-level policies: every frame's pre-RoPE keys at the retrieval layer, per token
 * (AttentionKeys: int8 with a scale per token and KV head), decoded from the payload by its codec
 * so a live store and a reopened saved one rank with the same keys. Subclasses rank.
 */
export abstract class TokenKeysIndex implements RetrievalIndex {
  protected readonly keys: AttentionKeys;

  constructor(protected readonly geometry: RetrievalGeometry) {
    this.keys = new AttentionKeys({ heads: geometry.heads, kvHeads: geometry.kvHeads, headDim: geometry.headDim });
  }

  add(frame: StoredFrame): boolean {
    if (!frame.payload) return false;
    this.keys.set(frame.position, payloadLayerKeys(frame.block, frame.payload, this.geometry.layer), frame.block.tokens);
    return true;
  }

  get bytes(): number {
    return this.keys.bytes;
  }

  /** The question's queries at the retrieval layer, [tokens, heads·headDim]. */
  protected layerQueries(q: QuestionQueries): Float32Array {
    const width = this.geometry.heads * this.geometry.headDim;
    const layer = this.geometry.layer;
    return q.queries.subarray(layer * q.tokens * width, (layer + 1) * q.tokens * width);
  }

  abstract rank(question: QuestionQueries, k: number, store: RankedStore): Ranking;
}
