// The page Playwright drives for image preprocessing: decodes the fixture models' input PNGs in
// the page, preprocesses them on this Chromium's WebGPU (Pillow-exact LANCZOS, tiles, normalize)
// and compares with the pixel values transformers' SmolVLMImageProcessorPil wrote.
import { GpuDevice } from '../../../src/gpu/device';
import { parseProcessorConfig } from '../../../src/model/processor-config';
import { preprocessImages } from '../../../src/model/preprocess';
import { decodePng, fetchOk } from './fixture-page';

interface ArrayRef {
  file: string;
  shape: number[];
}
interface Expected {
  cases: Record<string, { pixel_values?: ArrayRef; rows?: unknown; cols?: unknown }>;
}

export interface PreprocessReport {
  shape: number[];
  expectedShape: number[];
  rowsCols: [number, number][];
  /** Elements that differ at all, and the largest difference with where it is. */
  differing: number;
  total: number;
  maxErr: number;
  maxAt: { tile: number; channel: number; y: number; x: number; got: number; expected: number } | null;
  ms: number;
}

declare global {
  interface Window {
    preprocessHarness: {
      cases: (model: string) => Promise<string[]>;
      runCase: (model: string, name: string) => Promise<PreprocessReport>;
    };
  }
}

const gpuPromise = GpuDevice.acquire();
const base = (model: string) => `/tools/fixtures/${model}/`;


/** Which input PNGs each fixture case used (tools/fixtures/make_fixtures.py). */
function inputsOf(name: string, frames: number): string[] {
  switch (name) {
    case 'image':
      return ['gradient'];
    case 'image_other':
      return ['tall'];
    case 'two_images':
      return ['gradient', 'tall'];
    case 'video':
      return Array.from({ length: frames }, (_, i) => `frame${i}`);
    default:
      throw new Error(`unknown case ${name}`);
  }
}

window.preprocessHarness = {
  async cases(model) {
    const expected = (await (await fetchOk(`${base(model)}expected.json`)).json()) as Expected;
    return Object.keys(expected.cases).filter((k) => expected.cases[k].pixel_values);
  },
  async runCase(model, name) {
    const gpu = await gpuPromise;
    const expected = (await (await fetchOk(`${base(model)}expected.json`)).json()) as Expected;
    const ref = expected.cases[name].pixel_values!;
    const settings = parseProcessorConfig({ processorConfig: await (await fetchOk(`${base(model)}processor_config.json`)).text() });
    const images = await Promise.all(inputsOf(name, ref.shape[0]).map((f) => decodePng(`${base(model)}inputs/${f}.png`)));
    const t0 = performance.now();
    // the fixtures' video frames went through the image processor unsplit (make_fixtures.py)
    gpu.device.pushErrorScope('validation');
    const { pixelValues, images: tiles } = preprocessImages(gpu, images, settings.image, name === 'video' ? { split: false } : {});
    const got = await pixelValues.readFloat();
    const err = await gpu.device.popErrorScope();
    if (err) throw new Error(`GPU validation error: ${err.message}`);
    const ms = performance.now() - t0;
    const shape = [...pixelValues.shape];
    pixelValues.destroy();
    const want = new Float32Array(await (await fetchOk(`${base(model)}${ref.file}`)).arrayBuffer());
    let differing = Math.abs(got.length - want.length);
    let maxErr = got.length === want.length ? 0 : Infinity;
    let maxI = -1;
    for (let i = 0; i < Math.min(got.length, want.length); i++) {
      const e = Math.abs(got[i] - want[i]);
      if (e !== 0) differing++;
      if (e > maxErr || Number.isNaN(e)) {
        maxErr = Number.isNaN(e) ? Infinity : e;
        maxI = i;
      }
    }
    const [, , h, w] = ref.shape;
    const maxAt =
      maxI < 0
        ? null
        : { tile: Math.floor(maxI / (3 * h * w)), channel: Math.floor(maxI / (h * w)) % 3, y: Math.floor(maxI / w) % h, x: maxI % w, got: got[maxI], expected: want[maxI] };
    return { shape, expectedShape: ref.shape, rowsCols: tiles.map((t) => [t.rows, t.cols]), differing, total: want.length, maxErr, maxAt, ms };
  },
};
