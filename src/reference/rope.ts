/**
 * RoPE as Hugging Face transformers computes it for Llama without `rope_scaling`
 * (`LlamaRotaryEmbedding` + `apply_rotary_pos_emb`), in f64 except where transformers rounds to f32:
 *
 *   inv_freq[i] = 1 / theta ** (arange(0, D, 2).float() / D)      f32 throughout
 *   angle       = position.float() * inv_freq                      one f32 product
 *   q_embed     = q * cos(angle ++ angle) + rotate_half(q) * sin(angle ++ angle)
 *
 * rotate_half(q) = cat(-q[D/2:], q[:D/2]), so element i pairs with i + D/2.
 */

/** transformers' f32 inverse frequencies: each step of the formula rounded to f32, as torch does. */
export function ropeInvFreqRef(headDim: number, theta: number): Float64Array {
  const out = new Float64Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) {
    const exponent = Math.fround(Math.fround(2 * i) / headDim);
    out[i] = Math.fround(1 / Math.fround(Math.pow(theta, exponent)));
  }
  return out;
}

/** The f32 rotation angle of frequency `i` at `position` (f32(position) × inv_freq[i], rounded to f32). */
export function ropeAngleRef(position: number, invFreq: number): number {
  return Math.fround(Math.fround(position) * invFreq);
}

/** Rotates one head vector `x[offset .. offset + D)` to `position`, writing into `out` at the same offset. */
export function rotateHeadRef(
  x: ArrayLike<number>,
  offset: number,
  headDim: number,
  position: number,
  invFreq: Float64Array,
  out: Float64Array | Float32Array,
): void {
  const half = headDim / 2;
  for (let i = 0; i < half; i++) {
    const angle = ropeAngleRef(position, invFreq[i]);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const a = x[offset + i];
    const b = x[offset + i + half];
    out[offset + i] = a * c - b * s; // q * cos + (-q[i + D/2]) * sin
    out[offset + i + half] = b * c + a * s; // q[i + D/2] * cos + q[i] * sin
  }
}

/** RoPE of `x` laid out [T, H, D], token t rotated to `positions[t]` (every head alike). */
export function applyRopeRef(
  x: ArrayLike<number>,
  tokens: number,
  heads: number,
  headDim: number,
  positions: ArrayLike<number>,
  theta: number,
): Float32Array {
  const invFreq = ropeInvFreqRef(headDim, theta);
  const out = new Float32Array(tokens * heads * headDim);
  for (let t = 0; t < tokens; t++) {
    for (let h = 0; h < heads; h++) rotateHeadRef(x, (t * heads + h) * headDim, headDim, positions[t], invFreq, out);
  }
  return out;
}
