#!/usr/bin/env node
// Runs bench/browser-page.html (built into dist-bench-browser/) in headless Chromium, once per GPU flag
// set (CHROMIUM_GPU_ARGS: f32 as Chrome on Linux/NVIDIA ships; CHROMIUM_GPU_F16_ARGS: with shader-f16),
// and prints/writes the results. `--quick` uses the tiny config (SwiftShader smoke test).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileIn, serveFiles } from './static-server.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const outIndex = argv.indexOf('--out');
const out = outIndex >= 0 ? argv[outIndex + 1] : null;
// --query 'streamMinutes=1,10,60&streamOnly&baselines&ramBudgetMB=0' (or 'decodeHost'): passed to the page (see bench/browser-page.ts)
const queryIndex = argv.indexOf('--query');
const query = [quick ? 'quick' : '', queryIndex >= 0 ? argv[queryIndex + 1] : ''].filter(Boolean).join('&');
const root = new URL('..', import.meta.url).pathname;

async function run(extraArgs, label) {
  const pw = await import(process.env.PLAYWRIGHT_CORE ?? 'playwright-core');
  const chromium = pw.chromium ?? pw.default.chromium;
  const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find((p) => p && existsSync(p));
  const server = await serveFiles((path) => fileIn(root, path));
  const browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--js-flags=--expose-gc', ...extraArgs],
  });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && console.error(`[${label}] ${m.text()}`));
    await page.goto(`http://localhost:${server.address().port}/dist-bench-browser/bench/browser-page.html${query ? `?${query}` : ''}`);
    await page.waitForFunction(() => window.benchDone, null, { timeout: 560_000, polling: 500 });
    const result = await page.evaluate(() => window.benchDone);
    if (result.error) throw new Error(`[${label}] ${result.error}`);
    console.error(`[${label}] done`);
    return { ...result, host: label };
  } finally {
    await browser.close();
    server.close();
  }
}

const runs = [];
const split = (s) => (s ?? '').split(/\s+/).filter(Boolean);
if (!argv.includes('--f16-only')) runs.push(await run(split(process.env.CHROMIUM_GPU_ARGS), 'chromium'));
if (process.env.CHROMIUM_GPU_F16_ARGS && !argv.includes('--f32-only')) runs.push(await run(split(process.env.CHROMIUM_GPU_F16_ARGS), 'chromium-f16'));
for (const r of runs) {
  console.log(`\n### ${r.host}: ${r.adapter?.vendor} ${r.adapter?.description ?? ''} (shader-f16: ${r.features?.f16 ? 'yes' : 'no'})`);
  if (r.decodeHost) console.log(`decode host (${r.model}, ${r.decodeHost.recordOnly ? 'recorded only' : 'submitted'}): ${JSON.stringify({ byCode: r.decodeHost.byCode, fromPlan: r.decodeHost.fromPlan, replayed: r.decodeHost.planStepsReplayed })}`);
  for (const m of r.results) {
    console.log(`${m.model} ${m.precision}: frame ${m.frame.totalWallMs.toFixed(1)} ms wall (${m.frame.visionConnectorGpuMs?.toFixed(1)} GPU), ${m.frame.framesPerSecond.toFixed(1)}/${m.frame.pipelinedFramesPerSecond.toFixed(1)} fps; prefill ${m.prefill.gpuMs?.toFixed(1)} GPU / ${m.prefill.wallMs.toFixed(1)} wall ms; decode ${m.decode.tokensPerSecond.toFixed(1)} tok/s (serial ${m.decode.serialTokensPerSecond.toFixed(1)}, ${m.decode.gpuMsPerToken?.toFixed(2)} GPU ms, ${m.decode.dispatchesPerToken} dispatches); peak ${(m.memory.peakStorageBytes / 2 ** 20).toFixed(0)} MiB`);
  }
  for (const c of r.stream?.checkpoints ?? []) console.log(`stream ${r.stream.precision} @${c.frames} frames: TTFT ${c.firstTokenMs.toFixed(1)} ms, ingest ${c.ingestFps.toFixed(1)} fps, GPU ${c.gpuMiB.toFixed(0)} MiB, decode ${c.decodeTokensPerSecond.toFixed(0)} tok/s`);
  for (const c of r.stream.baselines?.fullKvFill ?? []) console.log(`baseline full KV @${c.frames} frames: TTFT ${c.firstTokenMs.toFixed(1)} ms, frame prefill ${c.framePrefillMs.toFixed(0)} ms, GPU ${c.gpuMiB.toFixed(0)} MiB, decode ${c.decodeTokensPerSecond.toFixed(0)} tok/s`);
  for (const c of r.stream.baselines?.reencode ?? []) console.log(`baseline re-encode 8 frames @${c.frames} frames: TTFT ${c.firstTokenMs.toFixed(1)} ms`);
}
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), runs }, null, 1));
process.exit(0);
