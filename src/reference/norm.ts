/** Plain TypeScript references of the row normalisations, in f64 (rows of `width` values). */

/** torch.nn.LayerNorm over the last axis: biased variance, then weight and bias. */
export function layerNormRef(x: Float32Array, width: number, weight: Float32Array, bias: Float32Array, eps: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += width) {
    let mean = 0;
    for (let i = 0; i < width; i++) mean += x[base + i];
    mean /= width;
    let variance = 0;
    for (let i = 0; i < width; i++) variance += (x[base + i] - mean) ** 2;
    variance /= width;
    const rstd = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < width; i++) out[base + i] = (x[base + i] - mean) * rstd * weight[i] + bias[i];
  }
  return out;
}

/** transformers' LlamaRMSNorm: weight · x / sqrt(mean(x²) + eps). */
export function rmsNormRef(x: Float32Array, width: number, weight: Float32Array, eps: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += width) {
    let squares = 0;
    for (let i = 0; i < width; i++) squares += x[base + i] ** 2;
    const inv = 1 / Math.sqrt(squares / width + eps);
    for (let i = 0; i < width; i++) out[base + i] = weight[i] * (x[base + i] * inv);
  }
  return out;
}
