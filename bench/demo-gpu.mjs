#!/usr/bin/env node
// The demo page (built into dist-demo/) on a real GPU in headless Chromium, fed by the fake camera:
// loads a synthetic SmolVLM2 folder at real shapes (dist-node/synthetic.js), watches for a while,
// asks a question, and records the page's own live figures and a screenshot.
//
//   node dist-node/synthetic.js /tmp/synth && node bench/demo-gpu.mjs /tmp/synth [--watch-seconds 40] [--out dir]
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileIn, serveFiles } from './static-server.mjs';

const argv = process.argv.slice(2);
const synth = argv[0];
const opt = (n, d) => (argv.indexOf(n) >= 0 ? argv[argv.indexOf(n) + 1] : d);
const watchSeconds = Number(opt('--watch-seconds', '40'));
const outDir = opt('--out', '.');
const root = new URL('..', import.meta.url).pathname;

async function run(label, gpuArgs) {
  const pw = await import(process.env.PLAYWRIGHT_CORE ?? 'playwright-core');
  const chromium = pw.chromium ?? pw.default.chromium;
  const demo = join(root, 'dist-demo');
  const server = await serveFiles((path) => (path.startsWith('synth/') ? fileIn(synth, path.slice(6)) : fileIn(demo, path || 'index.html')));
  const browser = await chromium.launch({
    executablePath: [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find((p) => p && existsSync(p)),
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${join(synth, 'camera.y4m')}`, ...gpuArgs],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    page.on('console', (m) => m.type() === 'error' && console.error(`[${label}] ${m.text()}`));
    const t0 = Date.now();
    page.on('crash', () => console.error(`[${label}] the page crashed`));
    await page.goto(`http://localhost:${server.address().port}/index.html?model=/synth/model/&maxTokens=16`, { waitUntil: 'domcontentloaded' }).catch((e) => {
      throw new Error(`[${label}] navigation failed: ${String(e.message).split('\n')[0]}`);
    });
    await page.click('#load');
    await page.waitForFunction(() => /Ready/.test(document.querySelector('#model-info')?.textContent ?? ''), null, { timeout: 240_000 });
    const loadMs = Date.now() - t0;
    const modelInfo = await page.textContent('#model-info');
    await page.click('#camera');
    await page.waitForTimeout(watchSeconds * 1000);
    const statsWatching = await page.textContent('#stats');
    await page.fill('#question', 'What happened in front of the camera?');
    await page.click('#ask');
    await page.waitForFunction(() => /tokens/.test(document.querySelector('#answer-timing')?.textContent ?? ''), null, { timeout: 120_000 });
    const answerTiming = await page.textContent('#answer-timing');
    const statsAfter = await page.textContent('#stats');
    const timelineFrames = await page.locator('#timeline button').count();
    await page.screenshot({ path: join(outDir, `demo-gpu-${label}.png`), fullPage: true });
    const result = { label, loadMs, modelInfo, statsWatching, answerTiming, statsAfter, timelineFrames };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await browser.close();
    server.close();
  }
}

const split = (s) => (s ?? '').split(/\s+/).filter(Boolean);
const results = [await run('chromium', split(process.env.CHROMIUM_GPU_ARGS)).catch((e) => ({ label: 'chromium', error: String(e.message).split('\n').slice(0, 3).join(' | ') }))];
console.log(JSON.stringify(results[0]).slice(0, 600));
if (process.env.CHROMIUM_GPU_F16_ARGS) results.push(await run('chromium-f16', split(process.env.CHROMIUM_GPU_F16_ARGS)));
writeFileSync(join(outDir, 'demo-gpu.json'), JSON.stringify({ date: new Date().toISOString(), results }, null, 1));
process.exit(0);
