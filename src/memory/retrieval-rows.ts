// What retrieval keeps of every frame: its key summary as unit-length (layer, KV head) slices, and
// the first-pass vector cut from it. Shared by the store (which keeps them), the block writer (which
// makes summaries unit-length) and the retriever (which scores them).

/** The geometry retrieval works in: key summaries are [layers, kvHeads, headDim]. */
export interface RetrievalShape {
  layers: number;
  kvHeads: number;
  headDim: number;
}

/** Offsets of the (layer, KV head) slices the first pass reads: every fifth layer from the third. */
export function coarseSliceStarts(shape: RetrievalShape): Int32Array {
  const starts: number[] = [];
  for (let l = 2; l < shape.layers; l += 5) for (let h = 0; h < shape.kvHeads; h++) starts.push((l * shape.kvHeads + h) * shape.headDim);
  return Int32Array.from(starts);
}

/**
 * A frame's first-pass vector: the coarse slices of its unit summary, contiguous, so the first pass
 * over an hour of frames is one dot product per frame over adjacent memory. MemoryStore keeps them (retriever.ts reads them).
 */
export function coarseVector(unitSummary: Float32Array, shape: RetrievalShape, out: Float32Array = new Float32Array(coarseSliceStarts(shape).length * shape.headDim)): Float32Array {
  const starts = coarseSliceStarts(shape);
  starts.forEach((o, s) => out.set(unitSummary.subarray(o, o + shape.headDim), s * shape.headDim));
  return out;
}

/**
 * A copy of `v` with each run of `width` values scaled to unit length (zero runs stay zero). Runs
 * already of unit length (to f32 rounding) are copied unchanged, so a stored summary that is saved
 * and reopened comes back bit for bit (and its saved file is kept by the next save).
 */
export function unitSlices(v: Float32Array, width: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let s = 0; s < v.length; s += width) {
    let n = 0;
    for (let d = 0; d < width; d++) n += v[s + d] * v[s + d];
    // already unit length to f32 rounding: left as is, so unit summaries are a fixed point
    const inv = n === 0 ? 0 : Math.abs(n - 1) <= 1e-6 ? 1 : 1 / Math.sqrt(n);
    for (let d = 0; d < width; d++) out[s + d] = v[s + d] * inv;
  }
  return out;
}

