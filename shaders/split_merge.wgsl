// Merging attention's key splits: one row's partials, per split D/4 vec4 of acc then
// vec4(m, l, 0, 0), at `base` + split · (d4 + 1). Shared by attention_decode.wgsl's `combine` and
// matvec.wgsl's X_ATTN prologue (which merges while it reads its input), so the two add in one
// order and give the same bits. Needs the `partials` binding of the including kernel.

// A split's weight against the row's maximum `top`; an empty split (l = 0) weighs nothing.
fn split_weight(ml: vec4<f32>, top: f32) -> f32 {
  return select(0.0, exp(ml.x - top), ml.y > 0.0);
}

struct SplitSums {
  sum: f32,        // Σ weight · l
  acc: vec4<f32>,  // Σ weight · acc[lane]
}

// Group g of `groups` sums the splits g, g + groups, g + 2·groups, … of vec4 `lane`: four at a time
// (independent loads in flight hide the latency), then one at a time.
fn split_group_sums(base: u32, d4: u32, splits: u32, groups: u32, g: u32, lane: u32, top: f32) -> SplitSums {
  let stride = d4 + 1u;
  var sum = 0.0;
  var o = vec4<f32>(0.0);
  var c = g;
  for (; c + 3u * groups < splits; c += 4u * groups) {
    let a0 = base + c * stride;
    let a1 = a0 + groups * stride;
    let a2 = a1 + groups * stride;
    let a3 = a2 + groups * stride;
    let w0 = split_weight(partials[a0 + d4], top);
    let w1 = split_weight(partials[a1 + d4], top);
    let w2 = split_weight(partials[a2 + d4], top);
    let w3 = split_weight(partials[a3 + d4], top);
    let x0 = partials[a0 + lane];
    let x1 = partials[a1 + lane];
    let x2 = partials[a2 + lane];
    let x3 = partials[a3 + lane];
    sum += (w0 * partials[a0 + d4].y + w1 * partials[a1 + d4].y) + (w2 * partials[a2 + d4].y + w3 * partials[a3 + d4].y);
    o = fma(vec4<f32>(w0), x0, fma(vec4<f32>(w1), x1, fma(vec4<f32>(w2), x2, fma(vec4<f32>(w3), x3, o))));
  }
  for (; c < splits; c += groups) {
    let at = base + c * stride;
    let ml = partials[at + d4];
    let w = split_weight(ml, top);
    sum += w * ml.y;
    o = fma(vec4<f32>(w), partials[at + lane], o);
  }
  return SplitSums(sum, o);
}

// The merged output from the groups' sums added in group order: acc / sum (0 for a row that saw no key).
fn split_merged(acc: vec4<f32>, sum: f32) -> vec4<f32> {
  return acc * select(0.0, 1.0 / sum, sum > 0.0);
}
