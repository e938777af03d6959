// Cuts images into non-overlapping p×p patches, one patch a row, so SigLIP's Conv2d patch
// embedding (kernel = stride = p, "valid") becomes a matmul with the conv weight viewed as
// [hidden, C·p·p]. Pixels: f32 [n, C, H, W] (channels-first, as the image processor writes them);
// out: act [tiles·(H/p)·(W/p), C·p·p], patches row-major within each tile, each patch's values in
// (c, ky, kx) order: the order of the flattened conv weight. One thread per output element.
// Params, bindings and WG: the contract in src/kernels/patchify.ts (generated header).

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.count) { return; }
  let p = params.patch_size;
  let row_len = params.channels * p * p;
  let grid_w = params.width / p;
  let per_tile = (params.height / p) * grid_w;
  let row = i / row_len;
  let col = i % row_len;
  let tile = params.first_tile + row / per_tile;
  let patch_index = row % per_tile;
  let py = patch_index / grid_w;
  let px = patch_index % grid_w;
  let c = col / (p * p);
  let ky = (col / p) % p;
  let kx = col % p;
  let src = ((tile * params.channels + c) * params.height + py * p + ky) * params.width + px * p + kx;
  out[i] = act(pixels[src]);
}
