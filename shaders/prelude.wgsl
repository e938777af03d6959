// Shared by every kernel; always first in a module (the `enable` directives must lead).
// `act` is the activation/math type: f16 where the device has shader-f16 and the caller asks for
// it, f32 otherwise. Accumulators and reductions stay f32 in both variants.
// SUBGROUPS: src/kernels/common.ts (SUBGROUP_REDUCTIONS) says when and why it is on.
#if F16
enable f16;
#endif
#if SUBGROUPS
enable subgroups;
#endif
#if F16
alias act = f16;
alias act4 = vec4<f16>;
#else
alias act = f32;
alias act4 = vec4<f32>;
#endif

// Linear workgroup index for dispatches split over x and y (x is capped at 65535 per dimension).
fn linear_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// The f16 at `index` of an array of f16 pairs packed in u32 words (element 2i is the low half).
// Lets f16 weights be read without shader-f16.
fn f16_from_words(word: u32, index: u32) -> f32 {
  let pair = unpack2x16float(word);
  return select(pair.x, pair.y, (index & 1u) == 1u);
}
