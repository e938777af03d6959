// Idefics3/SmolVLM connector pixel shuffle (space-to-depth): [n, seq, E] → [n, seq/s², E·s²] with
// seq = side², as the closed form of the view/permute/reshape chain in modeling_smolvlm.py:
//   out[t, hp·(side/s) + wp, dh·(s·E) + dw·E + e] = x[t, (s·hp + dh)·side + (s·wp + dw), e]
// i.e. each output token is an s×s block of patches in row-major order, each patch's E features
// contiguous. One thread per output element; a pure gather, so exact in either precision.
// Params, bindings and WG: the contract in src/kernels/pixel-shuffle.ts (generated header).

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.count) { return; }
  let s = params.scale;
  let e_width = params.width;
  let side = params.side;
  let out_side = side / s;
  let out_width = e_width * s * s;
  let out_seq = out_side * out_side;
  let ch = i % out_width;
  let token = (i / out_width) % out_seq;
  let tile = i / (out_width * out_seq);
  let hp = token / out_side;
  let wp = token % out_side;
  let dh = ch / (s * e_width);
  let dw = (ch / e_width) % s;
  let e = ch % e_width;
  let src_token = (s * hp + dh) * side + (s * wp + dw);
  out[i] = x[(tile * side * side + src_token) * e_width + e];
}
