import { InputError } from '../errors';

/** The geometry of the retrieval layer's keys and queries. */
export interface AttentionKeyShape {
  heads: number;
  kvHeads: number;
  headDim: number;
}

/** One frame's keys as AttentionKeys keeps them. */
export interface FrameKeys {
  /** int8 codes [tokens, kvHeads·headDim]. */
  codes: Int8Array;
  /** One scale per (token, KV head): code · scale ≈ key. */
  scales: Float32Array;
  tokens: number;
}

/**
 * Every stored frame's pre-RoPE keys at the retrieval layer, per token, for the attention-mass
 * score (retriever.ts): int8 with one scale per (token, KV head), a quarter of f32. For SmolVLM2-
 * 256M (78 tokens × 3 KV heads × 64) that is 15 KB a frame, 54 MB for an hour at 1 frame/s; for
 * the needle model 1.8 KB. Kept in RAM beside the key summaries, never spilled: ranking reads all.
 */
export class AttentionKeys {
  private readonly frames: (FrameKeys | undefined)[] = [];
  private byteCount = 0;
  private tokenCount = 0;
  private frameCount = 0;

  constructor(readonly shape: AttentionKeyShape) {
    if (shape.heads % shape.kvHeads !== 0) throw new InputError(`AttentionKeys: ${shape.heads} query heads do not group onto ${shape.kvHeads} KV heads`);
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** Mean tokens of the frames kept (what ranking a frame costs scales with). */
  get meanTokens(): number {
    return this.frameCount === 0 ? 0 : this.tokenCount / this.frameCount;
  }

  has(i: number): boolean {
    return this.frames[i] !== undefined;
  }

  /** Frame i's keys, f32 [tokens, kvHeads·headDim]. */
  set(i: number, keys: Float32Array, tokens: number): void {
    const { kvHeads, headDim } = this.shape;
    const ch = kvHeads * headDim;
    if (keys.length !== tokens * ch) throw new InputError(`AttentionKeys: ${keys.length} key values for ${tokens} tokens of ${ch} channels`);
    const codes = new Int8Array(keys.length);
    const scales = new Float32Array(tokens * kvHeads);
    for (let t = 0; t < tokens; t++)
      for (let g = 0; g < kvHeads; g++) {
        const o = t * ch + g * headDim;
        let max = 0;
        for (let d = 0; d < headDim; d++) max = Math.max(max, Math.abs(keys[o + d]));
        const scale = max / 127;
        scales[t * kvHeads + g] = scale;
        const inv = scale > 0 ? 1 / scale : 0;
        for (let d = 0; d < headDim; d++) codes[o + d] = Math.round(keys[o + d] * inv);
      }
    const old = this.frames[i];
    this.byteCount += codes.byteLength + scales.byteLength - (old ? old.codes.byteLength + old.scales.byteLength : 0);
    this.tokenCount += tokens - (old ? old.tokens : 0);
    if (!old) this.frameCount++;
    this.frames[i] = { codes, scales, tokens };
  }

  /**
   * Each listed frame's attention mass: for every question token and query head, the log of the sum
   * over the frame's tokens of exp(q·k/√d) (log-sum-exp, the frame's share of attention before
   * softmax normalization), averaged. `queries` is [tokens, heads·headDim] at the retrieval layer.
   * `headStride` > 1 scores only every headStride-th query head (a first pass whose rows repeat
   * per KV head group scores each group once).
   */
  score(queries: Float32Array, queryTokens: number, frames: ArrayLike<number>, headStride = 1): Float32Array {
    return this.reduceLogits(queries, queryTokens, frames, logSumExp, headStride, 'AttentionKeys.score');
  }

  /**
   * The loop every token-level score shares: for each listed frame, question token and (every
   * headStride-th) query head, the logits q·k/√d over the frame's tokens, handed to `reduce` with
   * their max; the frame's score is the mean of what `reduce` returns. `label` names the caller in
   * errors.
   */
  reduceLogits(queries: Float32Array, queryTokens: number, frames: ArrayLike<number>, reduce: (logits: Float64Array, tokens: number, max: number) => number, headStride = 1, label = 'AttentionKeys'): Float32Array {
    const { heads, kvHeads, headDim } = this.shape;
    const ch = kvHeads * headDim;
    if (queries.length !== queryTokens * heads * headDim) throw new InputError(`${label}: ${queries.length} query values for ${queryTokens} tokens of ${heads}·${headDim}`);
    const group = heads / kvHeads;
    const invSqrt = 1 / Math.sqrt(headDim);
    const out = new Float32Array(frames.length);
    let logits = new Float64Array(0);
    for (let n = 0; n < frames.length; n++) {
      const f = this.frames[frames[n]];
      if (!f) throw new InputError(`${label}: frame ${frames[n]} has no keys`);
      if (logits.length < f.tokens) logits = new Float64Array(f.tokens);
      let total = 0;
      for (let qt = 0; qt < queryTokens; qt++)
        for (let h = 0; h < heads; h += headStride) {
          const qo = (qt * heads + h) * headDim;
          const g = Math.floor(h / group);
          let max = -Infinity;
          for (let t = 0; t < f.tokens; t++) {
            const ko = t * ch + g * headDim;
            let dot = 0;
            for (let d = 0; d < headDim; d++) dot += queries[qo + d] * f.codes[ko + d];
            const x = dot * f.scales[t * kvHeads + g] * invSqrt;
            logits[t] = x;
            if (x > max) max = x;
          }
          total += reduce(logits, f.tokens, max);
        }
      out[n] = total / (queryTokens * Math.ceil(heads / headStride));
    }
    return out;
  }
}

/** log Σ exp(logits[t]) over the first `tokens`, shifted by their max for range. */
function logSumExp(logits: Float64Array, tokens: number, max: number): number {
  let sum = 0;
  for (let t = 0; t < tokens; t++) sum += Math.exp(logits[t] - max);
  return max + Math.log(sum);
}
