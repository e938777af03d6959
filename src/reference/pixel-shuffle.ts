/**
 * Reference of the connector's pixel shuffle, replaying transformers' view/permute/reshape chain
 * step by step (not the closed form the kernel uses), so the check compares two derivations:
 *   x.view(b, h, w, E).view(b, h, w/s, E·s).permute(0,2,1,3).reshape(b, w/s, h/s, E·s²)
 *    .permute(0,2,1,3).reshape(b, seq/s², E·s²)
 */
export function pixelShuffleRef(x: Float32Array, n: number, seq: number, width: number, s: number): Float32Array {
  const h = Math.round(Math.sqrt(seq));
  // [b, h, w/s, E·s] viewed contiguously = x itself
  const a = permute0213(x, n, h, h / s, width * s); // → [b, w/s, h, E·s] = view [b, w/s, h/s, E·s²]
  const b = permute0213(a, n, h / s, h / s, width * s * s); // → [b, h/s, w/s, E·s²]
  return b; // reshape [b, seq/s², E·s²] is contiguous
}

/** Contiguous copy of a [B, D1, D2, D3] array permuted to [B, D2, D1, D3]. */
function permute0213(x: Float32Array, b: number, d1: number, d2: number, d3: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i0 = 0; i0 < b; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        const src = ((i0 * d1 + i1) * d2 + i2) * d3;
        const dst = ((i0 * d2 + i2) * d1 + i1) * d3;
        out.set(x.subarray(src, src + d3), dst);
      }
    }
  }
  return out;
}
