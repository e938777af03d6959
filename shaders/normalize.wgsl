// Cuts square tiles out of a packed RGB8 image (one u32 per pixel, R | G<<8 | B<<16) and writes
// them channels-first as f32: out[offset + ((t·3 + c)·tile + y)·tile + x] for tile t = r·cols + c
// (row-major, as the SmolVLM processor orders its crops). The byte → float map (rescale, then
// normalize) is a 3×256 table computed on the CPU with numpy's exact float64/float32 steps, so the
// values are bit-identical to transformers' and need no f64 on the GPU.
// Params, bindings and WG: the contract in src/kernels/normalize.ts (generated header).

@compute @workgroup_size(WG)
fn to_planes(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.count) { return; }
  let plane = params.tile * params.tile;
  let t = i / (3u * plane);
  let rem = i % (3u * plane);
  let c = rem / plane;
  let y = (rem % plane) / params.tile;
  let x = rem % params.tile;
  let sy = (t / params.cols) * params.tile + y;
  let sx = (t % params.cols) * params.tile + x;
  let byte = (src[sy * params.src_w + sx] >> (8u * c)) & 255u;
  out[params.out_offset + i] = table[c * 256u + byte];
}
