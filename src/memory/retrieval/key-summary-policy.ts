import { questionVectors, retrieve } from '../retriever';
import { coarseSliceStarts, coarseVector, type RetrievalShape } from '../retrieval-rows';
import { RowMatrix } from '../simd-dot';
import type { QuestionQueries, RankedStore, Ranking, RetrievalGeometry, RetrievalIndex, RetrievalPolicy, StoredFrame } from './policy';

/**
 * ReKV's ranking: the cosine of the question's mean query and each frame's mean key per (layer, KV
 * head), averaged (retriever.ts retrieve). It reads the store's unit key summaries; its own index
 * is only the first-pass vectors of large stores (coarseVector: every fifth layer from the third),
 * kept in WebAssembly memory so the first pass is SIMD dot products over contiguous rows.
 */
class KeySummaryIndex implements RetrievalIndex {
  private readonly shape: RetrievalShape;
  private readonly coarse: RowMatrix;

  constructor(private readonly geometry: RetrievalGeometry) {
    this.shape = { layers: geometry.layers, kvHeads: geometry.kvHeads, headDim: geometry.headDim };
    this.coarse = new RowMatrix(coarseSliceStarts(this.shape).length * geometry.headDim);
  }

  add(frame: StoredFrame): boolean {
    coarseVector(frame.unitSummary, this.shape, this.coarse.append());
    return true;
  }

  get bytes(): number {
    return this.coarse.length * this.coarse.width * 4;
  }

  /** [frames, coarse width]: the first-pass vectors, in stream order. */
  coarseRows(): RowMatrix {
    return this.coarse;
  }

  async rank(question: QuestionQueries, k: number, store: RankedStore): Promise<Ranking> {
    const g = this.geometry;
    const q = questionVectors(question.queries, { layers: g.layers, tokens: question.tokens, heads: g.heads, kvHeads: g.kvHeads, headDim: g.headDim });
    return retrieve(q, store.unitSummaries(), this.coarse, this.shape, k);
  }
}

export const KEY_SUMMARY_POLICY: RetrievalPolicy = {
  name: 'key-summary',
  createIndex: (geometry) => new KeySummaryIndex(geometry),
};

export { KeySummaryIndex };
