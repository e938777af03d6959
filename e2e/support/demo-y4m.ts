import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';

/**
 * Writes the `.y4m` clips Chromium's fake camera plays in the demo's e2e
 * (`--use-file-for-fake-video-capture=<file.y4m>`). Chromium 156 opens only 4:2:0 files there (a
 * C444 file: getUserMedia fails with "Requested device not found"), and converts its I420 frames
 * to RGB as BT.601 limited range whatever the header says, so each pixel's Y and each 2×2 block's
 * Cb, Cr are chosen to decode as close to the source RGB as that allows: ±1 in flat areas; a block
 * that straddles two colours shares one chroma, so edges change more (the fixture's tokens held).
 */

export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

export function readPng(path: string): RgbaImage {
  const png = PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
}

const clamp255 = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));

/** BT.601 limited range: Y 16–235, Cb/Cr 16–240 around 128. */
export function decodeLimited601(y: number, u: number, v: number): [number, number, number] {
  const c = 255 / 219;
  const d = 255 / 224;
  const Y = (y - 16) * c;
  const U = (u - 128) * d;
  const V = (v - 128) * d;
  return [clamp255(Y + 1.402 * V), clamp255(Y - 0.344136 * U - 0.714136 * V), clamp255(Y + 1.772 * U)];
}

function encodeLimited601(r: number, g: number, b: number): [number, number, number] {
  const y = 0.299 * r + 0.587 * g + 0.114 * b;
  return [16 + (y * 219) / 255, 128 + ((b - y) / 1.772) * (224 / 255), 128 + ((r - y) / 1.402) * (224 / 255)];
}

/** The worst channel error over the pixels `ps` (indices into rgba) when decoded with (y[p], u, v). */
function blockError(img: RgbaImage, ps: number[], ys: number[], u: number, v: number): number {
  let worst = 0;
  ps.forEach((p, i) => {
    const rgb = decodeLimited601(ys[i], u, v);
    for (let ch = 0; ch < 3; ch++) worst = Math.max(worst, Math.abs(rgb[ch] - img.rgba[p * 4 + ch]));
  });
  return worst;
}

/**
 * One frame as I420 planes. Per 2×2 block: Cb, Cr searched around the mean of the exact inverse,
 * each pixel's Y searched for that chroma, keeping the choice with the smallest worst error.
 */
function i420Planes(img: RgbaImage): Uint8Array {
  const { width: W, height: H } = img;
  const planes = new Uint8Array(W * H + 2 * (W / 2) * (H / 2));
  const cw = W / 2;
  for (let by = 0; by < H / 2; by++) {
    for (let bx = 0; bx < cw; bx++) {
      const ps = [0, 1, W, W + 1].map((o) => (2 * by) * W + 2 * bx + o);
      const exact = ps.map((p) => encodeLimited601(img.rgba[p * 4], img.rgba[p * 4 + 1], img.rgba[p * 4 + 2]));
      const u0 = exact.reduce((s, e) => s + e[1], 0) / 4;
      const v0 = exact.reduce((s, e) => s + e[2], 0) / 4;
      let best = { err: Infinity, u: 128, v: 128, ys: [0, 0, 0, 0] };
      for (let du = -2; du <= 2; du++) {
        for (let dv = -2; dv <= 2; dv++) {
          const u = clamp255(u0 + du);
          const v = clamp255(v0 + dv);
          // the best Y for each pixel given this chroma
          const ys = ps.map((p, i) => {
            let pick = 0;
            let err = Infinity;
            for (let dy = -2; dy <= 2; dy++) {
              const y = clamp255(exact[i][0] + dy);
              const e = blockError(img, [p], [y], u, v);
              if (e < err) [err, pick] = [e, y];
            }
            return pick;
          });
          const err = blockError(img, ps, ys, u, v);
          if (err < best.err) best = { err, u, v, ys };
        }
      }
      ps.forEach((p, i) => (planes[p] = best.ys[i]));
      planes[W * H + by * cw + bx] = best.u;
      planes[W * H + (W / 2) * (H / 2) + by * cw + bx] = best.v;
    }
  }
  return planes;
}

/** `frames` (even width and height) as a 4:2:0 YUV4MPEG2 clip at `fps`. */
export function writeY4m420(frames: RgbaImage[], fps: number): Buffer {
  const { width: W, height: H } = frames[0];
  if (W % 2 || H % 2) throw new Error(`writeY4m420: ${W}×${H} must be even`);
  const parts: Uint8Array[] = [Buffer.from(`YUV4MPEG2 W${W} H${H} F${fps}:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED\n`, 'latin1')];
  for (const f of frames) parts.push(Buffer.from('FRAME\n', 'latin1'), i420Planes(f));
  return Buffer.concat(parts);
}

