import { InputError } from '../errors';
import { Int8Logits, keptFrameBytes, quantizeRowsInt16 } from './int8-logits';
import { scoreKeptFrames, type LogitReduction, type PreparedQuestion } from './kept-frame-scores';
import type { RankingShards } from './ranking-shards';

/** The geometry of the retrieval layer's keys and queries. */
export interface AttentionKeyShape {
  heads: number;
  kvHeads: number;
  headDim: number;
}

/**
 * Every stored frame's pre-RoPE keys at the retrieval layer, per token, for the attention-mass
 * score (retriever.ts): int8 with one scale per (token, KV head), a quarter of f32, kept where the
 * ranking kernels read them (int8-logits.ts, padded to 4 tokens). For SmolVLM2-256M (78 tokens × 3
 * KV heads × 64) that is 16 KB a frame, 56 MB for an hour at 1 frame/s; for the needle model 2 KB.
 * Kept in RAM beside the key summaries, never spilled: ranking reads all. With `shards` the keys
 * live in ranking workers instead (ranking-shards.ts), which score a question's frames in parallel
 * with the same loop, so the scores are the same bits.
 */
export class AttentionKeys {
  private readonly tokensOf: (number | undefined)[] = [];
  private tokenCount = 0;
  private frameCount = 0;
  /** What the keys take where they are kept (Int8Logits' slots, in this thread or spread over the workers). */
  private keptBytes = 0;
  /** The keys in this thread (null while shards keep them). */
  private readonly kernel: Int8Logits | null;

  constructor(
    readonly shape: AttentionKeyShape,
    private readonly shards: RankingShards | null = null,
  ) {
    if (shape.heads % shape.kvHeads !== 0) throw new InputError(`AttentionKeys: ${shape.heads} query heads do not group onto ${shape.kvHeads} KV heads`);
    this.kernel = shards ? null : new Int8Logits(shape.headDim, shape.kvHeads);
  }

  get bytes(): number {
    return this.keptBytes;
  }

  /** Ranking workers scoring in parallel (0: this thread alone). */
  get threads(): number {
    return this.shards && !this.shards.lost ? this.shards.threads : 0;
  }

  /** Why the ranking workers, and the keys they kept, were lost; null while they serve or where there are none. */
  get lost(): string | null {
    return this.shards?.lost ?? null;
  }

  /** Stops the ranking workers, if any (the keys they kept go with them). */
  close(): void {
    this.shards?.close();
  }

  /** Mean tokens of the frames kept (what ranking a frame costs scales with). */
  get meanTokens(): number {
    return this.frameCount === 0 ? 0 : this.tokenCount / this.frameCount;
  }

  has(i: number): boolean {
    return this.tokensOf[i] !== undefined;
  }

  /** Frame i's keys, f32 [tokens, kvHeads·headDim]. */
  set(i: number, keys: Float32Array, tokens: number): void {
    const { kvHeads, headDim } = this.shape;
    const ch = kvHeads * headDim;
    if (!Number.isInteger(tokens) || tokens < 1 || keys.length !== tokens * ch) throw new InputError(`AttentionKeys: ${keys.length} key values for ${tokens} tokens of ${ch} channels`);
    const { codes, scales } = quantizeKeysInt8(keys, tokens, kvHeads, headDim);
    // keys for workers that were lost are dropped: the index starts again from the store before its next ranking
    if (this.shards) {
      if (this.shards.lost === null) this.shards.store(i, codes, scales, tokens);
    } else this.kernel!.storeFrame(i, codes, scales, tokens);
    const old = this.tokensOf[i];
    // as Int8Logits counts: a frame kept again takes its new slot's bytes in place of the old one's
    this.keptBytes += keptFrameBytes(tokens, kvHeads, headDim) - (old === undefined ? 0 : keptFrameBytes(old, kvHeads, headDim));
    this.tokenCount += tokens - (old ?? 0);
    if (old === undefined) this.frameCount++;
    this.tokensOf[i] = tokens;
  }

  /**
   * Each listed frame's attention mass: for every question token and query head, the log of the sum
   * over the frame's tokens of exp(q·k/√d) (log-sum-exp, the frame's share of attention before
   * softmax normalization), averaged. `queries` is [tokens, heads·headDim] at the retrieval layer.
   * `headStride` > 1 scores only every headStride-th query head (a first pass whose rows repeat
   * per KV head group scores each group once).
   */
  score(queries: Float32Array, queryTokens: number, frames: ArrayLike<number>, headStride = 1): Promise<Float32Array> {
    return this.reduceLogits(queries, queryTokens, frames, 'logSumExp', headStride, 'AttentionKeys.score');
  }

  /**
   * The loop every token-level score shares: for each listed frame, question token and (every
   * headStride-th) query head, the logits q·k/√d over the frame's tokens reduced to their
   * log-sum-exp or their max; the frame's score is the mean of those. `label` names the caller in
   * errors. The logits come from int16-quantized queries and the int8 keys (int8-logits.ts), in f32.
   */
  async reduceLogits(queries: Float32Array, queryTokens: number, frames: ArrayLike<number>, reduce: LogitReduction, headStride = 1, label = 'AttentionKeys'): Promise<Float32Array> {
    const question = this.prepare(queries, queryTokens, headStride, label);
    for (let n = 0; n < frames.length; n++) if (!this.has(frames[n])) throw new InputError(`${label}: frame ${frames[n]} has no keys`);
    return this.shards ? this.shards.score(question, frames, reduce) : scoreKeptFrames(this.kernel!, question, frames, reduce);
  }

  /**
   * The scored rows — (question token, every headStride-th head) — gathered by KV group, so each
   * group's rows meet its keys in one run, quantized to int16.
   */
  private prepare(queries: Float32Array, queryTokens: number, headStride: number, label: string): PreparedQuestion {
    const { heads, kvHeads, headDim } = this.shape;
    if (queries.length !== queryTokens * heads * headDim) throw new InputError(`${label}: ${queries.length} query values for ${queryTokens} tokens of ${heads}·${headDim}`);
    const group = heads / kvHeads;
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
    const invSqrt = 1 / Math.sqrt(headDim);
    return { codes: q.codes, rowScales: q.scales.map((s) => s * invSqrt), groupStart, rows: row };
  }
}

/**
 * Keys [tokens, kvHeads·headDim] as AttentionKeys keeps them: int8 codes with one scale per
 * (token, KV head), max |key| / 127, so code · scale ≈ key.
 */
export function quantizeKeysInt8(keys: Float32Array, tokens: number, kvHeads: number, headDim: number): { codes: Int8Array; scales: Float32Array } {
  const ch = kvHeads * headDim;
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
  return { codes, scales };
}
