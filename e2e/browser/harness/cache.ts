// The page Playwright drives for model downloads: SmolVlm.load through CachedUrlSource (or a plain
// UrlSource) with onProgress, the Cache Storage entries it leaves, and generation after a load.
import { StreamVlmError } from '../../../src/errors';
import { GpuDevice } from '../../../src/gpu/device';
import { cachedModelFiles, CachedUrlSource, clearModelCache } from '../../../src/platform/browser/cached-source';
import type { LoadProgress } from '../../../src/model/progress';
import { SmolVlm } from '../../../src/families/smolvlm/smolvlm';
import { UrlSource } from '../../../src/model/source';
import { decodePng } from './fixture-page';

export interface LoadResult {
  events: LoadProgress[];
  /** Greedy tokens for the fixture's "image" case, when asked for. */
  tokens?: number[];
  error?: { name: string; code: string; message: string; file?: string };
  ms: number;
}

export interface LoadRequest {
  model: string;
  /** CachedUrlSource (default) or a plain UrlSource. */
  cached?: boolean;
  generate?: boolean;
  /** Hide Cache Storage from the page for this load, as an insecure context does. */
  withoutCacheStorage?: boolean;
}

declare global {
  interface Window {
    cacheHarness: {
      load: (request: LoadRequest) => Promise<LoadResult>;
      clear: (model?: string) => Promise<number>;
      entries: (model?: string) => Promise<{ url: string; bytes: number | null }[]>;
    };
  }
}

const gpuPromise = GpuDevice.acquire();
const base = (model: string) => `/tools/fixtures/${model}/`;

async function load(request: LoadRequest): Promise<LoadResult> {
  const gpu = await gpuPromise;
  const events: LoadProgress[] = [];
  const t0 = performance.now();
  const hidden = request.withoutCacheStorage ? hideCacheStorage() : null;
  let vlm: SmolVlm | null = null;
  try {
    const source = request.cached === false ? new UrlSource(base(request.model)) : new CachedUrlSource(base(request.model));
    vlm = await SmolVlm.load(gpu, source, { weightFormat: 'f32', onProgress: (e) => events.push(structuredClone(e)) });
    let tokens: number[] | undefined;
    if (request.generate) {
      const image = await decodePng(`${base(request.model)}inputs/gradient.png`);
      tokens = (await vlm.generate({ images: [image], text: 'Can you describe this image?', maxNewTokens: 12 })).tokens;
    }
    return { events, tokens, ms: performance.now() - t0 };
  } catch (e) {
    if (!(e instanceof StreamVlmError)) throw e;
    const file = (e as { file?: unknown }).file;
    return { events, error: { name: e.name, code: e.code, message: e.message, ...(typeof file === 'string' ? { file } : {}) }, ms: performance.now() - t0 };
  } finally {
    hidden?.();
    await vlm?.dispose();
  }
}

/** Replaces window.caches with undefined; returns the undo. (Window's attributes are its own properties.) */
function hideCacheStorage(): () => void {
  const own = Object.getOwnPropertyDescriptor(window, 'caches');
  Object.defineProperty(window, 'caches', { value: undefined, configurable: true, writable: true });
  return () => {
    if (own) Object.defineProperty(window, 'caches', own);
    else delete (window as { caches?: unknown }).caches;
  };
}

window.cacheHarness = {
  load,
  clear: (model) => clearModelCache(model === undefined ? undefined : base(model)),
  entries: (model) => cachedModelFiles(model === undefined ? undefined : base(model)),
};
