import { rankByAttention } from '../retriever';
import type { QuestionQueries, Ranking, RetrievalPolicy, RankedStore } from './policy';
import { TokenKeysIndex } from './token-keys-index';

/**
 * The default policy: a frame's score is the log of the attention mass the question's queries at
 * the retrieval layer would put on its tokens (retriever.ts rankByAttention, where the reasons and
 * the measurements are).
 */
class AttentionMassIndex extends TokenKeysIndex {
  rank(question: QuestionQueries, k: number, store: RankedStore): Promise<Ranking> {
    return rankByAttention(this.layerQueries(question), question.tokens, this.keys, store.frames, k);
  }
}

export const ATTENTION_POLICY: RetrievalPolicy = {
  name: 'attention',
  createIndex: (geometry, parallel) => new AttentionMassIndex(geometry, parallel),
};
