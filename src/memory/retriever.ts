import { InputError } from '../errors';
import { coarseVector, unitSlices, type RetrievalShape } from './store';

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

/** Scores of `frames` on every (layer, KV head) slice: the second pass of `retrieve`. */
function scorePool(q: Float32Array, unitSummaries: Float32Array, frames: Int32Array, per: number, slices: number): Float32Array {
  const out = new Float32Array(frames.length);
  for (let i = 0; i < frames.length; i++) out[i] = dot(q, unitSummaries, frames[i] * per, per) / slices;
  return out;
}

/** q · rows[base … base+n), four running sums (n is a multiple of 4: headDim slices). */
function dot(q: Float32Array, rows: Float32Array, base: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0, j = base; i < n; i += 4, j += 4) {
    s0 += q[i] * rows[j];
    s1 += q[i + 1] * rows[j + 1];
    s2 += q[i + 2] * rows[j + 2];
    s3 += q[i + 3] * rows[j + 3];
  }
  return s0 + s1 + s2 + s3;
}


/**
 * The k frames to restore for a question vector, in time order, with their scores (scoreFrames).
 * Scoring every frame on every layer costs layers·kvHeads·headDim multiply-adds per frame (5,760 for
 * 256M: ~25–75 ms of host time for an hour at 1 frame/s), which would make the time to the first
 * token grow with the stream. So large stores are ranked in two passes: a coarse score on every
 * fifth layer ranks all frames (from `coarseRows`, [frames, coarse width] contiguous: the store's
 * `coarseSummaries()`, kept as frames arrive so a question does not rebuild them), and the best
 * max(8k, 256) of them are rescored on every layer.
 * Stores up to that size get the full score directly (so small streams are ranked exactly).
 * Returned scores are the full scores of the chosen frames.
 */
export function retrieve(
  question: Float32Array,
  unitSummaries: Float32Array,
  frames: number,
  shape: RetrievalShape,
  k: number,
  coarseRows: Float32Array,
): { chosen: number[]; scores: Map<number, number> } {
  const { layers, kvHeads, headDim } = shape;
  const per = layers * kvHeads * headDim;
  const candidates = Math.max(8 * k, 256);
  let pool = Int32Array.from({ length: frames }, (_, i) => i);
  const q = unitSlices(question, headDim);
  if (frames > candidates) {
    const qCoarse = coarseVector(q, shape);
    const width = qCoarse.length;
    const slices = width / headDim;
    if (coarseRows.length < frames * width) throw new InputError(`retrieve: ${coarseRows.length} first-pass values for ${frames} frames of ${width}`);
    const coarse = new Float32Array(frames);
    for (let f = 0; f < frames; f++) coarse[f] = dot(qCoarse, coarseRows, f * width, width) / slices;
    pool = Int32Array.from(topK(coarse, candidates));
  }
  const full = scorePool(q, unitSummaries, pool, per, layers * kvHeads);
  const chosen = topK(full, k).map((i) => pool[i]);
  const scores = new Map<number, number>();
  pool.forEach((f, n) => scores.set(f, full[n]));
  return { chosen, scores };
}
