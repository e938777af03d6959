// Shared by matmul.wgsl and matvec.wgsl (appended after each): output stores and bias reads of a
// linear layer y = x·Wᵀ + b, and the exact code-to-float conversions of the quantized weight
// formats. The bindings (x, w, scales, bias, y, y1, y2) and the uniform fields (bias_kind, the
// output parts) are both kernels' contracts in src/kernels/linear-kernels.ts.
// Y_PARTS2 / Y_PARTS3: the output columns go to two or three tensors (a fused q/k/v or gate/up
// weight): columns [0, part1) to y, [part1, part2) to y1, [part2, n) to y2, each part row-major
// with its own width, from element offset0/1/2 of its tensor (e.g. the next free row of a cache).

// Stores output (row m, column col). Without parts, part1 = n and offset0 = 0: y[m·n + col].
fn store_y(m: u32, col: u32, value: act) {
#if Y_PARTS3
  if (col >= params.part2) {
    y2[params.offset2 + m * (params.n - params.part2) + col - params.part2] = value;
    return;
  }
#endif
#if Y_PARTS3
  if (col >= params.part1) {
    y1[params.offset1 + m * (params.part2 - params.part1) + col - params.part1] = value;
    return;
  }
#elif Y_PARTS2
  if (col >= params.part1) {
    y1[params.offset1 + m * (params.part2 - params.part1) + col - params.part1] = value;
    return;
  }
#endif
  y[params.offset0 + m * params.part1 + col] = value;
}

fn bias_at(i: u32) -> f32 {
  if (params.bias_kind == 1u) { return bitcast<f32>(bias[i]); }
  if (params.bias_kind == 2u) { return f16_from_words(bias[i / 2u], i); }
  return 0.0;
}

// Codes to f32 without int→float conversions (a quarter of the FMA rate on NVIDIA, which made q4
// ALU-bound): OR the unsigned bits into the mantissa of 2^23 and subtract 2^23 plus the offset.
// Exact for these small integers.
const MAGIC: u32 = 0x4B000000u;

// The four int8 codes of a word; flipping each sign bit stores b + 128.
fn q8_codes(word: u32) -> vec4<f32> {
  let biased = (vec4<u32>(word ^ 0x80808080u) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xFFu);
  return bitcast<vec4<f32>>(biased | vec4<u32>(MAGIC)) - 8388736.0;
}

// Four 4-bit codes of a word from bit `shift` on (nibbles hold code + 8).
fn q4_codes(word: u32, shift: u32) -> vec4<f32> {
  let biased = (vec4<u32>(word >> shift) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(0xFu);
  return bitcast<vec4<f32>>(biased | vec4<u32>(MAGIC)) - 8388616.0;
}
