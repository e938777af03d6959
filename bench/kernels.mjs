#!/usr/bin/env node
// `npm run bench:kernels`: the kernel benchmark in Node (Dawn) and in headless Chromium, same suite,
// same run. Needs dist-node/ and dist-bench/ (the npm script builds both). Plain JS with no
// dependencies beyond playwright-core, so it also runs on the GPU machine where node_modules is absent.
//
//   node bench/kernels.mjs [--quick] [--out results.json] [--skip-node] [--skip-browser]
//
// Chromium: CHROMIUM_PATH or /usr/bin/chromium, else Playwright's own. CHROMIUM_GPU_ARGS adds the
// flags that put WebGPU on a real GPU; CHROMIUM_GPU_F16_ARGS, when set, adds a second run with shader-f16.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileIn, serveFiles } from './static-server.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const outIndex = argv.indexOf('--out');
const out = outIndex >= 0 ? argv[outIndex + 1] : null;
const root = new URL('..', import.meta.url).pathname;
const runs = [];

if (!argv.includes('--skip-node')) {
  const r = spawnSync(process.execPath, [join(root, 'dist-node/bench.js'), ...(quick ? ['--quick'] : [])], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 540_000,
  });
  const line = (r.stdout ?? '').trim().split('\n').pop();
  if (r.status !== 0 || !line?.startsWith('{')) throw new Error(`node benchmark failed (exit ${r.status})`);
  runs.push(JSON.parse(line));
}

async function browserRun(extraArgs, label) {
  const pw = await import(process.env.PLAYWRIGHT_CORE ?? 'playwright-core');
  const chromium = pw.chromium ?? pw.default.chromium;
  const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find((p) => p && existsSync(p));
  const bench = join(root, 'dist-bench');
  const server = await serveFiles((path) => fileIn(bench, path || 'index.html'));
  const browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      // unquantized timestamp queries (Chrome rounds them to 100 µs otherwise)
      '--enable-webgpu-developer-features', ...extraArgs],
  });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && console.error(`[${label}] ${m.text()}`));
    await page.goto(`http://localhost:${server.address().port}/bench/page.html${quick ? '?quick' : ''}`);
    await page.waitForFunction(() => window.benchDone, null, { timeout: 540_000, polling: 500 });
    const result = await page.evaluate(() => window.benchDone);
    if (result.error) throw new Error(`[${label}] ${result.error}`);
    return { ...result, host: label };
  } finally {
    await browser.close();
    server.close();
  }
}

if (!argv.includes('--skip-browser')) {
  const gpuArgs = (process.env.CHROMIUM_GPU_ARGS ?? '').split(/\s+/).filter(Boolean);
  // --browser-f16-only: the shader-f16 browser run alone (each command on the GPU machine is time-limited)
  if (!argv.includes('--browser-f16-only')) runs.push(await browserRun(gpuArgs, 'chromium'));
  if (process.env.CHROMIUM_GPU_F16_ARGS && !argv.includes('--browser-f32-only')) {
    runs.push(await browserRun(process.env.CHROMIUM_GPU_F16_ARGS.split(/\s+/).filter(Boolean), 'chromium-f16'));
  }
}

// Markdown: one table per run, each kernel beside the same run's baselines.
let md = '';
for (const run of runs) {
  const a = run.adapter ?? {};
  md += `\n### ${run.host}: ${a.vendor} ${a.architecture} ${a.description ?? ''} (shader-f16: ${run.features?.f16 ? 'yes' : 'no'})${run.quick ? ' — QUICK sizes' : ''}\n\n`;
  if (run.checks) md += `Kernel self-check on this adapter: ${run.checks.passed} passed, ${run.checks.failed} failed${run.checks.failures.length ? ` (${run.checks.failures.join('; ')})` : ''}\n\n`;
  md += '| math | case | figure | ms/iter | timing |\n| --- | --- | --- | --- | --- |\n';
  for (const r of run.results) {
    md += `| ${r.precision} | ${r.name} | ${r.value.toPrecision(4)} ${r.unit} | ${r.msPerIteration.toPrecision(4)} | ${r.timing} |\n`;
  }
}
console.log(md);
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), runs }, null, 1));
