// Where a long stream's host memory goes (issue 14's soak: the renderer grew ~12 KB a frame beyond
// what the memory store counts). Streams needle frames through one StreamEngine in Node (Dawn; any
// adapter) and, every --every frames after a full GC, prints the process's memory beside the
// store's own counts: growth of the V8 heap points at per-frame JavaScript objects, of
// ArrayBuffers beyond the store's bytes at uncounted buffers, of RSS beyond both at native memory.
//
//   node --expose-gc dist-node/engine-memory.js [--model tools/fixtures/needle-vlm] [--frames 600] [--every 100]
//     [--heap-snapshots DIR]   (a V8 heap snapshot at every row, DIR/frames-N.heapsnapshot: diff two
//                               with tools/heap-diff.mjs to see which objects a frame leaves behind)
import { writeHeapSnapshot } from 'node:v8';
import { numberOption, option, parseArgs } from '../src/cli/args';
import { modelSourceOf } from '../src/cli/model-source';
import { StreamEngine } from '../src/engine/stream-engine';
import { SmolVlm } from '../src/families/smolvlm/smolvlm';
import { planNeedleStream } from '../src/needle/render';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import { frameMs, needleFrame } from './needle-frames';

const args = parseArgs(process.argv.slice(2), []);
const frames = numberOption(args, 'frames', { min: 1, integer: true }) ?? 600;
const every = numberOption(args, 'every', { min: 1, integer: true }) ?? 100;
const snapshots = option(args, 'heap-snapshots');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const gpu = await acquireNodeGpu();
const model = await SmolVlm.load(gpu, modelSourceOf(option(args, 'model') ?? 'tools/fixtures/needle-vlm'), {});
const engine = await StreamEngine.create(model, {});
const stream = planNeedleStream({ seed: 7100, frames: Math.min(frames, 5000), depths: [0.5] });
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
let base: { rss: number; heap: number; buffers: number; store: number; n: number } | null = null;
console.log('| frames | RSS MiB | V8 heap MiB | ArrayBuffers MiB | store + side MiB | per frame since the first row: RSS / heap / buffers / store KiB |');
console.log('| ---: | ---: | ---: | ---: | ---: | --- |');
for (let i = 0; i < frames; i++) {
  await engine.ingest(needleFrame(stream, i % stream.frames), frameMs(i));
  if ((i + 1) % every !== 0) continue;
  gc();
  const m = process.memoryUsage();
  const s = engine.stats();
  const row = { rss: m.rss, heap: m.heapUsed, buffers: m.arrayBuffers, store: s.storeBytes + s.storeSideBytes, n: i + 1 };
  base ??= row;
  if (snapshots) writeHeapSnapshot(`${snapshots}/frames-${row.n}.heapsnapshot`);
  const per = (k: 'rss' | 'heap' | 'buffers' | 'store') => (row.n === base!.n ? '-' : ((row[k] - base![k]) / (row.n - base!.n) / 1024).toFixed(2));
  console.log(`| ${row.n} | ${mib(row.rss)} | ${mib(row.heap)} | ${mib(row.buffers)} | ${mib(row.store)} | ${per('rss')} / ${per('heap')} / ${per('buffers')} / ${per('store')} |`);
}
await engine.dispose();
