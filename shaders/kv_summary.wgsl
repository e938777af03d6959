// Key summary of a frame block (ReKV's representative key): the mean over T consecutive cache rows
// of each channel, summed in f32 in row order. One invocation per channel; the rows are read with
// consecutive channels in consecutive invocations, so a workgroup reads whole rows.
// Params, bindings and WG: the contract in src/kernels/kv-summary.ts (generated header).

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.channels) { return; }
  var sum = 0.0;
  for (var t = 0u; t < params.tokens; t++) {
    sum += f32(src[(params.row_offset + t) * params.channels + c]);
  }
  dst[params.out_offset + c] = sum / f32(params.tokens);
}
