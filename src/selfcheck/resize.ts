import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { GpuResize, packRgb, unpackRgb } from '../kernels/resize';
import { imageLayout } from '../model/image-geometry';
import { normalizationTable, preprocessImages, type PreprocessSettings } from '../model/preprocess';
import { pilResizeLanczos } from '../reference/pil-resize';
import { Random } from '../reference/random';
import type { CheckResult, KernelCheck } from './types';

// The resize kernel is integer-only and the tile kernel a table lookup, so the GPU must match the
// Pillow port exactly: every check demands zero differing bytes / values (precision is moot).

function randomImage(seed: number, width: number, height: number): Uint8Array {
  const r = new Random(seed);
  const out = new Uint8Array(width * height * 3);
  // smooth ramps plus noise and a few saturated blocks, so the negative lobes clip at 0 and 255
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const block = ((x >> 2) + (y >> 2) + c) % 5 === 0 ? 255 : ((x >> 3) + y) % 7 === 0 ? 0 : -1;
        out[(y * width + x) * 3 + c] = block >= 0 ? block : Math.min(255, Math.floor(((x + 2 * y + 40 * c) * 3) % 200 + r.next() * 56));
      }
    }
  }
  return out;
}

function exact(actual: ArrayLike<number>, expected: ArrayLike<number>): CheckResult {
  let maxAbsError = actual.length === expected.length ? 0 : Infinity;
  let diff = 0;
  let first = -1;
  for (let i = 0; i < Math.min(actual.length, expected.length); i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (!(e === 0)) {
      diff++;
      if (first < 0) first = i;
    }
    if (e > maxAbsError || Number.isNaN(e)) maxAbsError = Number.isNaN(e) ? Infinity : e;
  }
  const pass = diff === 0 && actual.length === expected.length;
  return {
    maxAbsError,
    tolerance: 'exact',
    pass,
    detail: pass ? undefined : `${diff}/${expected.length} differ (lengths ${actual.length}/${expected.length}); first at ${first}: got ${actual[first]}, expected ${expected[first]}`,
  };
}

/** [inW, inH, outW, outH]: up, down (factor > 1 widens the support), mixed, one axis, identity. */
const RESIZES: [number, number, number, number][] = [
  [7, 5, 64, 46], // strong upscale, odd sizes
  [75, 50, 13, 9], // strong downscale
  [33, 17, 17, 33], // down in x, up in y
  [40, 30, 40, 61], // vertical pass only
  [41, 30, 100, 30], // horizontal pass only
  [3, 2, 1, 1], // tiny output
  [300, 41, 29, 7], // ~10× down: 61-tap windows
  [23, 19, 23, 19], // identity: a copy
];

function resizeCheck([w, h, ow, oh]: (typeof RESIZES)[number]): KernelCheck {
  return {
    name: `resize lanczos ${w}×${h} → ${ow}×${oh}`,
    family: 'resize',
    async run(gpu) {
      const img = randomImage(w * 31 + h, w, h);
      const src = Tensor.from(gpu, packRgb(img, w, h, 3), [h, w], 'u32');
      const dst = Tensor.empty(gpu, [oh, ow], 'u32');
      const plan = GpuResize.create(gpu, { width: w, height: h }, { width: ow, height: oh });
      const rec = new CommandRecorder(gpu);
      plan.record(rec, src, dst);
      rec.submit();
      const got = unpackRgb(await dst.read());
      plan.destroy();
      src.destroy();
      dst.destroy();
      return exact(got, pilResizeLanczos(img, w, h, ow, oh));
    },
  };
}

/** The processor pipeline in plain TypeScript: the Pillow port plus the numpy table. */
function preprocessRef(img: Uint8Array, width: number, height: number, s: PreprocessSettings): Float32Array {
  const L = imageLayout({ width, height }, s);
  const tile = s.maxImageSize;
  const table = normalizationTable(s);
  const s1 = pilResizeLanczos(img, width, height, L.stage1.width, L.stage1.height);
  const s2 = pilResizeLanczos(s1, L.stage1.width, L.stage1.height, L.stage2.width, L.stage2.height);
  const out = new Float32Array(L.tiles * 3 * tile * tile);
  let o = 0;
  const crop = (src: Uint8Array, srcW: number, x0: number, y0: number) => {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < tile; y++) for (let x = 0; x < tile; x++) out[o++] = table[c * 256 + src[((y0 + y) * srcW + x0 + x) * 3 + c]];
    }
  };
  if (L.rows > 0) {
    for (let r = 0; r < L.rows; r++) for (let c = 0; c < L.cols; c++) crop(s2, L.stage2.width, c * tile, r * tile);
    crop(pilResizeLanczos(s2, L.stage2.width, L.stage2.height, tile, tile), tile, 0, 0);
  } else {
    crop(s2, tile, 0, 0);
  }
  return out;
}

const BASE: PreprocessSettings = {
  doResize: true,
  doImageSplitting: true,
  longestEdge: 96,
  maxImageSize: 32,
  resample: 1,
  doRescale: true,
  rescaleFactor: 1 / 255,
  doNormalize: true,
  imageMean: [0.5, 0.5, 0.5],
  imageStd: [0.5, 0.5, 0.5],
};

/** [w, h, split]: a 3×2 grid, a tall 1×3 one (CLIP mean/std), an unsplit squash (RGBA input). */
const PIPELINES: [number, number, boolean][] = [
  [45, 29, true],
  [20, 57, true],
  [45, 29, false],
];

function pipelineCheck([w, h, split]: (typeof PIPELINES)[number], i: number): KernelCheck {
  const settings: PreprocessSettings = { ...BASE, doImageSplitting: split, ...(i === 1 ? { imageMean: [0.48145466, 0.4578275, 0.40821073], imageStd: [0.26862954, 0.26130258, 0.27577711] } : {}) };
  return {
    name: `preprocess ${w}×${h} ${split ? 'split' : 'unsplit'} → ${settings.maxImageSize}² tiles`,
    family: 'resize',
    async run(gpu) {
      const img = randomImage(7 + i, w, h);
      // one of them as RGBA with random alpha, which must be ignored (PIL's convert("RGB"))
      const rgba = new Uint8Array(w * h * 4);
      for (let p = 0; p < w * h; p++) rgba.set([img[3 * p], img[3 * p + 1], img[3 * p + 2], (p * 37) & 255], 4 * p);
      const data = i === 2 ? rgba : img;
      const { pixelValues } = preprocessImages(gpu, [{ width: w, height: h, data }], settings);
      const got = await pixelValues.readFloat();
      pixelValues.destroy();
      return exact(got, preprocessRef(img, w, h, settings));
    },
  };
}

export const resizeChecks: KernelCheck[] = [...RESIZES.map(resizeCheck), ...PIPELINES.map(pipelineCheck)];
