// Browser entry of the needle benchmark (bench/needle-browser.ts drives it in headless Chromium):
// the model folder served beside the page, loaded as the SDK's worker loads one (UrlSource,
// f16 weights), warmed up, then one stream at a time through the same runStream as needle-bench.
//
//   needle-page.html?model=/model/&precision=auto|f32|f16&settings=<RunSettings as JSON>
import { GpuDevice } from '../src/gpu/device';
import type { Precision } from '../src/kernels/common';
import { SmolVlm } from '../src/families/smolvlm/smolvlm';
import { UrlSource } from '../src/model/source';
import type { StreamJob } from './needle-plan';
import type { StreamRecord } from './needle-results';
import { runStream, warmUp, type RunSettings } from './needle-run';

/** What the page tells its driver once the model is loaded and warm. */
export interface NeedlePageInfo {
  adapter: string;
  f16: boolean;
  precision: Precision;
  userAgent: string;
  maxPositions: number;
}

declare global {
  interface Window {
    /** Set once ready (or failed): the driver waits for it, then calls run() per stream. */
    needle?: { ready: NeedlePageInfo; run: (job: StreamJob) => Promise<StreamRecord> } | { error: string };
  }
}

const logEl = document.getElementById('log')!;
const log = (line: string) => {
  // the driver prints the page's console; the <pre> is for a human looking at a screenshot
  console.log(line);
  logEl.textContent = `${(logEl.textContent ?? '').split('\n').slice(-40).join('\n')}${line}\n`;
};
const params = new URLSearchParams(location.search);

try {
  const settings = JSON.parse(params.get('settings') ?? 'null') as RunSettings | null;
  if (!settings) throw new Error('needle-page: no ?settings= (RunSettings as JSON)');
  const requested = (params.get('precision') ?? 'auto') as Precision | 'auto';
  const gpu = await GpuDevice.acquire();
  const precision: Precision = requested === 'auto' ? (gpu.features.f16 ? 'f16' : 'f32') : requested;
  if (precision === 'f16' && !gpu.features.f16) throw new Error('--precision f16 needs shader-f16, which this adapter does not offer (use --f16 for the flags that turn it on)');
  const vlm = await SmolVlm.load(gpu, new UrlSource(params.get('model') ?? '/model/'), { weightFormat: 'f16', precision });
  await warmUp(vlm, settings);
  const a = gpu.adapter;
  window.needle = {
    ready: { adapter: `${a.vendor} ${a.architecture} ${a.description}`.trim(), f16: gpu.features.f16, precision: vlm.precision, userAgent: navigator.userAgent, maxPositions: vlm.config.text.maxPositions },
    run: (job) => runStream(vlm, job, settings, log),
  };
} catch (e) {
  window.needle = { error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) };
}
