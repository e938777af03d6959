import { InputError } from '../../errors';
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
export function maxSimScores(keys: AttentionKeys, queries: Float32Array, queryTokens: number, frames: ArrayLike<number>): Float32Array {
  const { heads, kvHeads, headDim } = keys.shape;
  const ch = kvHeads * headDim;
  if (queries.length !== queryTokens * heads * headDim) throw new InputError(`maxSimScores: ${queries.length} query values for ${queryTokens} tokens of ${heads}·${headDim}`);
  const group = heads / kvHeads;
  const invSqrt = 1 / Math.sqrt(headDim);
  const out = new Float32Array(frames.length);
  for (let n = 0; n < frames.length; n++) {
    const f = keys.frame(frames[n]);
    let total = 0;
    for (let qt = 0; qt < queryTokens; qt++)
      for (let h = 0; h < heads; h++) {
        const qo = (qt * heads + h) * headDim;
        const g = Math.floor(h / group);
        let max = -Infinity;
        for (let t = 0; t < f.tokens; t++) {
          const ko = t * ch + g * headDim;
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += queries[qo + d] * f.codes[ko + d];
          const x = dot * f.scales[t * kvHeads + g] * invSqrt;
          if (x > max) max = x;
        }
        total += max;
      }
    out[n] = total / (queryTokens * heads);
  }
  return out;
}

class MaxSimIndex extends TokenKeysIndex {
  rank(question: QuestionQueries, k: number, store: RankedStore): Ranking {
    // the attention policy's cost budget and first pass for large stores, this score for the candidates
    return rankByAttention(this.layerQueries(question), question.tokens, this.keys, store.frames, k, undefined, (q, t, pool) => maxSimScores(this.keys, q, t, pool));
  }
}

export const MAX_SIM_POLICY: RetrievalPolicy = {
  name: 'max-sim',
  createIndex: (geometry) => new MaxSimIndex(geometry),
};
