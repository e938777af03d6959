/** Mean over `tokens` rows (from `row`) of each of `channels` columns, summed in f32 in row order (shaders/kv_summary.wgsl). */
export function keySummaryRef(keys: Float32Array, tokens: number, channels: number, row = 0): Float32Array {
  const out = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let t = 0; t < tokens; t++) sum = Math.fround(sum + keys[(row + t) * channels + c]);
    out[c] = Math.fround(sum / tokens);
  }
  return out;
}
