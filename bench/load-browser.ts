// The time to load a model through the SDK in headless Chromium, first from the network into the
// browser's Cache Storage and then from it (issue 16: the 256M from Cache Storage in ≤ 3 s), on a
// profile on disk as a user's browser has. Build the pages first (npx vite build -c
// vite.gpu-browser.config.ts), then, with a SmolVLM2 folder (node dist-node/synthetic.js DIR
// writes one at the 256M shapes):
//
//   node dist-node/load-browser.js --model DIR [--runs 3] [--precision auto|f32|f16] [--f16] [--out load.json]
//
// The model is served from this machine (localhost), so the first load's network time is a local
// copy, not a download; the figure that matters is the later loads, from Cache Storage.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkKnownOptions, numberOption, option, parseArgs } from '../src/cli/args';
import { staticServer } from '../e2e/support/static-server';
import { checkPagesBuilt, launchPersistentChromium, pagesDir } from './chromium-launch';
import type { LoadRun } from './load-page';

const args = parseArgs(process.argv.slice(2), ['f16']);
checkKnownOptions(args, 'load-browser', ['model', 'runs', 'precision', 'out']);
const model = option(args, 'model');
if (!model) throw new Error('load-browser needs --model DIR (a SmolVLM2 folder; node dist-node/synthetic.js DIR writes one)');
const runs = numberOption(args, 'runs', { min: 2, integer: true }) ?? 3;
const precision = option(args, 'precision') ?? 'auto';
const f16 = args.flags.has('f16');
const out = option(args, 'out');
checkPagesBuilt('load-page.html');
const weights = statSync(join(model, 'model.safetensors')).size;

const profile = mkdtempSync(join(tmpdir(), 'streamvlm-load-profile-'));
const server = await staticServer({ '/': `${pagesDir}/`, '/model/': `${resolve(model)}/` });
const context = await launchPersistentChromium(f16, profile);
try {
  const page = await context.newPage();
  page.on('console', (m) => {
    if (!/Failed to load resource/.test(m.text())) console.error(`page: ${m.text()}`);
  });
  await page.goto(`${server.url}/bench/load-page.html?${new URLSearchParams({ model: '/model/', runs: String(runs), precision })}`);
  await page.waitForFunction(() => window.loadBench !== undefined, null, { timeout: 0, polling: 250 });
  const result = await page.evaluate(() => window.loadBench!);
  if ('error' in result) throw new Error(`the page failed: ${result.error}`);
  const report = { chromium: context.browser()?.version() ?? null, adapter: result.adapter, precision: result.precision, f16Args: f16, model, weightBytes: weights, runs: result.runs };
  if (out) writeFileSync(out, JSON.stringify(report, null, 1));
  console.log(`${report.chromium ?? 'Chromium'}: ${result.adapter}, ${result.precision} math; ${(weights / 1e6).toFixed(0)} MB of weights (${model})`);
  console.log('| load | from | to the first weight upload (ms) | to done (ms) | StreamVLM.load (ms) | MB/s over the load |');
  console.log('| ---: | --- | ---: | ---: | ---: | ---: |');
  for (const r of result.runs as LoadRun[]) {
    console.log(`| ${r.run} | ${r.fromCache ? 'Cache Storage' : 'network (localhost)'} | ${r.firstUploadMs?.toFixed(0) ?? '–'} | ${r.doneMs?.toFixed(0) ?? '–'} | ${r.totalMs.toFixed(0)} | ${(weights / 1e3 / r.totalMs).toFixed(0)} |`);
  }
} finally {
  await context.close();
  await server.close();
  rmSync(profile, { recursive: true, force: true });
}
