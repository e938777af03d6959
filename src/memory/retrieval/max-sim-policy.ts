import type { AttentionKeys } from '../attention-keys';
import { rankByAttention } from '../retriever';
import type { QuestionQueries, RankedStore, Ranking, RetrievalPolicy } from './policy';
import { TokenKeysIndex } from './token-keys-index';

/**
 * ColBERT-style late interaction: for every question token and query head, the best-matching token
 * of the frame (the max over its tokens of the pre-softmax logit q·k/√d at the retrieval layer),
 * averaged over question tokens and heads. Where the attention mass ('attention') sums exp over a
 * frame's tokens, so many fair matches can outweigh one strong one, this listens only to each query
 * token's best match: a needle (one small object among a frame's tokens) counts as much as in a
 * frame made only of it, and a frame's size does not move its score.
 *
 * `queries` is [queryTokens, heads·headDim]; `frames` lists store positions. Same keys and the same
 * cost per frame as the attention mass (one logit per query token, head and frame token).
 */
export function maxSimScores(keys: AttentionKeys, queries: Float32Array, queryTokens: number, frames: ArrayLike<number>): Promise<Float32Array> {
  return keys.reduceLogits(queries, queryTokens, frames, 'max', 1, 'maxSimScores');
}

class MaxSimIndex extends TokenKeysIndex {
  rank(question: QuestionQueries, k: number, store: RankedStore): Promise<Ranking> {
    // the attention policy's cost budget and first pass for large stores, this score for the candidates
    return rankByAttention(this.layerQueries(question), question.tokens, this.keys, store.frames, k, undefined, (q, t, pool) => maxSimScores(this.keys, q, t, pool));
  }
}

export const MAX_SIM_POLICY: RetrievalPolicy = {
  name: 'max-sim',
  createIndex: (geometry, parallel) => new MaxSimIndex(geometry, parallel),
};
