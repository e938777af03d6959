// Helpers for test pages that read the transformers fixtures (tools/fixtures/) over the Vite server.
import type { RgbImage } from '../../../src/model/preprocess';

export async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

/** PNG → RGBA bytes, without colour management or premultiplication (the fixtures are plain sRGB). */
export async function decodePng(url: string): Promise<RgbImage> {
  const bitmap = await createImageBitmap(await (await fetchOk(url)).blob(), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return { width: bitmap.width, height: bitmap.height, data, channels: 4 };
}
