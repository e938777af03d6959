/**
 * Writes YUV4MPEG2 4:2:0 (`C420jpeg`), BT.601 limited range: the layout Chromium's fake camera
 * plays (`--use-file-for-fake-video-capture`; it opens only 4:2:0 files and decodes them as
 * limited range) and that `y4m.ts` reads back the same way, so the CLI, the browser and the
 * needle task's training data all see the same pixels. Chroma is the mean of each 2×2 block.
 */

const clamp = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));

export function y4mHeader(width: number, height: number, fps: number): string {
  return `YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`;
}

/** One RGB frame (interleaved, 3 bytes a pixel) as an I420 `FRAME` record. */
export function y4mFrame(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  const tag = 6; // "FRAME\n"
  const out = new Uint8Array(tag + width * height + 2 * cw * ch);
  out.set([0x46, 0x52, 0x41, 0x4d, 0x45, 0x0a]);
  const Y = out.subarray(tag, tag + width * height);
  const U = out.subarray(tag + width * height, tag + width * height + cw * ch);
  const V = out.subarray(tag + width * height + cw * ch);
  const sumU = new Float64Array(cw * ch);
  const sumV = new Float64Array(cw * ch);
  const count = new Uint8Array(cw * ch);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      const [r, g, b] = [rgb[p], rgb[p + 1], rgb[p + 2]];
      const luma = 0.299 * r + 0.587 * g + 0.114 * b;
      Y[y * width + x] = clamp(16 + (luma * 219) / 255);
      const c = (y >> 1) * cw + (x >> 1);
      sumU[c] += 128 + ((b - luma) / 1.772) * (224 / 255);
      sumV[c] += 128 + ((r - luma) / 1.402) * (224 / 255);
      count[c]++;
    }
  }
  for (let c = 0; c < cw * ch; c++) {
    U[c] = clamp(sumU[c] / count[c]);
    V[c] = clamp(sumV[c] / count[c]);
  }
  return out;
}
