import type { Thumbnail } from './frame-block';

/**
 * Decoded pixels, interleaved uint8, RGB or RGBA: the shape of model/preprocess.ts's RgbImage,
 * declared here so memory/ does not import model/ (model imports memory's KvCache).
 */
export interface ThumbnailSource {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  /** 3 or 4; inferred from data.length when omitted. */
  channels?: 3 | 4;
}

/**
 * A box-filtered RGB thumbnail whose longest edge is at most `edge` px (never upscaled). Box
 * averaging is enough for a timeline picture and costs one pass over the frame on the host.
 */
export function makeThumbnail(image: ThumbnailSource, edge: number): Thumbnail {
  const channels = image.channels ?? (image.data.length === image.width * image.height * 4 ? 4 : 3);
  const scale = Math.min(1, edge / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor((y * image.height) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * image.height) / height));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor((x * image.width) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * image.width) / width));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0; sx < x1; sx++) {
          const i = (sy * image.width + sx) * channels;
          r += image.data[i];
          g += image.data[i + 1];
          b += image.data[i + 2];
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * width + x) * 3;
      data[o] = Math.round(r / n);
      data[o + 1] = Math.round(g / n);
      data[o + 2] = Math.round(b / n);
    }
  }
  return { width, height, data };
}
