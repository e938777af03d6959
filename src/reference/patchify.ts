/**
 * Reference of the patchify kernel, written as the convolution it stands for: the value of patch
 * (py, px) at conv-weight index (c, ky, kx) is the pixel under that kernel tap.
 * pixels [n, C, H, W] → [n·(H/p)·(W/p), C·p·p].
 */
export function patchifyRef(pixels: Float32Array, n: number, channels: number, height: number, width: number, p: number): Float32Array {
  const gh = height / p;
  const gw = width / p;
  const rowLen = channels * p * p;
  const out = new Float32Array(n * gh * gw * rowLen);
  let o = 0;
  for (let t = 0; t < n; t++) {
    for (let py = 0; py < gh; py++) {
      for (let px = 0; px < gw; px++) {
        for (let c = 0; c < channels; c++) {
          for (let ky = 0; ky < p; ky++) {
            for (let kx = 0; kx < p; kx++) {
              out[o++] = pixels[((t * channels + c) * height + py * p + ky) * width + px * p + kx];
            }
          }
        }
      }
    }
  }
  return out;
}
