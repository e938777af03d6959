// Embedding gather: out[t, :] = table[ids[t] − first_row, :], one invocation per output element.
// The table is f32, or f16 bit patterns read as u32 words (two per word, element 2i in the low
// half) so the same kernel runs without shader-f16; H may be odd, so rows need not start on a
// word boundary and the element index, not the row, picks the word and the half.
// Ids outside [first_row, first_row + vocab) write zeros (zero_missing = 1) or leave the output
// element untouched (zero_missing = 0, for tables split over several bindings).
// Params, bindings and WG: the contract in src/kernels/embedding.ts (generated header).

fn table_value(element: u32) -> f32 {
#if TABLE_F16
  return f16_from_words(table[element >> 1u], element);
#else
  return table[element];
#endif
}

@compute @workgroup_size(WG)
fn embedding(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.tokens * params.width) { return; }
  let t = i / params.width;
  let h = i - t * params.width;
  // wrapping subtraction: ids below first_row become huge and fail the range test too
  let row = ids[t] - params.first_row;
  if (row < params.vocab) {
    out[i] = act(table_value(row * params.width + h));
  } else if (params.zero_missing != 0u) {
    out[i] = act(0.0);
  }
}
