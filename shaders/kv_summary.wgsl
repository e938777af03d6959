// Key summary of a frame block (ReKV's representative key): the mean over T consecutive cache rows
// of each channel, summed in f32 in row order. One invocation per channel; the rows are read with
// consecutive channels in consecutive invocations, so a workgroup reads whole rows.

struct Params {
  tokens: u32, // T
  channels: u32, // C = kv_heads · head_dim
  row_offset: u32, // first row of the block in `src`
  out_offset: u32, // first element written in `dst` (this layer's slot)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<act>; // [rows, C]
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

const WG: u32 = 64u;

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
