/** An interleaved RGB image (width·height·3 bytes): engine thumbnails, needle clip frames. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Draws an RGB image into `canvas` at its own size (the canvas takes the image's size). */
export function drawRgb(canvas: HTMLCanvasElement, image: RgbImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const rgba = new ImageData(image.width, image.height);
  // thumbnails are ~100 px a side and clip frames 160×120: this loop is sub-millisecond, once per frame
  for (let p = 0, n = image.width * image.height; p < n; p++) {
    rgba.data[p * 4] = image.data[p * 3];
    rgba.data[p * 4 + 1] = image.data[p * 3 + 1];
    rgba.data[p * 4 + 2] = image.data[p * 3 + 2];
    rgba.data[p * 4 + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(rgba, 0, 0);
}
