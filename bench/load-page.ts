// The page bench/load-browser.ts drives: StreamVLM.load of one model folder `runs` times, as a
// user's page would, the first from the network into the browser's Cache Storage and the rest from
// it, each to 'ready' (the model on the GPU and the engine made) and disposed before the next.
// Per load: the total, when the weights began going to the GPU, and whether every file came from
// the cache.
import { clearModelCache, StreamVLM } from '../src/index';

export interface LoadRun {
  run: number;
  /** StreamVLM.load until it resolved, ms. */
  totalMs: number;
  /** Until the first 'upload' event: reading config, tokenizer and the checkpoint's header (the weights stream after it), ms. */
  firstUploadMs: number | null;
  /** Until 'done' (the model on the GPU; the engine is made after it), ms. */
  doneMs: number | null;
  fromCache: boolean;
  weightBytes: number;
}

declare global {
  interface Window {
    loadBench?: { runs: LoadRun[]; adapter: string; precision: string } | { error: string };
  }
}

const params = new URLSearchParams(location.search);
const model = new URL(params.get('model') ?? '/model/', location.href).href;
const runs = Number(params.get('runs') ?? 3);
const precision = (params.get('precision') ?? 'auto') as 'auto' | 'f16' | 'f32';

try {
  await clearModelCache(model);
  const out: LoadRun[] = [];
  let adapter = '';
  let used = '';
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now();
    let firstUploadMs: number | null = null;
    let doneMs: number | null = null;
    let fromCache = false;
    let weightBytes = 0;
    const vlm = await StreamVLM.load(model, {
      precision,
      cache: true,
      persistStorage: false,
      onProgress: (p) => {
        if (p.phase === 'upload') {
          firstUploadMs ??= performance.now() - t0;
          weightBytes = p.overall.loadedBytes;
        }
        if (p.phase === 'done') {
          doneMs = performance.now() - t0;
          fromCache = p.fromCache;
        }
      },
    });
    out.push({ run, totalMs: performance.now() - t0, firstUploadMs, doneMs, fromCache, weightBytes });
    const a = vlm.info.adapter;
    adapter = `${a.vendor} ${a.architecture} ${a.description}`.trim();
    used = vlm.info.precision;
    await vlm.dispose();
    console.log(`load ${run}: ${out[run].totalMs.toFixed(0)} ms (${fromCache ? 'from Cache Storage' : 'from the network'})`);
  }
  window.loadBench = { runs: out, adapter, precision: used };
} catch (e) {
  window.loadBench = { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}
