// Issue 16's side-by-side run in headless Chromium: transformers.js v4 (WebGPU through
// onnxruntime-web) and streamvlm on the same model folder, in one page, one browser, one card
// (bench/peer-page.ts). Writes <out>/peer.json (everything measured) and <out>/peer.md (the table
// "streamvlm / transformers.js, same GPU, same run"); bench/PEER.md says what each figure means.
//
//   npm --prefix bench/peer ci && npx vite build -c bench/peer/vite.config.ts && npm run build:node
//   (here: dist-peer-browser/ and dist-node/peer-browser.js; then anywhere:)
//   node bench/peer-browser.mjs --model <folder with onnx/> [options]
//     --model DIR        model folder: safetensors for streamvlm, onnx/ for transformers.js
//                        (tools/onnx/export_smolvlm_onnx.py; default /tmp/tiny-onnx)
//     --f16              Chromium with CHROMIUM_GPU_F16_ARGS (shader-f16 on): streamvlm then runs
//                        f16 math, transformers.js the *_fp16.onnx graphs (when present)
//     --peer-device webgpu|wasm   (default webgpu)   --peer-dtype fp32|fp16
//     --precision auto|f32|f16    streamvlm's math (default auto)
//     --minutes 1,10,60  stream lengths asked about    --ingest-budget-s N (default: until 45 s
//                        before --timeout-s; lengths not reached are reported as such)
//     --context N (1000) --steps N (32) --answer-tokens N (16) --repeats N (5) --warm-ms N (1000)
//     --check A,B        also the greedy tokens of expected.json's cases A, B through transformers.js
//                        (parity fixtures); --check-only: only that (a fixture's onnx/ alone, seconds)
//     --skip-ours / --skip-peer   --timeout-s N (page limit, default 570)   --out DIR
//
// Exit 0 when both runtimes measured (and --check's tokens are equal), 1 otherwise.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkKnownOptions, numberOption, option, parseArgs } from '../src/cli/args';
import { staticServer } from '../e2e/support/static-server';
import { descendantPids, launchChromium, nvidiaMemory, repoRoot } from './chromium-launch';
import { memoryDelta, peerMarkdown, type MemoryMark, type PeerRunRecord } from './peer-report';
import type { PeerPageResult, PeerPageSettings } from './peer-types';

/** The built page (bench/peer/vite.config.ts). */
const pagesDir = join(repoRoot, 'dist-peer-browser');
const PAGE = 'bench/peer/peer-page.html';

const COMMAND = 'peer-browser';
const started = performance.now();
const elapsed = () => performance.now() - started;
const log = (line: string) => console.error(`[${COMMAND} ${(elapsed() / 1000).toFixed(1)}s] ${line}`);
const fail = (message: string): never => {
  console.error(`${COMMAND}: ${message}`);
  process.exit(2);
};

const argv = process.argv.slice(2);
const OPTIONS = ['model', 'peer-device', 'peer-dtype', 'precision', 'minutes', 'ingest-budget-s', 'context', 'steps', 'answer-tokens', 'repeats', 'warm-ms', 'check', 'timeout-s', 'out'];
let settings: PeerPageSettings;
let modelDir = '';
let outDir = '';
let timeoutMs = 0;
let f16 = false;
try {
  const args = parseArgs(argv, ['f16', 'skip-ours', 'skip-peer', 'check-only']);
  checkKnownOptions(args, COMMAND, OPTIONS);
  f16 = args.flags.has('f16');
  modelDir = resolve(repoRoot, option(args, 'model') ?? '/tmp/tiny-onnx');
  outDir = resolve(repoRoot, option(args, 'out') ?? 'bench/results/peer');
  const device = option(args, 'peer-device') ?? 'webgpu';
  if (device !== 'webgpu' && device !== 'wasm') throw new Error('--peer-device must be webgpu or wasm');
  const fp16Files = existsSync(join(modelDir, 'onnx', 'decoder_model_merged_fp16.onnx'));
  const dtype = option(args, 'peer-dtype') ?? (f16 && fp16Files ? 'fp16' : 'fp32');
  if (dtype !== 'fp32' && dtype !== 'fp16') throw new Error('--peer-dtype must be fp32 or fp16');
  const precision = option(args, 'precision') ?? 'auto';
  if (precision !== 'auto' && precision !== 'f32' && precision !== 'f16') throw new Error('--precision must be auto, f32 or f16');
  const minutes = (option(args, 'minutes') ?? '1,10,60').split(',').map(Number);
  if (minutes.some((m) => !(m > 0))) throw new Error('--minutes: positive numbers, comma-separated');
  settings = {
    peerDevice: device,
    peerDtype: dtype,
    precision,
    contextTokens: numberOption(args, 'context', { min: 1 }) ?? 1000,
    decodeSteps: numberOption(args, 'steps', { min: 2 }) ?? 32,
    answerTokens: numberOption(args, 'answer-tokens', { min: 2 }) ?? 16,
    repeats: numberOption(args, 'repeats', { min: 1 }) ?? 5,
    minutes,
    ingestBudgetMs: (numberOption(args, 'ingest-budget-s', { min: 0 }) ?? 100_000) * 1000,
    ingestDeadline: 0, // set below from --timeout-s
    warmMs: numberOption(args, 'warm-ms', { min: 0 }) ?? 1000,
    checkCases: (option(args, 'check') ?? '').split(',').filter(Boolean),
    checkOnly: args.flags.has('check-only'),
    skipOurs: args.flags.has('skip-ours'),
    skipPeer: args.flags.has('skip-peer'),
  };
  timeoutMs = (numberOption(args, 'timeout-s', { min: 1 }) ?? 570) * 1000;
  // the stream stops 45 s before the limit: time for the last questions and the results
  settings.ingestDeadline = Date.now() + timeoutMs - 45_000;
  if (!existsSync(join(modelDir, 'config.json'))) throw new Error(`--model ${modelDir}: no config.json`);
  if (settings.checkOnly && settings.checkCases.length === 0) throw new Error('--check-only needs --check CASE[,CASE]');
  if (!settings.skipPeer && !existsSync(join(modelDir, 'onnx', 'decoder_model_merged.onnx'))) throw new Error(`--model ${modelDir}: no onnx/decoder_model_merged.onnx (export it: python3 tools/onnx/export_smolvlm_onnx.py <folder> --out <dir>)`);
  if (!existsSync(join(pagesDir, PAGE))) throw new Error(`${join(pagesDir, PAGE)} is missing: build it (npm --prefix bench/peer ci && npx vite build -c bench/peer/vite.config.ts)`);
} catch (e) {
  fail((e as Error).message);
}

// onnxruntime-web's files from the built pages' ort/ (the wasm gzipped: the server sends it encoded)
const server = await staticServer({ '/': `${pagesDir}/`, '/model/': `${modelDir}/`, '/ort/': `${pagesDir}/ort/` });
const url = `${server.url}/${PAGE}?${new URLSearchParams({ model: '/model/', settings: JSON.stringify(settings!) })}`;
log(`${f16 ? 'CHROMIUM_GPU_F16_ARGS' : 'CHROMIUM_GPU_ARGS'}${process.env.CHROMIUM_GPU_ARGS ? '' : ' unset: SwiftShader'}; model ${modelDir}; ${JSON.stringify(settings!)}`);

const browser = await launchChromium(f16);
const marks: MemoryMark[] = [];
const sample = (phase: string) => {
  const m = nvidiaMemory(new Set(descendantPids()));
  marks.push({ phase, atMs: elapsed(), cardMiB: m.cardMiB, processMiB: m.processMiB });
  log(`phase ${phase}: card ${m.cardMiB ?? '–'} MiB, browser ${m.processMiB ?? '–'} MiB`);
};
sample('before-browser-page');
let exitCode = 1;
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (!/Failed to load resource/.test(m.text())) log(`${m.type() === 'error' ? 'page error: ' : ''}${m.text()}`);
  });
  page.on('pageerror', (e) => log(`page exception: ${e.message}`));
  page.on('crash', () => log('the page crashed'));
  await page.exposeFunction('peerMark', (phase: string) => sample(phase));
  await page.goto(url);
  let timedOut = false;
  await page.waitForFunction(() => window.peerDone !== undefined, null, { timeout: timeoutMs, polling: 1000 }).catch((e: unknown) => {
    // out of time: keep what is measured (the peer's side, when streamvlm's stream ran long)
    log(`the page did not finish in ${timeoutMs / 1000} s (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); writing what it measured`);
    timedOut = true;
  });
  const done = (await page.evaluate(() => window.peerDone ?? window.peerPartial ?? { error: 'nothing measured before the time limit' })) as PeerPageResult | { error: string };
  if ('error' in done) throw new Error(`the page failed: ${done.error}`);
  if (timedOut && !done.ours) done.ours = { error: `not finished within --timeout-s ${timeoutMs / 1000}` };
  const run: PeerRunRecord = {
    format: 'streamvlm-peer/1',
    date: new Date().toISOString(),
    browser: `Chromium ${browser.version()} (headless)`,
    args: argv,
    page: done,
    marks,
    // streamvlm's rise leaves out 'ours-bench': model-bench loads a second copy of the weights of its own
    gpuMemoryMiB: { peer: memoryDelta(marks, 'start', ['peer-loaded', 'peer-measured']), ours: memoryDelta(marks, 'peer-disposed', ['ours-loaded', 'ours-stream']) },
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'peer.json'), JSON.stringify(run, null, 2));
  const md = peerMarkdown(run);
  writeFileSync(join(outDir, 'peer.md'), md);
  console.log(md);
  log(`wrote ${join(outDir, 'peer.json')} and peer.md`);
  const measured = !!done.peer === !settings!.skipPeer && !!done.ours === !settings!.skipOurs && !(done.peer && 'error' in done.peer) && !(done.ours && 'error' in done.ours);
  const checked = done.peerChecks.length === settings!.checkCases.length && done.peerChecks.every((c) => c.equal);
  exitCode = (settings!.checkOnly || measured) && checked ? 0 : 1;
} catch (e) {
  log(`failed: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  await browser.close().catch(() => {});
  await server.close();
}
process.exit(exitCode);
