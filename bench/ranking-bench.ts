// What ranking the stored frames costs a question (the host-side part of the time to the first
// token), as the store grows: the default policy's rankByAttention at the needle model's and
// SmolVLM2-256M's retrieval geometry, beside the same-run baseline of the scalar JavaScript loop it
// replaced (f32 queries · int8 keys, one multiply-add at a time), on the same keys and frames.
//
//   node dist-node/ranking.js [--frames 1000,3600,12000,20000] [--question-tokens 10] [--repeats 3] [--threads 0,2,4]
//
// --threads: ranking worker threads (ranking-shards.ts) to time, each against the same keys; 0 is the
// caller's thread alone, and every other count's rankings are checked against it, score for score.
//
// Random keys (normal) and queries; the figure is the best of --repeats runs. It also checks that
// both scorers put the same frames in the top 8 of the exactly ranked pool.
import { numberOption, option, parseArgs } from '../src/cli/args';
import { availableParallelism } from 'node:os';
import { AttentionKeys, quantizeKeysInt8 } from '../src/memory/attention-keys';
import { RankingShards } from '../src/memory/ranking-shards';
import { nodeRankingWorkers } from '../src/platform/node/ranking-workers';
import { RANK_BUDGET_MACS, rankByAttention, topK } from '../src/memory/retriever';
import { rankingPath } from '../src/memory/simd-dot';
import { Random } from '../src/reference/random';

interface Geometry {
  name: string;
  heads: number;
  kvHeads: number;
  headDim: number;
  frameTokens: number;
}

const GEOMETRIES: Geometry[] = [
  { name: 'needle model', heads: 4, kvHeads: 2, headDim: 32, frameTokens: 20 },
  { name: 'SmolVLM2-256M', heads: 9, kvHeads: 3, headDim: 64, frameTokens: 78 },
];

const args = parseArgs(process.argv.slice(2), []);
const sizes = (option(args, 'frames') ?? '1000,3600,12000,20000').split(',').map(Number);
const questionTokens = numberOption(args, 'question-tokens', { min: 1, integer: true }) ?? 10;
const repeats = numberOption(args, 'repeats', { min: 1, integer: true }) ?? 3;

/** The scorer before int8-logits.ts: attention mass with scalar f32·int8 dot products. */
function scalarScores(frames: { codes: Int8Array; scales: Float32Array }[], g: Geometry, queries: Float32Array, pool: Int32Array): Float32Array {
  const { heads, kvHeads, headDim, frameTokens: tokens } = g;
  const ch = kvHeads * headDim;
  const group = heads / kvHeads;
  const invSqrt = 1 / Math.sqrt(headDim);
  const out = new Float32Array(pool.length);
  const logits = new Float64Array(tokens);
  for (let n = 0; n < pool.length; n++) {
    const f = frames[pool[n]];
    let total = 0;
    for (let qt = 0; qt < questionTokens; qt++)
      for (let h = 0; h < heads; h++) {
        const qo = (qt * heads + h) * headDim;
        const gi = Math.floor(h / group);
        let max = -Infinity;
        for (let t = 0; t < tokens; t++) {
          const ko = t * ch + gi * headDim;
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += queries[qo + d] * f.codes[ko + d];
          const x = dot * f.scales[t * kvHeads + gi] * invSqrt;
          logits[t] = x;
          if (x > max) max = x;
        }
        let sum = 0;
        for (let t = 0; t < tokens; t++) sum += Math.exp(logits[t] - max);
        total += max + Math.log(sum);
      }
    out[n] = total / (questionTokens * heads);
  }
  return out;
}

async function best(run: () => unknown): Promise<number> {
  let ms = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await run();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

const threadCounts = (option(args, 'threads') ?? '0').split(',').map(Number);
const parallel = (threads: number) => (threads > 0 ? nodeRankingWorkers(threads) : undefined);
if (threadCounts.some((t) => t > 0 && !parallel(t))) throw new Error('--threads needs dist-node/ranking-worker.js beside this script (npm run build:node -- --mode bench)');

console.log(`ranking path: ${rankingPath()}; ${questionTokens} question tokens; budget ${RANK_BUDGET_MACS.toExponential(1)} multiply-adds; best of ${repeats}; ${availableParallelism()} cores; Node ${process.version}`);
console.log('| geometry | stored frames | ranked exactly | ranking threads | rankByAttention ms | exact pass: int8-logits ms | exact pass: scalar loop ms (baseline) | speed-up | same top 8 | same ranking as 0 threads |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |');
for (const g of GEOMETRIES) {
  const ch = g.kvHeads * g.headDim;
  const shape = { heads: g.heads, kvHeads: g.kvHeads, headDim: g.headDim };
  const maxFrames = Math.max(...sizes);
  // the same keys for every thread count (each AttentionKeys quantizes them alike)
  const rng = new Random(4242);
  const frameKeys = Array.from({ length: maxFrames }, () => new Float32Array(g.frameTokens * ch).map(() => rng.normal()));
  // the same int8 codes and scales AttentionKeys keeps, for the baseline
  const copies = frameKeys.map((k) => quantizeKeysInt8(k, g.frameTokens, g.kvHeads, g.headDim));
  const queries = new Float32Array(questionTokens * g.heads * g.headDim).map(() => rng.normal());
  const perFrame = questionTokens * g.heads * g.headDim * g.frameTokens;
  const reference = new Map<number, { chosen: number[]; scores: Map<number, number> }>();
  const reference0 = new Map<number, { slowMs: number; top: string }>();
  for (const threads of threadCounts) {
    const keys = new AttentionKeys(shape, threads > 0 ? new RankingShards(parallel(threads)!.spawn, threads, g.headDim, g.kvHeads) : null);
    frameKeys.forEach((k, i) => keys.set(i, k, g.frameTokens));
    for (const frames of sizes) {
      const exact = Math.min(frames, Math.max(256, Math.floor(RANK_BUDGET_MACS / perFrame)));
      const pool = Int32Array.from({ length: exact }, (_, i) => Math.floor((i * frames) / exact));
      let ranked: { chosen: number[]; scores: Map<number, number> } | null = null;
      const rankMs = await best(async () => (ranked = await rankByAttention(queries, questionTokens, keys, frames, 8)));
      let fast: Float32Array = new Float32Array(0);
      let slow: Float32Array = new Float32Array(0);
      const fastMs = await best(async () => (fast = await keys.score(queries, questionTokens, pool)));
      // the scalar baseline once per size (the first thread count's row): it does not depend on the threads
      const baseline = reference0.get(frames);
      const slowMs = baseline ? baseline.slowMs : await best(() => (slow = scalarScores(copies, g, queries, pool)));
      if (!baseline) reference0.set(frames, { slowMs, top: topK(slow, 8).join() });
      const same = topK(fast, 8).join() === reference0.get(frames)!.top;
      const want = reference.get(frames);
      const r = ranked!;
      if (!want) reference.set(frames, r);
      const sameRanking = want ? want.chosen.join() === r.chosen.join() && [...want.scores].every(([f, v]) => r.scores.get(f) === v) && want.scores.size === r.scores.size : null;
      console.log(`| ${g.name} | ${frames} | ${exact} | ${threads} | ${rankMs.toFixed(1)} | ${fastMs.toFixed(1)} | ${slowMs.toFixed(1)} | ${(slowMs / fastMs).toFixed(2)}× | ${same ? 'yes' : 'NO'} | ${sameRanking === null ? '(reference)' : sameRanking ? 'yes, every score' : 'NO'} |`);
    }
    keys.close();
  }
}
