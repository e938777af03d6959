import { InputError } from '../errors';

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
 * `summaries` is [frames, layers·kvHeads·headDim] (MemoryStore.summaries()).
 */
export function scoreFrames(question: Float32Array, summaries: Float32Array, frames: number, headDim: number): Float32Array {
  const per = question.length;
  if (summaries.length < frames * per) throw new InputError(`scoreFrames: ${summaries.length} summary values for ${frames} frames of ${per}`);
  const slices = per / headDim;
  const qNorms = new Float32Array(slices);
  for (let s = 0; s < slices; s++) {
    let n = 0;
    for (let d = 0; d < headDim; d++) n += question[s * headDim + d] ** 2;
    qNorms[s] = Math.sqrt(n);
  }
  const scores = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    const base = f * per;
    let total = 0;
    for (let s = 0; s < slices; s++) {
      let dot = 0;
      let kn = 0;
      for (let d = 0; d < headDim; d++) {
        const k = summaries[base + s * headDim + d];
        dot += question[s * headDim + d] * k;
        kn += k * k;
      }
      const denom = qNorms[s] * Math.sqrt(kn);
      total += denom > 0 ? dot / denom : 0;
    }
    scores[f] = total / slices;
  }
  return scores;
}

/** Indices of the k best scores (ties: the earlier frame), returned in time (index) order. */
export function topK(scores: Float32Array, k: number): number[] {
  if (!Number.isInteger(k) || k < 0) throw new InputError(`topK: k must be a whole number ≥ 0, got ${k}`);
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  return order.slice(0, k).sort((a, b) => a - b);
}
