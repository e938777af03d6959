// The soak (issue 14): a long needle stream through the public SDK in headless Chromium
// (bench/soak-page.ts), sampled every few seconds for what must stay flat once the window is full.
//
//   npx vite build -c vite.gpu-browser.config.ts && npm run build:node     (here; then on the GPU machine:)
//   node bench/soak.mjs [--frames 20000] [--ask-every 500] [--out soak-out] [--sample-seconds 5]
//     [--seed 7000] [--model tools/fixtures/needle-vlm] [--precision auto|f32|f16] [--f16]
//     [--memory-ram-mb 1024] [--ranking-threads auto|N] [--max-seconds S]
//
// Writes <out>/soak.json (rewritten at every sample: a run cut short keeps its samples) and, at the
// end, <out>/soak.png (one panel per metric over frames ingested). Each sample: frames pushed and
// ingested, ingest rate since the last sample, frames dropped / failed / not taken, the engine's
// GPU tensor bytes and buffer count (stats().engine), GPU memory from nvidia-smi (the browser's
// processes' own, and the card's), the page's JS heap (CDP Performance.getMetrics), the RSS of
// every Chromium process by type, the memory store's bytes, and the errors. The summary gives each
// metric's drift, in %, from the steady state (window full, first question answered) to the end
// (medians of the first and last tenth of the samples taken between questions), against the aim of ≤ 5 %.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { numberOption, option, parseArgs, checkKnownOptions, type ParsedArgs } from '../src/cli/args';
import { checkPagesBuilt, commandLine, descendantPids, launchChromium, nvidiaMemory, pagesDir, repoRoot, rssBytes } from './chromium-launch';
import { failer } from './needle-session';
import { TRAINING_SEEDS_FROM } from './needle-plan';
import { staticServer } from '../e2e/support/static-server';
import type { SoakAnswer, SoakInfo, SoakProgress } from './soak-page';
import { curvesPng, type Panel } from './soak-plot';

const COMMAND = 'soak';
const fail: (message: string) => never = failer(COMMAND);
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const log = (line: string) => console.error(`[soak ${elapsed().toFixed(1)}s] ${line}`);

let args: ParsedArgs;
try {
  args = parseArgs(process.argv.slice(2), ['f16', 'gc']);
  checkKnownOptions(args, COMMAND, ['frames', 'ask-every', 'out', 'sample-seconds', 'seed', 'model', 'precision', 'memory-ram-mb', 'ranking-threads', 'max-seconds']);
} catch (e) {
  fail((e as Error).message);
}
const num = (name: string, fallback: number, rule: { min?: number; above?: number; integer?: boolean }) => {
  try {
    return numberOption(args, name, rule) ?? fallback;
  } catch (e) {
    return fail((e as Error).message);
  }
};
const frames = num('frames', 20_000, { min: 1 });
const askEvery = num('ask-every', 500, { min: 0 });
const sampleSeconds = num('sample-seconds', 5, { above: 0, integer: false });
const seed = num('seed', 7000, { min: 0 });
const memoryRamMB = num('memory-ram-mb', 1024, { min: 0, integer: false });
// the SDK's rankingThreads: 'auto' (its default) or a count, 0 for ranking in the engine's worker
const rankingThreads = option(args, 'ranking-threads') ?? 'auto';
const maxSeconds = option(args, 'max-seconds') === undefined ? null : num('max-seconds', 0, { above: 0, integer: false });
// the benchmark's seeds are firstSeed (1000) + j, the training set's ≥ 1,000,000
if ((seed >= 1000 && seed < 2000) || seed + Math.ceil(frames / 5000) > TRAINING_SEEDS_FROM) fail(`--seed ${seed}: pick one outside the benchmark's 1000–1999 and below ${TRAINING_SEEDS_FROM}`);
const precision = option(args, 'precision') ?? 'auto';
if (!['auto', 'f32', 'f16'].includes(precision)) fail(`--precision must be auto, f32 or f16, not ${precision}`);
const f16 = args.flags.has('f16');
// --gc: a full garbage collection in the page and every worker before each sample, so the memory
// figures are what is alive. Without it they also hold garbage V8 has not collected yet: a
// worker that allocates little may run no major GC for many minutes, and ArrayBuffers promoted
// to its old generation keep their memory until one runs.
const forceGc = args.flags.has('gc');
const outDir = resolve(option(args, 'out') ?? 'soak-out');
const model = option(args, 'model') ?? 'tools/fixtures/needle-vlm';
const modelDir = resolve(repoRoot, model);
if (!existsSync(join(modelDir, 'config.json'))) fail(`--model ${model}: no config.json in ${modelDir}`);
try {
  checkPagesBuilt('soak-page.html');
} catch (e) {
  fail((e as Error).message);
}
mkdirSync(outDir, { recursive: true });

interface Sample {
  /** Seconds since the driver started. */
  t: number;
  framesPushed: number;
  framesIngested: number;
  /** Frames ingested per second since the previous sample. */
  ingestFps: number | null;
  /** A question was asked or answered since the previous sample (the feed waits for answers: the rate then is not the ingest rate). */
  askedSince: boolean;
  queueDepth: number;
  droppedQueueFull: number;
  failed: number;
  rejected: number;
  notTaken: number;
  framesLostToDeviceLoss: number;
  engineGpuBytes: number | null;
  engineGpuBuffers: number | null;
  storeFrames: number | null;
  storeBytes: number | null;
  storeSideBytes: number | null;
  /** Ranking worker threads in use (stats().engine.rankingThreads). */
  rankingThreads: number | null;
  /** nvidia-smi: memory of the compute apps that are this driver's Chromium processes (null: no nvidia-smi or none listed). */
  gpuProcessMiB: number | null;
  /** nvidia-smi: memory used on the card (null: no nvidia-smi). */
  gpuCardMiB: number | null;
  pageJsHeapBytes: number | null;
  /** RSS of every Chromium process, and by process type. */
  rssBytes: number;
  rssByType: Record<string, number>;
  /**
   * RSS less what the memory store holds by design (its K/V grow with the stream) and less
   * Chromium's own services that no page started (NOT_THE_PAGES).
   */
  rssLessStoreBytes: number;
  errors: number;
}

/** Process types (processType) serving Chromium itself, not the page: left out of rssLessStoreBytes. */
const NOT_THE_PAGES = /^utility OnDeviceModelService$/;

function processType(pid: number): string {
  const cmd = commandLine(pid);
  const type = /--type=([\w-]+)/.exec(cmd)?.[1];
  // utility processes by what they serve (network, storage, audio…): one of them grew ~90 MB at
  // once in a SwiftShader soak, and the sub-type says which
  const service = type === 'utility' ? /--utility-sub-type=([\w.-]+)/.exec(cmd)?.[1] : undefined;
  if (service) return `utility ${service.replace(/\.mojom\./, ' ').split(' ').pop()}`;
  if (type) return type;
  return /chrom/i.test(cmd) ? 'browser' : 'other';
}

const server = await staticServer({ '/': `${pagesDir}/`, '/model/': `${modelDir}/` });
const browser = await launchChromium(f16, forceGc ? ['--js-flags=--expose-gc'] : []);
const page = await browser.newPage();
page.on('console', (m) => {
  const text = m.text();
  // the loader asks for optional files; their 404s are not errors
  if (!/Failed to load resource/.test(text)) log(`page: ${text}`);
});
page.on('pageerror', (e) => log(`page exception: ${e.message}`));
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
const query = new URLSearchParams({ model: '/model/', frames: String(frames), askEvery: String(askEvery), seed: String(seed), precision, memoryRamMB: String(memoryRamMB), rankingThreads });
await page.goto(`${server.url}/bench/soak-page.html?${query}`);
await page.waitForFunction(() => window.soak !== undefined, null, { timeout: 0, polling: 250 });
const state = await page.evaluate(() => {
  const s = window.soak!;
  return 'error' in s ? { error: s.error } : { info: s.ready };
});
if ('error' in state) {
  log(`the page could not start: ${state.error}`);
  await browser.close();
  await server.close();
  process.exit(1);
}
const info: SoakInfo = state.info;
const host = { chromium: browser.version(), adapter: info.adapter, precision: info.precision, f16Args: f16, gpuArgs: process.env.CHROMIUM_GPU_ARGS ? 'CHROMIUM_GPU_ARGS' : 'none (SwiftShader)', node: process.version };
log(`${host.chromium}: ${info.adapter}, ${info.precision} math; ${frames} frames, a question every ${askEvery}, a sample every ${sampleSeconds} s → ${outDir}`);

const samples: Sample[] = [];
const answers: SoakAnswer[] = [];
let errors: string[] = [];
let driverError: string | null = null;
let finished = false;
let prevAsked = 0;

async function collectGarbage(): Promise<void> {
  const gc = () => (globalThis as { gc?: () => void }).gc?.();
  await page.evaluate(gc);
  // a worker may end meanwhile (a ranking worker that crashed): its memory went with it
  for (const worker of page.workers()) await worker.evaluate(gc).catch(() => undefined);
}

async function sample(): Promise<SoakProgress> {
  if (forceGc) await collectGarbage();
  const p = await page.evaluate((from) => {
    const s = window.soak!;
    if ('error' in s) throw new Error(s.error);
    return s.progress(from);
  }, answers.length);
  answers.push(...p.answers);
  errors = p.errors;
  const metrics = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  const heap = metrics.metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? null;
  const pids = descendantPids();
  const rssByType: Record<string, number> = {};
  for (const pid of pids) {
    const type = processType(pid);
    rssByType[type] = (rssByType[type] ?? 0) + rssBytes(pid);
  }
  const rss = Object.values(rssByType).reduce((a, b) => a + b, 0);
  // Chromium starts its on-device model service (built-in AI) by itself a few minutes into a run:
  // ~90 MB at once that no page asked for, so the figure the drift aim is judged on leaves it out
  const browserServices = Object.entries(rssByType).filter(([type]) => NOT_THE_PAGES.test(type)).reduce((a, [, b]) => a + b, 0);
  const gpu = nvidiaMemory(new Set(pids));
  const f = p.stats?.frames;
  const e = p.stats?.engine ?? null;
  const prev = samples[samples.length - 1];
  const t = elapsed();
  const askedBefore = prevAsked;
  prevAsked = p.asked;
  const ingested = f?.ingested ?? 0;
  const store = (e?.storeBytes ?? 0) + (e?.storeSideBytes ?? 0);
  samples.push({
    t,
    framesPushed: p.framesPushed,
    framesIngested: ingested,
    ingestFps: prev ? (ingested - prev.framesIngested) / (t - prev.t) : null,
    askedSince: p.asked !== askedBefore || p.answers.length > 0 || p.asked > answers.length,
    queueDepth: f?.queueDepth ?? 0,
    droppedQueueFull: f?.droppedQueueFull ?? 0,
    failed: f?.failed ?? 0,
    rejected: f?.rejected ?? 0,
    notTaken: p.notTaken,
    framesLostToDeviceLoss: e?.framesLostToDeviceLoss ?? 0,
    engineGpuBytes: e?.gpuBytes ?? null,
    // absent before the engine counted its buffers (an SDK without stats().engine.gpuBuffers)
    engineGpuBuffers: e?.gpuBuffers ?? null,
    storeFrames: e?.storeFrames ?? null,
    storeBytes: e?.storeBytes ?? null,
    storeSideBytes: e?.storeSideBytes ?? null,
    rankingThreads: e?.rankingThreads ?? null,
    gpuProcessMiB: gpu.processMiB,
    gpuCardMiB: gpu.cardMiB,
    pageJsHeapBytes: heap,
    rssBytes: rss,
    rssByType,
    rssLessStoreBytes: rss - browserServices - store,
    errors: p.errors.length,
  });
  return p;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] + s[Math.ceil((s.length - 1) / 2)]) / 2 : null;
};

/**
 * Drift in % of a series from its start to its end: the medians of its first and last tenth (1 to
 * 20 values each: a GC's sawtooth or one slow sample does not decide it); null when too short or
 * zero at the start.
 */
function drift(values: (number | null)[]): { start: number | null; end: number | null; percent: number | null } {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length < 2) return { start: xs[0] ?? null, end: xs[xs.length - 1] ?? null, percent: null };
  const n = Math.max(1, Math.min(20, Math.floor(xs.length / 10)));
  const start = median(xs.slice(0, n))!;
  const end = median(xs.slice(-n))!;
  return { start, end, percent: start === 0 ? null : ((end - start) / Math.abs(start)) * 100 };
}

const DRIFT_METRICS: (keyof Sample)[] = ['gpuProcessMiB', 'gpuCardMiB', 'engineGpuBytes', 'engineGpuBuffers', 'pageJsHeapBytes', 'rssBytes', 'rssLessStoreBytes', 'ingestFps'];

function summary() {
  const windowFrames = info.windowFrames;
  // steady state: the window is full and the first question has been answered (it allocates the
  // answer path's buffers once: the engine's buffer count steps up then, and stays)
  const full = samples.findIndex((s, i) => s.framesIngested >= windowFrames && (askEvery === 0 || samples.slice(0, i + 1).some((x) => x.askedSince) && !s.askedSince));
  const after = full < 0 ? [] : samples.slice(full);
  const drifts: Record<string, ReturnType<typeof drift> & { withinAim: boolean | null }> = {};
  for (const m of DRIFT_METRICS) {
    // between questions only (an answer holds scratch buffers while it runs); the rate also not over the end of the feed
    const series = after
      .filter((s, i) => !s.askedSince && (m !== 'ingestFps' || (i > 0 && s.framesPushed < frames)))
      .map((s) => s[m] as number | null);
    const d = drift(series);
    drifts[m] = { ...d, withinAim: d.percent === null ? null : Math.abs(d.percent) <= 5 };
  }
  const asked = answers.filter((a) => a.atFrame >= windowFrames);
  const ttft = drift(asked.map((a) => a.firstTokenMs));
  drifts.firstTokenMs = { ...ttft, withinAim: ttft.percent === null ? null : Math.abs(ttft.percent) <= 5 };
  const last = samples[samples.length - 1];
  const checkable = answers.filter((a) => !a.ambiguous);
  return {
    finished,
    framesRequested: frames,
    framesPushed: last?.framesPushed ?? 0,
    framesIngested: last?.framesIngested ?? 0,
    // after the end every frame pushed must have been ingested; before it, the queue may still hold some
    framesLost: finished && last ? last.framesPushed - last.framesIngested : null,
    droppedQueueFull: last?.droppedQueueFull ?? 0,
    failed: last?.failed ?? 0,
    rejected: last?.rejected ?? 0,
    notTaken: last?.notTaken ?? 0,
    framesLostToDeviceLoss: last?.framesLostToDeviceLoss ?? 0,
    errors: driverError ? [...errors, `driver: ${driverError}`] : errors,
    steadyFromSample: full,
    drift: drifts,
    questions: answers.length,
    correct: checkable.filter((a) => a.correct).length,
    checkable: checkable.length,
    storeBytesPerFrame: last?.storeBytes && last.storeFrames ? last.storeBytes / last.storeFrames : null,
    aim: 'each drift within ±5 % (rssBytes grows with the memory store by design: rssLessStoreBytes takes its bytes out); framesLost 0; no errors',
  };
}

function write(withPng: boolean): void {
  const file = join(outDir, 'soak.json');
  const body = { schema: 'streamvlm-soak/1', startedAt: new Date(Date.now() - elapsed() * 1000).toISOString(), updatedAt: new Date().toISOString(), host, model, settings: { frames, askEvery, sampleSeconds, seed, memoryRamMB, rankingThreads, maxSeconds, windowFrames: info.windowFrames, gcBeforeSamples: forceGc }, summary: summary(), samples, answers };
  writeFileSync(`${file}.tmp`, JSON.stringify(body, null, 1));
  renameSync(`${file}.tmp`, file);
  if (!withPng) return;
  const xs = samples.map((s) => s.framesIngested);
  const full = samples[summary().steadyFromSample]?.framesIngested ?? null;
  const mib = (v: number | null) => (v === null ? null : v / 2 ** 20);
  const panels: Panel[] = [
    { title: 'GPU memory of the browser (nvidia-smi MiB)', ys: samples.map((s) => s.gpuProcessMiB ?? s.gpuCardMiB) },
    { title: 'engine GPU tensor MiB', ys: samples.map((s) => mib(s.engineGpuBytes)) },
    { title: 'engine GPU buffers', ys: samples.map((s) => s.engineGpuBuffers) },
    { title: 'page JS heap MiB', ys: samples.map((s) => mib(s.pageJsHeapBytes)) },
    { title: 'Chromium RSS MiB (all processes)', ys: samples.map((s) => mib(s.rssBytes)) },
    { title: 'RSS less memory store MiB', ys: samples.map((s) => mib(s.rssLessStoreBytes)) },
    { title: 'ingest frames/s (intervals without a question)', ys: samples.map((s) => (s.askedSince ? null : s.ingestFps)) },
    { title: 'time to first token ms (per question)', xs: answers.map((a) => a.atFrame), ys: answers.map((a) => a.firstTokenMs) },
    { title: 'of which ranking the memory, ms (per question)', xs: answers.map((a) => a.atFrame), ys: answers.map((a) => a.rankMs ?? null) },
    { title: 'frames lost (dropped + failed + not taken) and errors', ys: samples.map((s) => s.droppedQueueFull + s.failed + s.notTaken + s.errors) },
  ].map((p) => ({ xs, markX: full, ...p }));
  writeFileSync(join(outDir, 'soak.png'), curvesPng(panels, 'frames ingested'));
}

try {
  for (;;) {
    await new Promise((r) => setTimeout(r, sampleSeconds * 1000));
    const p = await sample();
    const s = samples[samples.length - 1];
    log(`${s.framesIngested}/${frames} ingested, ${s.ingestFps?.toFixed(1) ?? '-'} frames/s, GPU ${((s.engineGpuBytes ?? 0) / 2 ** 20).toFixed(1)} MiB in ${s.engineGpuBuffers ?? '?'} buffers, RSS ${(s.rssBytes / 2 ** 20).toFixed(0)} MiB, heap ${((s.pageJsHeapBytes ?? 0) / 2 ** 20).toFixed(1)} MiB, ${answers.length} answers, ${p.errors.length} errors`);
    write(samples.length % 12 === 0);
    if (p.done) {
      finished = true;
      break;
    }
    if (maxSeconds !== null && elapsed() >= maxSeconds) {
      log(`--max-seconds ${maxSeconds} reached: stopping with ${s.framesIngested} frames ingested`);
      break;
    }
  }
} catch (e) {
  driverError = e instanceof Error ? e.message.split('\n')[0] : String(e);
  log(`error: ${driverError}`);
}
write(true);
const s = summary();
log(`${finished ? 'done' : 'stopped'}: ${s.framesIngested} frames ingested, ${s.framesLost ?? '?'} lost, ${s.errors.length} errors; drift ${Object.entries(s.drift).map(([k, d]) => `${k} ${d.percent === null ? '-' : d.percent.toFixed(1)}%`).join(', ')} → ${join(outDir, 'soak.json')}, soak.png`);
await browser.close();
await server.close();
process.exit(finished && s.errors.length === 0 && s.framesLost === 0 ? 0 : 1);
