// The page Playwright drives for the whole product path: loads a fixture model folder with
// SmolVlm.load, decodes the case's input PNGs in the page and runs SmolVlm.generate (pixels →
// prompt → vision + connector → merge → prefill → greedy tokens) on this Chromium's WebGPU.
import { StreamVlmError } from '../../../src/errors';
import { GpuDevice } from '../../../src/gpu/device';
import type { RgbImage } from '../../../src/model/preprocess';
import type { SamplingSettings } from '../../../src/model/generate';
import { SmolVlm } from '../../../src/families/smolvlm/smolvlm';
import { UrlSource, type ModelSource } from '../../../src/model/source';
import { decodePng } from './fixture-page';

export interface PipelineCaseResult {
  tokens: number[];
  text: string;
  promptIds: number[];
  promptText: string;
  streamed: number[];
  eos: number[];
  ms: number;
}

export interface ErrorResult {
  name: string;
  code: string;
  message: string;
  file?: string;
}

declare global {
  interface Window {
    pipelineHarness: {
      runCase: (model: string, caseName: string, videoResize?: 'video' | 'image', sampling?: SamplingSettings) => Promise<PipelineCaseResult>;
      loadError: (what: 'missing-folder' | 'bad-model-type') => Promise<ErrorResult | null>;
    };
  }
}

const gpuPromise = GpuDevice.acquire();
const base = (model: string) => `/tools/fixtures/${model}/`;



/** The inputs and question of each case (tools/fixtures/make_fixtures.py). */
const CASES: Record<string, { images?: string[]; video?: true; text: string }> = {
  image: { images: ['gradient'], text: 'Can you describe this image?' },
  image_other: { images: ['tall'], text: 'Can you describe this image?' },
  two_images: { images: ['gradient', 'tall'], text: 'What is different?' },
  video: { video: true, text: 'What happened in this video?' },
};

const models = new Map<string, Promise<SmolVlm>>();
function load(model: string): Promise<SmolVlm> {
  let m = models.get(model);
  if (!m) {
    m = (async () => SmolVlm.load(await gpuPromise, new UrlSource(base(model)), { weightFormat: 'f32' }))();
    models.set(model, m);
  }
  return m;
}

function errorResult(e: unknown): ErrorResult {
  if (!(e instanceof StreamVlmError)) throw e;
  const file = (e as { file?: unknown }).file;
  return { name: e.name, code: e.code, message: e.message, ...(typeof file === 'string' ? { file } : {}) };
}

window.pipelineHarness = {
  async runCase(model, caseName, videoResize = 'video', sampling) {
    const c = CASES[caseName];
    if (!c) throw new Error(`unknown case ${caseName}`);
    const vlm = await load(model);
    const images = c.images ? await Promise.all(c.images.map((f) => decodePng(`${base(model)}inputs/${f}.png`))) : undefined;
    let video: { frames: RgbImage[]; resize: 'video' | 'image' } | undefined;
    if (c.video) {
      // every frameN.png the folder has, in order
      const frames: RgbImage[] = [];
      for (let i = 0; ; i++) {
        const r = await fetch(`${base(model)}inputs/frame${i}.png`, { method: 'HEAD' });
        if (!r.ok) break;
        frames.push(await decodePng(`${base(model)}inputs/frame${i}.png`));
      }
      video = { frames, resize: videoResize };
    }
    const streamed: number[] = [];
    const t0 = performance.now();
    const r = await vlm.generate({ images, video, text: c.text, maxNewTokens: 12, onToken: (id) => streamed.push(id), sampling });
    return { tokens: r.tokens, text: r.text, promptIds: r.prompt.ids, promptText: r.prompt.text, streamed, eos: [...vlm.eosTokenIds], ms: performance.now() - t0 };
  },

  async loadError(what) {
    const gpu = await gpuPromise;
    let source: ModelSource;
    if (what === 'missing-folder') {
      source = new UrlSource('/tools/fixtures/no-such-model/');
    } else {
      // tiny-gqa with config.json's model_type changed: every other file as it is
      const real = new UrlSource(base('tiny-gqa'));
      source = {
        location: real.location,
        async bytes(name) {
          const b = await real.bytes(name);
          if (name !== 'config.json' || !b) return b;
          const raw = JSON.parse(new TextDecoder().decode(b));
          raw.model_type = 'llava';
          return new TextEncoder().encode(JSON.stringify(raw));
        },
      };
    }
    try {
      const vlm = await SmolVlm.load(gpu, source, { weightFormat: 'f32' });
      await vlm.dispose();
      return null;
    } catch (e) {
      return errorResult(e);
    }
  },
};
