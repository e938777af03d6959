// One pass of Pillow's separable LANCZOS resize of an 8-bit RGB image (libImaging/Resample.c,
// ImagingResample{Horizontal,Vertical}_8bpc). Pixels are packed one per u32 (R | G<<8 | B<<16).
// Coefficients come from the CPU (src/kernels/lanczos-coeffs.ts) as fixed-point i32
// with 22 fraction bits, and all arithmetic is integer, so the bytes match Pillow's exactly.
// One thread per output pixel; `horizontal` filters along x (output out_w × out_h = out_w × src_h),
// `vertical` along y (output src_w × out_h).
// Params, bindings and WG, PRECISION_BITS: the contract in src/kernels/resize.ts (generated header).

const HALF: i32 = 1 << (PRECISION_BITS - 1u);

// Pillow's clip8: drop the fraction (arithmetic shift, as C's >> on int) and clamp to a byte.
fn clip8(acc: i32) -> u32 {
  return u32(clamp(acc >> PRECISION_BITS, 0, 255));
}

fn pack(acc: vec3<i32>) -> u32 {
  return clip8(acc.x) | (clip8(acc.y) << 8u) | (clip8(acc.z) << 16u);
}

fn unpack(p: u32) -> vec3<i32> {
  return vec3<i32>(i32(p & 255u), i32((p >> 8u) & 255u), i32((p >> 16u) & 255u));
}

fn pixel_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn horizontal(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = pixel_index(gid, nwg);
  if (i >= params.out_w * params.out_h) { return; }
  let xx = i % params.out_w;
  let y = i / params.out_w;
  let xmin = u32(bounds[2u * xx]);
  let taps = u32(bounds[2u * xx + 1u]);
  let row = y * params.src_w + xmin;
  let k0 = xx * params.ksize;
  var acc = vec3<i32>(HALF);
  for (var x = 0u; x < taps; x++) {
    acc += unpack(src[row + x]) * weights[k0 + x];
  }
  dst[i] = pack(acc);
}

@compute @workgroup_size(WG)
fn vertical(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = pixel_index(gid, nwg);
  // here the source and output share a width: src_w == out_w
  if (i >= params.out_w * params.out_h) { return; }
  let x = i % params.out_w;
  let yy = i / params.out_w;
  let ymin = u32(bounds[2u * yy]);
  let taps = u32(bounds[2u * yy + 1u]);
  let k0 = yy * params.ksize;
  var acc = vec3<i32>(HALF);
  for (var y = 0u; y < taps; y++) {
    acc += unpack(src[(ymin + y) * params.src_w + x]) * weights[k0 + y];
  }
  dst[i] = pack(acc);
}
