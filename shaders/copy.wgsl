// Word copy of a buffer range, 16 bytes per thread: moving KV blocks between tensors, and the
// benchmark's compute-shader bandwidth ceiling.
// Params, bindings and WG: the contract in src/kernels/copy.ts (generated header).

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.vec4_count) { return; }
  dst[params.dst_offset + i] = src[params.src_offset + i];
}
