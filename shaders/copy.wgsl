// Word copy of a buffer range, 16 bytes per thread: moving KV blocks between tensors, and the
// benchmark's compute-shader bandwidth ceiling.

struct Params {
  vec4_count: u32,  // whole 16-byte chunks
  src_offset: u32,  // in 16-byte chunks
  dst_offset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<u32>>;

const WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.vec4_count) { return; }
  dst[params.dst_offset + i] = src[params.src_offset + i];
}
