import { FRAMES_PER_CALL, type Int8Logits } from './int8-logits';

/** How a frame's logits for one question row become one number: their log-sum-exp, or their max. */
export type LogitReduction = 'logSumExp' | 'max';

/**
 * A question as the ranking kernels take it (AttentionKeys.prepare): int16 query rows gathered so
 * each KV group's rows are one run (group g: rows groupStart[g] … groupStart[g+1]−1), and each row's
 * scale (its int16 step times 1/√headDim). Plain typed arrays, so it crosses to a ranking worker as is.
 */
export interface PreparedQuestion {
  codes: Int16Array;
  rowScales: Float32Array;
  groupStart: Int32Array;
  rows: number;
}

/**
 * Each listed frame's score against a prepared question, from the keys `kernel` keeps: per row, the
 * frame's logit max and Σ exp(logit − max) (Int8Logits.frame), reduced and averaged over the rows.
 * The one loop both the engine's thread and a ranking worker (ranking-shard-worker.ts) run, so a
 * frame scores the same bits wherever its keys are kept.
 */
export function scoreKeptFrames(kernel: Int8Logits, question: PreparedQuestion, frames: ArrayLike<number>, reduce: LogitReduction): Float32Array {
  const { rows, groupStart } = question;
  kernel.setQuestion(question.codes, question.rowScales);
  const out = new Float32Array(frames.length);
  const list = Int32Array.from(frames);
  // frames in batches, each one call into the kernel (Int8Logits.frames)
  for (let first = 0; first < list.length; first += FRAMES_PER_CALL) {
    const batch = list.subarray(first, Math.min(list.length, first + FRAMES_PER_CALL));
    const stats = kernel.frames(batch, groupStart);
    for (let n = 0; n < batch.length; n++) {
      const at = n * rows * 2;
      let total = 0;
      if (reduce === 'max') for (let r = 0; r < rows; r++) total += stats[at + 2 * r];
      else for (let r = 0; r < rows; r++) total += stats[at + 2 * r] + Math.log(stats[at + 2 * r + 1]);
      out[first + n] = total / rows;
    }
  }
  return out;
}
