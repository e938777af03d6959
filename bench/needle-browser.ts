// The needle benchmark in headless Chromium: the same plan, streams and results file as
// needle-bench.ts (Node/Dawn), each stream run by runStream in a page (bench/needle-page.ts) on
// the browser's WebGPU; needle-report merges its files with needle-bench's.
//
//   npx vite build -c vite.gpu-browser.config.ts && npm run build:node     (here; then on the GPU machine:)
//   node bench/needle-browser.mjs [needle-bench's options] [--f16] [--pages N] [--one-browser]
//     --model      a local model folder (default tools/fixtures/needle-vlm), served to the page
//     --f16        Chromium with CHROMIUM_GPU_F16_ARGS (shader-f16 on); default CHROMIUM_GPU_ARGS
//     --pages N    N pages run streams side by side, each taking the next stream left (one queue,
//                  one results file); each page in a browser of its own unless --one-browser
//
// Why a browser per page by default: every page of one browser submits its WebGPU work through
// that browser's single GPU process, where Dawn runs the commands of all tabs on one thread; the
// tiny needle model is bound by that per-command overhead (150–200 µs a submit-and-wait in
// Chromium on the H100, bench/RESULTS.md), not by the card, so N browsers give N GPU processes
// working in parallel, as N Node processes do in device-run-parallel.sh. --one-browser keeps the
// tabs in one browser to measure the difference.
//
// A page that crashes or fails a stream is replaced by a fresh one (browser too) and the stream
// run again once; a second failure stops the run, recorded in the file (status 'error').
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { numberOption } from '../src/cli/args';
import { staticServer } from '../e2e/support/static-server';
import { checkPagesBuilt, launchChromium, pagesDir, repoRoot } from './chromium-launch';
import type { NeedlePageInfo } from './needle-page';
import type { StreamJob } from './needle-plan';
import type { StreamRecord } from './needle-results';
import { failer, NeedleSession, parseNeedleOptions, type StreamRunner } from './needle-session';

const COMMAND = 'needle-browser';
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const log = (line: string) => console.error(`[${COMMAND} ${elapsed().toFixed(1)}s] ${line}`);
const fail: (message: string) => never = failer(COMMAND);

const { options: o, args } = parseNeedleOptions(process.argv.slice(2), COMMAND, { options: ['pages'], flags: ['f16', 'one-browser'], defaultModel: 'tools/fixtures/needle-vlm' });
let pages = 1;
try {
  pages = numberOption(args, 'pages', { min: 1 }) ?? 1;
} catch (e) {
  fail((e as Error).message);
}
const f16 = args.flags.has('f16');
const oneBrowser = args.flags.has('one-browser');
const modelDir = resolve(repoRoot, o.model);
if (!existsSync(resolve(modelDir, 'config.json'))) fail(`--model ${o.model}: no config.json in ${modelDir} (a local model folder, served to the page)`);
try {
  checkPagesBuilt('needle-page.html');
} catch (e) {
  fail((e as Error).message);
}

const server = await staticServer({ '/': `${pagesDir}/`, '/model/': `${modelDir}/` });
const pageUrl = `${server.url}/bench/needle-page.html?${new URLSearchParams({ model: '/model/', precision: o.precision, settings: JSON.stringify(o.run) })}`;

interface OpenPage {
  info: NeedlePageInfo;
  browserVersion: string;
  run: (job: StreamJob) => Promise<StreamRecord>;
  close: () => Promise<void>;
}

/** With --one-browser: the browser every page opens in. */
const shared: { browser: Promise<Browser> | null } = { browser: null };

/** A page with the model loaded and warm (its own browser unless --one-browser). */
async function openPage(label: string): Promise<OpenPage> {
  const own = !oneBrowser;
  // a shared browser that died (its GPU process took it down) is launched again
  if (shared.browser && !(await shared.browser.then((b) => b.isConnected()).catch(() => false))) shared.browser = null;
  const browser = own ? await launchChromium(f16) : await (shared.browser ??= launchChromium(f16));
  let page: Page | null = null;
  try {
    page = await browser.newPage();
    page.on('console', (m) => {
      // the loader asks for optional model files; their 404s are not errors
      if (!/Failed to load resource/.test(m.text())) log(`${label}${m.type() === 'error' ? 'page error: ' : ''}${m.text()}`);
    });
    page.on('pageerror', (e) => log(`${label}page exception: ${e.message}`));
    page.on('crash', () => log(`${label}the page crashed`));
    await page.goto(pageUrl);
    await page.waitForFunction(() => window.needle !== undefined, null, { timeout: 0, polling: 500 });
    const state = await page.evaluate(() => {
      const n = window.needle!;
      return 'error' in n ? { error: n.error } : { info: n.ready };
    });
    if ('error' in state) throw new Error(`the page could not load the model: ${state.error}`);
    const p = page;
    return {
      info: state.info,
      browserVersion: browser.version(),
      run: (job) =>
        p.evaluate(async (j) => {
          const n = window.needle!;
          if ('error' in n) throw new Error(n.error);
          return n.run(j);
        }, job),
      close: async () => {
        await p.close().catch(() => {});
        if (own) await browser.close().catch(() => {});
      },
    };
  } catch (e) {
    await page?.close().catch(() => {});
    if (own) await browser.close().catch(() => {});
    throw e;
  }
}

const labels = Array.from({ length: pages }, (_, i) => (pages > 1 ? `[${i}] ` : ''));
log(`${pages} page${pages > 1 ? 's' : ''} (${oneBrowser ? 'one browser' : 'a browser each'}), ${f16 ? 'CHROMIUM_GPU_F16_ARGS' : 'CHROMIUM_GPU_ARGS'}${process.env.CHROMIUM_GPU_ARGS ? '' : ' unset: SwiftShader'}; loading ${o.model} and warming up`);
const opened = await Promise.all(labels.map((l) => openPage(l)));
const first = opened[0];
const adapter = `Chromium ${first.browserVersion} (headless): ${first.info.adapter}`;
log(`adapter: ${adapter} (shader-f16 ${first.info.f16}); ${first.info.precision} math; model max positions ${first.info.maxPositions}`);

const session = new NeedleSession(o, { adapter, f16: first.info.f16, precision: first.info.precision, node: process.version }, elapsed, log, COMMAND);
log(session.describe());
session.save();

/** Runs streams on page i; a failed stream gets a fresh page and one more try. */
const current: (Promise<OpenPage> | null)[] = opened.map((p) => Promise.resolve(p));
function runner(i: number): StreamRunner {
  return async (job) => {
    for (let attempt = 1; ; attempt++) {
      const p = await (current[i] ??= openPage(labels[i]));
      try {
        return await p.run(job);
      } catch (e) {
        const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
        log(`${labels[i]}seed ${job.seed} (${job.frames} frames) failed: ${message}`);
        current[i] = null;
        await p.close();
        if (attempt === 2) throw e;
        log(`${labels[i]}a fresh page runs it again`);
      }
    }
  };
}

const exitCode = await session.runAll(labels.map((_, i) => runner(i)));
await Promise.all(current.map((p) => p?.then((open) => open.close()).catch(() => {})));
await shared.browser?.then((b) => b.close()).catch(() => {});
await server.close();
process.exit(exitCode);
