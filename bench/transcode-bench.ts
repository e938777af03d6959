// How fast a raw memory store is re-encoded for another K/V codec (src/memory/transcode.ts, the
// needle benchmark's --shared-ingest), by the number of lanes re-encoding side by side. The store
// holds copies of one raw block of the needle model's shape (4 layers, 2 KV heads of 32, 29 tokens)
// with random rows; every lane count must give the same bytes, and the time is the figure.
//
//   node dist-node/transcode-bench.js [--frames 600] [--lanes 1,4,16] [--bits 4]
import { numberOption, option, parseArgs } from '../src/cli/args';
import { CommandRecorder } from '../src/gpu/recorder';
import { FrameBlockWriter } from '../src/memory/evict';
import type { KvBits } from '../src/kernels/kvquant-layout';
import { KvCache } from '../src/memory/kv-cache';
import { MemoryStore, type StoreMeta } from '../src/memory/store';
import { transcodeStore } from '../src/memory/transcode';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';

const args = parseArgs(process.argv.slice(2), []);
const frames = numberOption(args, 'frames', { min: 1, integer: true }) ?? 600;
const laneCounts = (option(args, 'lanes') ?? '1,4,16').split(',').map(Number);
const bits = Number(option(args, 'bits') ?? '4') as KvBits;
const [layers, kvHeads, headDim, tokens] = [4, 2, 32, 29];

const gpu = await acquireNodeGpu();
const raw: StoreMeta = { modelKey: 'transcode-bench', layers, kvHeads, headDim, bits: 'none', codec: 'raw', dtype: 'f32' };
const cache = KvCache.create(gpu, { layers, capacity: tokens, kvHeads, headDim, dtype: 'f32' });
let seed = 1;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
for (let l = 0; l < layers; l++) {
  for (const part of ['keys', 'values'] as const) {
    const rows = Float32Array.from({ length: tokens * kvHeads * headDim }, random);
    cache.writeRows(l, part, 0, new Uint8Array(rows.buffer), 0, rows.byteLength);
  }
}
new CommandRecorder(gpu).submit();
const writer = new FrameBlockWriter(gpu, raw);
const thumbnail = { width: 1, height: 1, data: new Uint8Array(3) };
const block = await writer.write(cache, 0, tokens, { index: 0, timestampMs: 0, thumbnail });
writer.destroy();
cache.destroy();
const source = new MemoryStore(raw);
for (let i = 0; i < frames; i++) source.add({ ...block, index: i, timestampMs: i * 1000 });

const target: StoreMeta = { ...raw, bits, codec: `kivi-${bits}` };
let reference: Uint8Array[] | null = null;
console.log(`| lanes | ${frames} frames re-encoded raw → kivi-${bits} | frames/s | same bytes as 1 lane |`);
console.log('| ---: | ---: | ---: | --- |');
for (const lanes of laneCounts) {
  const t0 = performance.now();
  const store = await transcodeStore(gpu, target, source, {}, lanes);
  const s = (performance.now() - t0) / 1000;
  const payloads = await Promise.all(Array.from({ length: store.frames }, async (_, i) => (await store.load(i)).payload));
  reference ??= payloads;
  const same = payloads.every((p, i) => p.length === reference![i].length && p.every((x, j) => x === reference![i][j]));
  console.log(`| ${lanes} | ${s.toFixed(2)} s | ${(frames / s).toFixed(0)} | ${same ? 'yes' : 'NO'} |`);
}
gpu.destroy();
