import { InputError } from '../errors';
import { Int8Logits, quantizeRowsInt16 } from './int8-logits';

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
  private logitsKernel: Int8Logits | null = null;

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
    // the scored rows — (question token, every headStride-th head) — gathered by KV group, so each
    // group's rows meet its keys in one run of integer dot products (int8-logits.ts)
    const rowsPerToken = Math.ceil(heads / headStride);
    const gathered = new Float32Array(queryTokens * rowsPerToken * headDim);
    const groupStart = new Int32Array(kvHeads + 1);
    let row = 0;
    for (let g = 0; g < kvHeads; g++) {
      groupStart[g] = row;
      for (let qt = 0; qt < queryTokens; qt++)
        for (let h = 0; h < heads; h += headStride) {
          if (Math.floor(h / group) !== g) continue;
          gathered.set(queries.subarray((qt * heads + h) * headDim, (qt * heads + h + 1) * headDim), row * headDim);
          row++;
        }
    }
    groupStart[kvHeads] = row;
    const q = quantizeRowsInt16(gathered, headDim);
    const kernel = this.kernel();
    kernel.setQueries(q.codes);
    const out = new Float32Array(frames.length);
    let logits = new Float64Array(0);
    for (let n = 0; n < frames.length; n++) {
      const f = this.frames[frames[n]];
      if (!f) throw new InputError(`${label}: frame ${frames[n]} has no keys`);
      if (logits.length < f.tokens) logits = new Float64Array(f.tokens);
      kernel.loadKeys(f.codes);
      let total = 0;
      for (let g = 0; g < kvHeads; g++) {
        const rows = groupStart[g + 1] - groupStart[g];
        if (rows === 0) continue;
        const dots = kernel.dots(f.tokens, ch, g * headDim, groupStart[g], rows);
        for (let r = 0; r < rows; r++) {
          const rowScale = q.scales[groupStart[g] + r] * invSqrt;
          let max = -Infinity;
          for (let t = 0; t < f.tokens; t++) {
            const x = dots[r * f.tokens + t] * rowScale * f.scales[t * kvHeads + g];
            logits[t] = x;
            if (x > max) max = x;
          }
          total += reduce(logits, f.tokens, max);
        }
      }
      out[n] = total / (queryTokens * rowsPerToken);
    }
    return out;
  }

  /** The integer dot-product kernel for this head size, made on first use. */
  private kernel(): Int8Logits {
    this.logitsKernel ??= new Int8Logits(this.shape.headDim);
    return this.logitsKernel;
  }
}

/** log Σ exp(logits[t]) over the first `tokens`, shifted by their max for range. */
function logSumExp(logits: Float64Array, tokens: number, max: number): number {
  let sum = 0;
  for (let t = 0; t < tokens; t++) sum += Math.exp(logits[t] - max);
  return max + Math.log(sum);
}
