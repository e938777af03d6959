import { InputError } from '../errors';
import type { Size } from '../image-size';

/**
 * The resize / split arithmetic of SmolVLMImageProcessor (spec §4 steps 1–3), as pure functions on
 * sizes: no pixels here. Python's int() truncation and odd→even bumps are reproduced exactly.
 */
export type { Size } from '../image-size';

/** transformers' MAX_IMAGE_SIZE: no resize target may exceed it. */
export const MAX_IMAGE_SIZE = 4096;

export interface GeometrySettings {
  doResize: boolean;
  doImageSplitting: boolean;
  /** size.longest_edge */
  longestEdge: number;
  /** max_image_size.longest_edge (= tile side) */
  maxImageSize: number;
}

export interface ImageLayout {
  input: Size;
  /** After the longest-edge resize (the input itself when do_resize is false). */
  stage1: Size;
  /** After resize_for_vision_encoder (multiples of the tile side) or the square squash when not split. */
  stage2: Size;
  /** Tile grid; 0/0 when the image is not split. */
  rows: number;
  cols: number;
  /** Images the vision encoder sees: rows·cols tiles + 1 global image, or 1. */
  tiles: number;
}

function checkSize(size: Size): void {
  const ok = (n: number) => Number.isInteger(n) && n > 0;
  if (!ok(size.width) || !ok(size.height)) throw new InputError(`image size must be positive integers, got ${size.width}×${size.height}`);
}

/** `_resize_output_size_rescale_to_max_len` then `_resize_output_size_scale_below_upper_bound(…, 4096)`. */
export function resizeLongestEdge(size: Size, longestEdge: number): Size {
  checkSize(size);
  let { width: w, height: h } = size;
  let ar = w / h;
  if (w >= h) {
    w = longestEdge;
    h = Math.trunc(w / ar);
    if (h % 2 !== 0) h += 1;
  } else {
    h = longestEdge;
    w = Math.trunc(h * ar);
    if (w % 2 !== 0) w += 1;
  }
  h = Math.max(h, 1);
  w = Math.max(w, 1);
  ar = w / h;
  if (w >= h && w > MAX_IMAGE_SIZE) {
    w = MAX_IMAGE_SIZE;
    h = Math.trunc(w / ar);
  } else if (h > w && h > MAX_IMAGE_SIZE) {
    h = MAX_IMAGE_SIZE;
    w = Math.trunc(h * ar);
  }
  return { width: Math.max(w, 1), height: Math.max(h, 1) };
}

/** `resize_for_vision_encoder`: both sides up to multiples of the tile side, aspect from `size`. */
export function resizeForVisionEncoder(size: Size, tile: number): Size {
  checkSize(size);
  let { width: w, height: h } = size;
  const ar = w / h;
  if (w >= h) {
    w = Math.ceil(w / tile) * tile;
    h = Math.trunc(w / ar);
    h = Math.ceil(h / tile) * tile;
  } else {
    h = Math.ceil(h / tile) * tile;
    w = Math.trunc(h * ar);
    w = Math.ceil(w / tile) * tile;
  }
  return { width: w, height: h };
}

/** Where an image of `input` size ends up: stage sizes, tile grid and tile count. */
export function imageLayout(input: Size, s: GeometrySettings): ImageLayout {
  checkSize(input);
  const tile = s.maxImageSize;
  const stage1 = s.doResize ? resizeLongestEdge(input, s.longestEdge) : { ...input };
  if (!s.doImageSplitting) {
    return { input: { ...input }, stage1, stage2: { width: tile, height: tile }, rows: 0, cols: 0, tiles: 1 };
  }
  const stage2 = resizeForVisionEncoder(stage1, tile);
  if (stage2.height > tile || stage2.width > tile) {
    const rows = Math.ceil(stage2.height / tile);
    const cols = Math.ceil(stage2.width / tile);
    return { input: { ...input }, stage1, stage2, rows, cols, tiles: rows * cols + 1 };
  }
  return { input: { ...input }, stage1, stage2, rows: 0, cols: 0, tiles: 1 };
}

/**
 * A video frame: longest-edge resize to `longestEdge`, then squash to maxImageSize² (never split).
 * Returns the intermediate size; the final one is always maxImageSize × maxImageSize.
 */
export function videoFrameStage1(input: Size, longestEdge: number): Size {
  return resizeLongestEdge(input, Math.min(longestEdge, MAX_IMAGE_SIZE));
}

/**
 * Prompt tokens one image takes: `seq + 3` unsplit; split `R·(C·(seq+2) + 1) + seq + 3` when the
 * tokenizer merges "\n\n" into one token (the hub's does), one more when it does not.
 */
export function imageTokenCount(rows: number, cols: number, imageSeqLen: number, doubleNewlineIsOneToken = true): number {
  const single = imageSeqLen + 3;
  if (rows === 0 && cols === 0) return single;
  return rows * (cols * (imageSeqLen + 2) + 1) + single + (doubleNewlineIsOneToken ? 0 : 1);
}
