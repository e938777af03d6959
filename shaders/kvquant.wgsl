// KIVI-style asymmetric KV quantization of a block of T tokens × C channels (C = kv_heads·head_dim,
// a multiple of 32), BITS ∈ {8, 4, 2}; group sizes in src/kernels/kvquant-layout.ts (and why):
//   keys:   per channel, KEY_GROUP tokens a group.  codes [fullTokenGroup][channel][KEY_GROUP·BITS/32
//           words], then a partial last group's codes [channel][ceil(valid·BITS/32) words]
//           (key_code_offset); params [tokenGroup][channel].
//   values: per token, VALUE_GROUP channels a group.  codes [token][channelGroup][VALUE_GROUP·BITS/32
//           words], params [token][channelGroup].
// A group's codes of BITS bits fill its words in order; element j of the group sits in word
// j / (32 / BITS) at bit (j % (32 / BITS)) · BITS (unused high bits of a partial group's last word
// are 0). One invocation quantizes one group, so it writes whole words and no two invocations touch
// the same word.
// A param word holds the f16 pair (scale, min): scale in the low half, min in the high half, as
// pack2x16float(vec2(scale, min)) would (works without shader-f16). x ≈ min + code · scale.
//
// Exactness. Quantization uses the f16-rounded min and scale (what dequantization sees), and every
// step is either a correctly rounded f32 operation or exact, so the TypeScript reference reproduces
// the codes bit for bit:
//  * min is rounded DOWN to f16 and scale = (max − min16) · (1/levels) is rounded UP, so the grid
//    min16 + [0, levels]·scale16 covers the group and every element is within scale16/2 of a code
//    (round-to-nearest of min could move it by up to half an f16 ulp of min — many quantization
//    steps for per-channel keys with a large offset). The directed f16 rounding is done on the
//    bits, not with pack2x16float, whose rounding WGSL leaves to the implementation.
//  * code = the nearest integer to d / scale16 (ties up), d = x − min16, found from a rough guess
//    by exact comparisons: k · scale16 and (k + ½) · scale16 have at most 20 significant bits
//    (k ≤ 511, scale16 has 11), so they are exact in f32 and no division rounding leaks in.
//  * 1/levels comes from the host as an f32 (WGSL division is not correctly rounded).
// Params, bindings and QUANT_WG, DEQUANT_WG: the contract in src/kernels/kvquant.ts (generated header).

// BITS, KEY_GROUP and VALUE_GROUP are overrides of the contract (src/kernels/kvquant.ts); these follow from them.
override PER_WORD: u32 = 32u / BITS; // codes per u32 word
override LEVELS: u32 = (1u << BITS) - 1u;
override KEY_GROUP_WORDS: u32 = KEY_GROUP * BITS / 32u;
override VALUE_GROUP_WORDS: u32 = VALUE_GROUP * BITS / 32u;

// Word where key group (tg, c)'s codes start: full token groups first ([tg][c][KEY_GROUP_WORDS]),
// then every channel's partial last group packed tight (its valid tokens' codes only). Same as
// keyCodeOffset in src/kernels/kvquant-layout.ts.
fn key_code_offset(tg: u32, c: u32) -> u32 {
  let full = params.tokens / KEY_GROUP;
  if (tg < full) { return (tg * params.channels + c) * KEY_GROUP_WORDS; }
  return full * params.channels * KEY_GROUP_WORDS + c * (((params.tokens - full * KEY_GROUP) * BITS + 31u) / 32u);
}

// f16 bits of an f32 magnitude (sign bit clear), rounded toward zero or away from zero.
// Finite results only: beyond f16 range it clamps to 65504.
fn f16_magnitude_bits(m: u32, away: bool) -> u32 {
  let e = i32(m >> 23u) - 112; // f16 exponent field: (f32 exponent − 127) + 15
  let mant = m & 0x7fffffu;
  if (e >= 31) { return 0x7bffu; }
  var r: u32;
  var lost: bool;
  if (e <= 0) {
    // f16 subnormal: r = 1.mant · 2^(exp − 127 + 24) = (mant | 2^23) >> (14 − e)
    let shift = u32(14 - e);
    if (shift > 24u) {
      r = 0u;
      lost = m != 0u;
    } else {
      let full = mant | 0x800000u;
      r = full >> shift;
      lost = (full & ((1u << shift) - 1u)) != 0u;
    }
  } else {
    r = (u32(e) << 10u) | (mant >> 13u);
    lost = (mant & 0x1fffu) != 0u;
  }
  if (away && lost) { r += 1u; } // a carry into the exponent field is the right result
  return min(r, 0x7bffu);
}

// Largest f16 ≤ x, as bits.
fn f16_bits_down(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let negative = (b >> 31u) != 0u;
  return select(0u, 0x8000u, negative) | f16_magnitude_bits(b & 0x7fffffffu, negative);
}

// Smallest f16 ≥ x, as bits.
fn f16_bits_up(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let negative = (b >> 31u) != 0u;
  return select(0u, 0x8000u, negative) | f16_magnitude_bits(b & 0x7fffffffu, !negative);
}

// The param word of a group spanning [lo, hi].
fn group_param(lo: f32, hi: f32) -> u32 {
  let min_bits = f16_bits_down(lo);
  let min16 = unpack2x16float(min_bits).x;
  let scale_bits = f16_bits_up((hi - min16) * params.inv_levels);
  return scale_bits | (min_bits << 16u);
}

// Nearest code (ties up) of x on the grid min + k·scale, k ∈ [0, LEVELS]. See the header.
fn quantize_one(x: f32, scale: f32, min16: f32) -> u32 {
  if (scale == 0.0) { return 0u; } // constant group whose value is an f16: x == min16
  let d = x - min16;
  var k = i32(floor(d / scale)); // a guess, possibly one off
  if (d < f32(k) * scale) {
    k -= 1;
  } else if (d >= f32(k + 1) * scale) {
    k += 1;
  }
  // now k = floor(d / scale) exactly
  if (d >= (f32(k) + 0.5) * scale) { k += 1; }
  return u32(clamp(k, 0, i32(LEVELS)));
}

fn dequantize_one(word: u32, j: u32, param: u32) -> f32 {
  let code = (word >> ((j % PER_WORD) * BITS)) & LEVELS;
  let sm = unpack2x16float(param);
  return sm.y + f32(code) * sm.x;
}

// One invocation per (token group, channel).
@compute @workgroup_size(QUANT_WG)
fn quantize_keys(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c_count = params.channels;
  let id = gid.x + gid.y * nwg.x * QUANT_WG;
  let token_groups = (params.tokens + KEY_GROUP - 1u) / KEY_GROUP;
  if (id >= token_groups * c_count) { return; }
  let tg = id / c_count;
  let c = id - tg * c_count;
  let first = tg * KEY_GROUP;
  let valid = min(KEY_GROUP, params.tokens - first);
  let base = (params.row_offset + first) * c_count + c;

  var lo = f32(src[base]);
  var hi = lo;
  for (var j = 1u; j < valid; j++) {
    let v = f32(src[base + j * c_count]);
    lo = min(lo, v);
    hi = max(hi, v);
  }
  let param = group_param(lo, hi);
  params_out[id] = param;
  let sm = unpack2x16float(param);

  // a partial last group writes only the words its valid tokens fill
  let words = (valid * BITS + 31u) / 32u;
  let start = key_code_offset(tg, c);
  for (var w = 0u; w < words; w++) {
    var word = 0u;
    for (var k = 0u; k < PER_WORD; k++) {
      let j = w * PER_WORD + k;
      if (j < valid) {
        word |= quantize_one(f32(src[base + j * c_count]), sm.x, sm.y) << (k * BITS);
      }
    }
    codes_out[start + w] = word;
  }
}

// One invocation per (token, channel group).
@compute @workgroup_size(QUANT_WG)
fn quantize_values(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let groups = params.channels / VALUE_GROUP;
  let id = gid.x + gid.y * nwg.x * QUANT_WG;
  if (id >= params.tokens * groups) { return; }
  let t = id / groups;
  let g = id - t * groups;
  let base = (params.row_offset + t) * params.channels + g * VALUE_GROUP;

  var lo = f32(src[base]);
  var hi = lo;
  for (var j = 1u; j < VALUE_GROUP; j++) {
    let v = f32(src[base + j]);
    lo = min(lo, v);
    hi = max(hi, v);
  }
  let param = group_param(lo, hi);
  params_out[id] = param;
  let sm = unpack2x16float(param);

  for (var w = 0u; w < VALUE_GROUP_WORDS; w++) {
    var word = 0u;
    for (var k = 0u; k < PER_WORD; k++) {
      word |= quantize_one(f32(src[base + w * PER_WORD + k]), sm.x, sm.y) << (k * BITS);
    }
    codes_out[id * VALUE_GROUP_WORDS + w] = word;
  }
}

// One invocation per element of dst's block.
@compute @workgroup_size(DEQUANT_WG)
fn dequantize_keys(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c_count = params.channels;
  let i = gid.x + gid.y * nwg.x * DEQUANT_WG;
  if (i >= params.tokens * c_count) { return; }
  let t = i / c_count;
  let c = i - t * c_count;
  let group = (t / KEY_GROUP) * c_count + c;
  let j = t % KEY_GROUP;
  let word = codes_in[key_code_offset(t / KEY_GROUP, c) + j / PER_WORD];
  dst[params.row_offset * c_count + i] = act(dequantize_one(word, j, params_in[group]));
}

// One invocation per element of dst's block.
@compute @workgroup_size(DEQUANT_WG)
fn dequantize_values(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c_count = params.channels;
  let i = gid.x + gid.y * nwg.x * DEQUANT_WG;
  if (i >= params.tokens * c_count) { return; }
  let t = i / c_count;
  let c = i - t * c_count;
  let group = t * (c_count / VALUE_GROUP) + c / VALUE_GROUP;
  let j = c % VALUE_GROUP;
  let word = codes_in[group * VALUE_GROUP_WORDS + j / PER_WORD];
  dst[params.row_offset * c_count + i] = act(dequantize_one(word, j, params_in[group]));
}
