// The device-loss scenarios of e2e/browser/device-loss.spec.ts (issue 14) in headless Chromium on
// any adapter, without @playwright/test or Vite: for the GPU machine (bench/GPU-BROWSER.md). The page
// (bench/device-loss-page.html, built into dist-gpu-browser/) runs the spec's own harness
// (e2e/browser/harness/device-loss.ts) on the public SDK; the GPUDevice is really destroyed.
//
//   npx vite build -c vite.gpu-browser.config.ts && npm run build:node     (here; then:)
//   node bench/device-loss-browser.mjs [--f16] [--model tools/fixtures/needle-vlm] [--scenarios a,b] [--out file.json]
//
// Scenarios (each in a fresh page): 'losses-4bit' — the device lost mid-answer, then (a second
// stream) during its first load, mid-stream and during the recovery's reload, 4-bit memory;
// 'losses-raw' — mid-answer and mid-stream, raw memory; 'no-backup' — without window backups,
// the recovery's new device lost in turn; 'lost-every-try' — load() losing its device at every try.
// Prints one row per scenario (same tokens as before the loss, events seen, typed errors, stats)
// and exits 1 when any fails (2: bad command line or pages not built).
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkKnownOptions, option, parseArgs, type ParsedArgs } from '../src/cli/args';
import { checkPagesBuilt, launchChromium, pagesDir, repoRoot } from './chromium-launch';
import { failer } from './needle-session';
import { staticServer } from '../e2e/support/static-server';
import { checkScenario, SCENARIOS, type Row, type ScenarioName } from './device-loss-checks';
import type { LossResult, LostEveryTryResult, NoBackupResult } from '../e2e/browser/harness/device-loss';

const COMMAND = 'device-loss-browser';
const fail: (message: string) => never = failer(COMMAND);
const started = performance.now();
const log = (line: string) => console.error(`[device-loss ${((performance.now() - started) / 1000).toFixed(1)}s] ${line}`);

let args: ParsedArgs;
try {
  args = parseArgs(process.argv.slice(2), ['f16']);
  checkKnownOptions(args, COMMAND, ['model', 'scenarios', 'out']);
} catch (e) {
  fail((e as Error).message);
}
const f16 = args.flags.has('f16');
const model = option(args, 'model') ?? 'tools/fixtures/needle-vlm';
const modelDir = resolve(repoRoot, model);
if (!existsSync(join(modelDir, 'config.json'))) fail(`--model ${model}: no config.json in ${modelDir}`);
const asked = (option(args, 'scenarios') ?? SCENARIOS.join(',')).split(',').filter(Boolean);
for (const s of asked) if (!(SCENARIOS as readonly string[]).includes(s)) fail(`--scenarios: ${s} is not one of ${SCENARIOS.join(', ')}`);
const scenarios = asked as ScenarioName[];
const out = option(args, 'out');
try {
  checkPagesBuilt('device-loss-page.html');
} catch (e) {
  fail((e as Error).message);
}

// the harness asks for the model at this path (as the Vite server of the specs serves it)
const server = await staticServer({ '/': `${pagesDir}/`, '/tools/fixtures/needle-vlm/': `${modelDir}/` });
const browser = await launchChromium(f16);
const chromium = browser.version();
const rows: Row[] = [];
let adapter = '';
try {
  for (const scenario of scenarios) {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // the loader probes optional files: their 404s are not errors
      if (m.type() === 'error' && !/Failed to load resource|404/.test(m.text())) errors.push(m.text());
    });
    const t0 = performance.now();
    let row: Row;
    try {
      await page.goto(`${server.url}/bench/device-loss-page.html`);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 60_000 });
      adapter ||= await page.evaluate(async () => {
        const a = await navigator.gpu?.requestAdapter();
        return a ? `${a.info.vendor} ${a.info.architecture} ${a.info.description}`.trim() : 'no adapter';
      });
      const result = await page.evaluate((s): Promise<LossResult | NoBackupResult | LostEveryTryResult> => {
        const d = window.deviceLoss;
        if (s === 'losses-4bit') return d.run(4, true);
        if (s === 'losses-raw') return d.run('none', false);
        if (s === 'no-backup') return d.withoutBackup();
        return d.lostEveryTry();
      }, scenario);
      row = checkScenario(scenario, result, errors);
      // --f16 on the card is for f16 math: a stream that fell back to f32 did not test it
      if (f16 && process.env.CHROMIUM_GPU_F16_ARGS && row.math === 'f32') {
        row.pass = false;
        row.problems.push('--f16: the adapter gave f32 math (no shader-f16?)');
      }
    } catch (e) {
      row = { scenario, math: '-', sameTokens: '-', events: '-', typedErrors: '-', stats: '-', pass: false, problems: [`the page failed: ${(e as Error).message.split('\n')[0]}`, ...errors] };
    }
    row.seconds = (performance.now() - t0) / 1000;
    rows.push(row);
    log(`${scenario}: ${row.pass ? 'pass' : 'FAIL'} in ${row.seconds.toFixed(1)} s${row.problems.length ? ` — ${row.problems.join('; ')}` : ''}`);
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}

// as benchChromiumArgs picks them
const gpu = f16 && process.env.CHROMIUM_GPU_F16_ARGS ? 'CHROMIUM_GPU_F16_ARGS' : process.env.CHROMIUM_GPU_ARGS ? 'CHROMIUM_GPU_ARGS' : 'none (SwiftShader)';
console.log(`device loss in Chromium ${chromium}: ${adapter}; GPU flags: ${gpu}`);
const header = ['scenario', 'pass', 'math', 'same tokens', 'events', 'typed errors', 'stats', 's'];
const lines = rows.map((r) => [r.scenario, r.pass ? 'pass' : 'FAIL', r.math, r.sameTokens, r.events, r.typedErrors, r.stats, (r.seconds ?? 0).toFixed(1)]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
for (const l of [header, widths.map((w) => '-'.repeat(w)), ...lines]) console.log(`| ${l.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`);
for (const r of rows) for (const p of r.problems) console.log(`${r.scenario}: ${p}`);
if (out) writeFileSync(out, JSON.stringify({ chromium, adapter, gpuFlags: gpu, rows }, null, 2));
process.exit(rows.every((r) => r.pass) && rows.length === scenarios.length ? 0 : 1);
