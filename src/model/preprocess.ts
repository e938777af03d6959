import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { tilesToPlanes } from '../kernels/normalize';
import { GpuResize, packRgb } from '../kernels/resize';
import { imageLayout, MAX_IMAGE_SIZE, type ImageLayout, type Size } from './image-geometry';
import type { ImageProcessorSettings, VideoProcessorSettings } from './processor-config';

/**
 * SmolVLM image preprocessing on the GPU, as transformers' SmolVLMImageProcessorPil does it
 * (spec §4 steps 1–4): Pillow-exact LANCZOS resizes with uint8 results in between (stage 1 to the
 * longest edge, stage 2 to multiples of the tile), tiles cut row-major plus the global image
 * (stage 2 squashed to tile×tile), then rescale and normalize. The pixel values come out
 * bit-identical to the processor's for opaque images.
 */

/** Decoded pixels, interleaved uint8, RGB or RGBA (alpha is dropped, as convert("RGB") does). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  /** 3 or 4; inferred from data.length when omitted. */
  channels?: 3 | 4;
}

export interface ImageTiles {
  layout: ImageLayout;
  /** Tile grid (0/0 when not split): what the prompt's `<row_r_col_c>` markers need. */
  rows: number;
  cols: number;
  /** Tiles of this image in `pixelValues`, starting at `firstTile`. */
  tiles: number;
  firstTile: number;
}

export interface PreprocessedImages {
  /** f32 [Σ tiles, 3, tile, tile], images in order, each one's tiles then its global image. */
  pixelValues: Tensor;
  images: ImageTiles[];
}

/** The settings preprocessing reads: the image processor's, or a video's mapped onto them. */
export type PreprocessSettings = Pick<
  ImageProcessorSettings,
  'doResize' | 'doImageSplitting' | 'longestEdge' | 'maxImageSize' | 'resample' | 'doRescale' | 'rescaleFactor' | 'doNormalize' | 'imageMean' | 'imageStd'
>;

/**
 * The byte → value map of `rescale` then `normalize`, per channel, exactly as numpy computes it:
 * `float32(float64(u8) · rescale_factor)`, then `(x − mean) / std` in float32 (mean and std cast
 * to float32). f32 + − × ÷ done in float64 and rounded once equal the float32 operations.
 */
export function normalizationTable(s: Pick<PreprocessSettings, 'doRescale' | 'rescaleFactor' | 'doNormalize' | 'imageMean' | 'imageStd'>): Float32Array {
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(s.imageMean[c]);
    const std = Math.fround(s.imageStd[c]);
    for (let v = 0; v < 256; v++) {
      let x = s.doRescale ? Math.fround(v * s.rescaleFactor) : v;
      if (s.doNormalize) x = Math.fround(Math.fround(x - mean) / std);
      table[c * 256 + v] = x;
    }
  }
  return table;
}

function channelsOf(image: RgbImage): 3 | 4 {
  if (image.channels) return image.channels;
  const px = image.width * image.height;
  if (image.data.length === px * 3) return 3;
  if (image.data.length === px * 4) return 4;
  throw new InputError(`image data has ${image.data.length} bytes, not ${image.width}×${image.height}×3 or ×4`);
}

/**
 * Preprocesses images into one pixel-values tensor on the GPU (one submit). `split` overrides
 * the settings' do_image_splitting (video frames and the fixtures' video case are unsplit).
 * The caller owns the returned tensor.
 */
export function preprocessImages(gpu: GpuDevice, images: readonly RgbImage[], settings: PreprocessSettings, options: { split?: boolean } = {}): PreprocessedImages {
  if (settings.resample !== 1) {
    throw new InputError(`resample ${settings.resample} is not supported: only PIL LANCZOS (1), which SmolVLM uses`);
  }
  if (images.length === 0) throw new InputError('no images to preprocess');
  const geometry = { ...settings, doImageSplitting: options.split ?? settings.doImageSplitting };
  const tile = settings.maxImageSize;
  const layouts = images.map((im) => imageLayout({ width: im.width, height: im.height }, geometry));
  const total = layouts.reduce((n, l) => n + l.tiles, 0);
  const pixelValues = Tensor.empty(gpu, [total, 3, tile, tile], 'f32', 'pixel values');
  const table = Tensor.from(gpu, normalizationTable(settings), [3 * 256], 'f32', 'normalization table');
  const temporaries: { destroy(): void }[] = [table];
  const keep = <T extends { destroy(): void }>(x: T): T => (temporaries.push(x), x);
  const rec = new CommandRecorder(gpu, undefined, 'preprocess');
  const resize = (src: Tensor, from: Size, to: Size): Tensor => {
    const out = keep(Tensor.empty(gpu, [to.height, to.width], 'u32', 'resized image'));
    keep(GpuResize.create(gpu, from, to)).record(rec, src, out);
    return out;
  };

  const result: ImageTiles[] = [];
  let next = 0;
  try {
    images.forEach((image, i) => {
      const layout = layouts[i];
      const packed = packRgb(image.data, image.width, image.height, channelsOf(image));
      const input = keep(Tensor.from(gpu, packed, [image.height, image.width], 'u32', 'image'));
      const stage1 = resize(input, layout.input, layout.stage1);
      // unsplit: stage2 is the tile×tile squash; split: multiples of the tile side
      const stage2 = resize(stage1, layout.stage1, layout.stage2);
      const firstTile = next;
      if (layout.rows > 0) {
        tilesToPlanes(rec, stage2, table, pixelValues, { srcWidth: layout.stage2.width, tile, rows: layout.rows, cols: layout.cols, outTile: next });
        next += layout.rows * layout.cols;
        const global = resize(stage2, layout.stage2, { width: tile, height: tile });
        tilesToPlanes(rec, global, table, pixelValues, { srcWidth: tile, tile, rows: 1, cols: 1, outTile: next });
      } else {
        tilesToPlanes(rec, stage2, table, pixelValues, { srcWidth: tile, tile, rows: 1, cols: 1, outTile: next });
      }
      next += 1;
      result.push({ layout, rows: layout.rows, cols: layout.cols, tiles: layout.tiles, firstTile });
    });
    rec.submit();
  } catch (e) {
    pixelValues.destroy();
    throw e;
  } finally {
    // safe right after submit: WebGPU frees the memory once the submitted work is done
    for (const t of temporaries) t.destroy();
  }
  return { pixelValues, images: result };
}

/**
 * Video frames (spec §5): each resized to the video longest edge, then squashed to
 * maxImageSize², never split; one tile per frame.
 */
export function preprocessVideoFrames(gpu: GpuDevice, frames: readonly RgbImage[], video: VideoProcessorSettings): PreprocessedImages {
  const settings: PreprocessSettings = {
    doResize: true,
    doImageSplitting: false,
    longestEdge: Math.min(video.longestEdge, MAX_IMAGE_SIZE),
    maxImageSize: video.maxImageSize,
    resample: video.resample,
    doRescale: true,
    rescaleFactor: video.rescaleFactor,
    doNormalize: true,
    imageMean: video.imageMean,
    imageStd: video.imageStd,
  };
  return preprocessImages(gpu, frames, settings, { split: false });
}
