/**
 * Attention as transformers' `eager_attention_forward` computes it, in f64:
 *   out = softmax(Q Kᵀ · scale + mask) V,  grouped-query: q head h reads kv head h / (Hq / Hkv).
 * Keys arrive before RoPE (as the cache holds them) and are rotated here to their own positions,
 * exactly as `apply_rotary_pos_emb` would have done before caching; Q is already rotated.
 * Layouts: q and out [Tq, Hq, D], k and v [S, Hkv, D] (only the first `keys` rows are used).
 */
import { ropeInvFreqRef, rotateHeadRef } from './rope';

export type MaskRef =
  | { kind: 'bidirectional' }
  /** query i sits at cache index qStart + i and sees keys j ≤ qStart + i */
  | { kind: 'causal'; qStart: number }
  /** causal, and only the first `sinks` keys plus the `window` most recent ones (j > qStart + i − window) */
  | { kind: 'sinks-window'; qStart: number; sinks: number; window: number };

export interface AttentionRefInput {
  q: ArrayLike<number>;
  k: ArrayLike<number>;
  v: ArrayLike<number>;
  tq: number;
  keys: number;
  hq: number;
  hkv: number;
  headDim: number;
  mask: MaskRef;
  /** Default 1/√D. */
  scale?: number;
  /** RoPE for the keys: each key j is rotated to positions[j]. Absent: no RoPE (the vision tower). */
  rope?: { positions: ArrayLike<number>; theta: number };
}

export function maskAllowsRef(mask: MaskRef, query: number, key: number): boolean {
  if (mask.kind === 'bidirectional') return true;
  const at = mask.qStart + query;
  if (key > at) return false;
  if (mask.kind === 'causal') return true;
  return key < mask.sinks || key > at - mask.window;
}

export function attentionRef(input: AttentionRefInput): Float32Array {
  const { q, v, tq, keys, hq, hkv, headDim: d, mask } = input;
  const scale = input.scale ?? 1 / Math.sqrt(d);
  const group = hq / hkv;
  let k: ArrayLike<number> = input.k;
  if (input.rope) {
    const invFreq = ropeInvFreqRef(d, input.rope.theta);
    const rotated = new Float64Array(keys * hkv * d);
    for (let j = 0; j < keys; j++) {
      for (let h = 0; h < hkv; h++) rotateHeadRef(input.k, (j * hkv + h) * d, d, input.rope.positions[j], invFreq, rotated);
    }
    k = rotated;
  }
  const out = new Float32Array(tq * hq * d);
  const scores = new Float64Array(keys);
  for (let t = 0; t < tq; t++) {
    for (let h = 0; h < hq; h++) {
      const kvh = Math.floor(h / group);
      const qBase = (t * hq + h) * d;
      let max = -Infinity;
      for (let j = 0; j < keys; j++) {
        if (!maskAllowsRef(mask, t, j)) {
          scores[j] = -Infinity;
          continue;
        }
        const kBase = (j * hkv + kvh) * d;
        let s = 0;
        for (let c = 0; c < d; c++) s += q[qBase + c] * k[kBase + c];
        scores[j] = s * scale;
        max = Math.max(max, scores[j]);
      }
      // a row that sees no key at all comes out as zeros (the kernels' convention; transformers would give NaN)
      if (max === -Infinity) continue;
      let sum = 0;
      for (let j = 0; j < keys; j++) {
        scores[j] = Math.exp(scores[j] - max);
        sum += scores[j];
      }
      for (let c = 0; c < d; c++) {
        let o = 0;
        for (let j = 0; j < keys; j++) if (scores[j] > 0) o += scores[j] * v[(j * hkv + kvh) * d + c];
        out[qBase + c] = o / sum;
      }
    }
  }
  return out;
}
