import { InputError } from '../errors';
import type { AttentionKeys } from './attention-keys';
import type { RowMatrix } from './simd-dot';
import { coarseVector, unitSlices, type RetrievalShape } from './retrieval-rows';

export type { RetrievalShape };

export interface QueryShape {
  layers: number;
  tokens: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

/**
 * The question's retrieval vectors (ReKV §1.2): per layer, the pre-RoPE queries averaged over the
 * question's tokens, and over the query heads that share a KV head (grouped-query attention: those
 * heads attend to the same keys, so their mean is what meets that KV head's keys).
 * `queries` is [layers, tokens, heads·headDim]; the result is [layers, kvHeads, headDim].
 */
export function questionVectors(queries: Float32Array, s: QueryShape): Float32Array {
  const { layers, tokens, heads, kvHeads, headDim } = s;
  if (queries.length < layers * tokens * heads * headDim) throw new InputError(`questionVectors: ${queries.length} values for [${layers}, ${tokens}, ${heads}·${headDim}]`);
  const group = heads / kvHeads;
  const out = new Float32Array(layers * kvHeads * headDim);
  for (let l = 0; l < layers; l++) {
    for (let t = 0; t < tokens; t++) {
      for (let h = 0; h < heads; h++) {
        const src = ((l * tokens + t) * heads + h) * headDim;
        const dst = (l * kvHeads + Math.floor(h / group)) * headDim;
        for (let d = 0; d < headDim; d++) out[dst + d] += queries[src + d];
      }
    }
  }
  const n = tokens * group;
  for (let i = 0; i < out.length; i++) out[i] /= n;
  return out;
}

/**
 * Scores frames for a question: for each frame, the cosine similarity of the question vector and
 * the frame's key summary per (layer, KV head), averaged over all of them.
 *
 * Why cosine and not ReKV's raw dot product: key norms drift over a long stream (later frames are
 * encoded on top of more context), which biases raw dot products toward recent frames (the
 * MemStream follow-up reports this); cosine compares directions only. Why one ranking for all
 * layers rather than ReKV's per-layer sets: the restored frames form one contiguous context whose
 * rows every layer attends to, which keeps restore to one copy per frame and the answer's context
 * the same in every layer. Why all layers: early layers carry the visual content, late layers the
 * question's semantics; averaging is the least tuned choice (no per-model layer selection).
 *
 * `unitSummaries` is [frames, layers·kvHeads·headDim] with unit-length slices
 * (MemoryStore.unitSummaries()), so a frame's score is one dot product with the question's unit
 * slices, divided by the number of slices: O(frames · layers · kvHeads · headDim), contiguous.
 */
export function scoreFrames(question: Float32Array, unitSummaries: Float32Array, frames: number, headDim: number): Float32Array {
  const per = question.length;
  if (unitSummaries.length < frames * per) throw new InputError(`scoreFrames: ${unitSummaries.length} summary values for ${frames} frames of ${per}`);
  const q = unitSlices(question, headDim);
  const slices = per / headDim;
  const scores = new Float32Array(frames);
  for (let f = 0, base = 0; f < frames; f++, base += per) {
    let dot = 0;
    for (let i = 0; i < per; i++) dot += q[i] * unitSummaries[base + i];
    scores[f] = dot / slices;
  }
  return scores;
}

/** Indices of the k best scores (ties: the earlier frame), returned in time (index) order. */
export function topK(scores: Float32Array, k: number): number[] {
  if (!Number.isInteger(k) || k < 0) throw new InputError(`topK: k must be a whole number ≥ 0, got ${k}`);
  const n = scores.length;
  if (k === 0 || n === 0) return [];
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  // the k-th largest value by a native numeric sort, then one pass in index order: every score above
  // it, and as many equal to it (earliest first) as fill k
  const threshold = Float32Array.from(scores).sort()[n - k];
  let above = 0;
  for (let i = 0; i < n; i++) if (scores[i] > threshold) above++;
  let ties = k - above;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (scores[i] > threshold) out.push(i);
    else if (scores[i] === threshold && ties > 0) {
      out.push(i);
      ties--;
    }
  }
  return out;
}

/**
 * The k frames to restore for a question vector, in time order, with their scores (scoreFrames).
 * Scoring every frame on every layer costs layers·kvHeads·headDim multiply-adds per frame (5,760 for
 * 256M: 20 M for an hour at 1 frame/s), which would make the time to the first token grow with the
 * stream. So large stores are ranked in two passes: a coarse score on every fifth layer ranks all
 * frames (from `coarseRows`, the key-summary policy's index, kept as frames arrive), and the best
 * max(8k, 256) of them are rescored on every layer. Both passes are SIMD dot products over the
 * store's rows in WebAssembly memory (simd-dot.ts). Stores up to that size get the full score
 * directly (so small streams are ranked exactly). Returned scores are the full scores of the
 * scored frames (all of them, or the second pass's).
 */
export function retrieve(question: Float32Array, unitSummaries: RowMatrix, coarseRows: RowMatrix, shape: RetrievalShape, k: number): { chosen: number[]; scores: Map<number, number> } {
  const { layers, kvHeads, headDim } = shape;
  const per = layers * kvHeads * headDim;
  const frames = unitSummaries.length;
  if (unitSummaries.width !== per || question.length !== per) throw new InputError(`retrieve: summaries of ${unitSummaries.width} and a question of ${question.length} values for [${layers}, ${kvHeads}, ${headDim}]`);
  if (coarseRows.length !== frames) throw new InputError(`retrieve: ${coarseRows.length} first-pass rows for ${frames} frames`);
  const candidates = Math.max(8 * k, 256);
  const q = unitSlices(question, headDim);
  // the first pass: coarse scores of every frame (their 1/slices scale does not change the order)
  const pool = frames > candidates ? Int32Array.from(topK(coarseRows.dotAll(coarseVector(q, shape)), candidates)) : null;
  const full = unitSummaries.dotRows(q, pool);
  const slices = layers * kvHeads;
  for (let i = 0; i < full.length; i++) full[i] /= slices;
  const frameOf = (i: number) => (pool ? pool[i] : i);
  const chosen = topK(full, k).map(frameOf);
  const scores = new Map<number, number>();
  full.forEach((s, i) => scores.set(frameOf(i), s));
  return { chosen, scores };
}

/**
 * The k stored frames to restore for a question, in time order, with their scores: the frames the
 * question's attention would weigh most. `queries` are the bare question's pre-RoPE queries at the
 * retrieval layer, [tokens, heads·headDim]; a frame's score is the log of the attention mass each
 * question token and head would put on its tokens (AttentionKeys.score), averaged.
 *
 * Why this and not ReKV's cosine of mean query and mean key: a needle (a small star among a
 * frame's tokens) moves a frame's mean key little, while attention follows the best-matching
 * tokens; and the summed exponentials are what the model itself will do with the frame once
 * restored. On the needle model's development streams (bench/needle-retrieval-probe.ts, seeds 5000
 * and 6000 up, 60 to 3600 frames) recall@8 of the needle's frame went from 57 % to 100 %.
 *
 * Cost: tokens·heads·frameTokens·headDim multiply-adds a frame. As many frames as `budget`
 * multiply-adds allow (at least max(8k, 256)) are ranked exactly; larger stores in two passes, so
 * the cost per question stays near-flat as the stream grows: every frame scored with the
 * question's mean query per KV head (kvHeads·frameTokens·headDim a frame), then the best of them,
 * as many as the budget allows, rescored exactly. The first pass is where needles get lost: on the
 * needle model's development streams exact ranking found all of them and a 256-frame first pass
 * lost 1 in 9 at 600 frames (bench/RESULTS.md), hence a budget rather than a fixed 256. The
 * default, 3·10^8: an hour of the needle model (3,600 frames) ranks exactly; SmolVLM2-256M (78
 * tokens, 9 heads of 64) exactly to ~670 frames per 10-token question. At the cap that took ~1.1 s
 * of scalar JavaScript in Chromium on the H100 machine (the 20,000-frame soak); the dot products and
 * the log-sum-exp now run in WebAssembly SIMD over keys kept in its memory (int8-logits.ts,
 * logit-reduce.ts): 10–15× faster than that loop on the same keys, ~60 ms at the cap for the
 * needle model and ~30 ms for 256M on one core of the development machine (bench/ranking-bench.ts).
 */
export const RANK_BUDGET_MACS = 3e8;

/** Scores the listed frames for a question's queries [tokens, heads·headDim] (AttentionKeys.score's contract). */
export type FrameScorer = (queries: Float32Array, tokens: number, frames: Int32Array) => Promise<Float32Array>;

/**
 * `exact` is the score the candidates are ranked by (default: the attention mass); other
 * token-level policies (retrieval/max-sim-policy.ts) pass theirs and keep this cost model and first pass.
 */
export async function rankByAttention(
  queries: Float32Array,
  tokens: number,
  keys: AttentionKeys,
  frames: number,
  k: number,
  budget = RANK_BUDGET_MACS,
  exact: FrameScorer = (q, t, pool) => keys.score(q, t, pool),
): Promise<{ chosen: number[]; scores: Map<number, number> }> {
  const all = Int32Array.from({ length: frames }, (_, i) => i);
  let pool: Int32Array = all;
  const { heads: h, headDim: d } = keys.shape;
  const perFrame = Math.max(1, tokens * h * d * keys.meanTokens);
  const candidates = Math.max(8 * k, 256, Math.floor(budget / perFrame));
  if (frames > candidates) {
    const { heads, kvHeads, headDim } = keys.shape;
    const group = heads / kvHeads;
    // the mean query of each KV head's group, as `heads` rows (one per KV head, repeated) so the same scorer serves
    const mean = new Float32Array(kvHeads * headDim);
    for (let t = 0; t < tokens; t++) for (let h = 0; h < heads; h++) for (let d = 0; d < headDim; d++) mean[Math.floor(h / group) * headDim + d] += queries[(t * heads + h) * headDim + d] / (tokens * group);
    const rows = new Float32Array(heads * headDim);
    for (let h = 0; h < heads; h++) rows.set(mean.subarray(Math.floor(h / group) * headDim, (Math.floor(h / group) + 1) * headDim), h * headDim);
    pool = Int32Array.from(topK(await keys.score(rows, 1, all, group), candidates));
  }
  const scores = await exact(queries, tokens, pool);
  const chosen = topK(scores, k).map((i) => pool[i]);
  const byFrame = new Map<number, number>();
  scores.forEach((s, i) => byFrame.set(pool[i], s));
  return { chosen, scores: byFrame };
}
