/** Softmax over rows of `width` values, in f64: exp(x − max) / Σ exp(x − max). */
export function softmaxRef(x: Float32Array, width: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += width) {
    let max = -Infinity;
    for (let i = 0; i < width; i++) max = Math.max(max, x[base + i]);
    let sum = 0;
    for (let i = 0; i < width; i++) sum += Math.exp(x[base + i] - max);
    for (let i = 0; i < width; i++) out[base + i] = Math.exp(x[base + i] - max) / sum;
  }
  return out;
}
