// Retrieval variants on the needle task, scored offline from one ingest: needle streams go through
// one memory engine at raw K/V (so every stored frame's per-token pre-RoPE keys can be read back),
// then every needle question's queries are captured and each scoring variant ranks all stored
// frames. Reports, per variant, recall@k of the needle's frame (needles that left the window only)
// and its mean rank. The variants are what issue 12 asks to compare: which layers score, the mean
// key summary against the max over a frame's tokens, and the similarity itself.
//
//   node dist-node/needle-retrieval-probe.js --model <folder> [--lengths 60,600] [--seeds-per-cell 8]
//     [--first-seed 5000] [--k 8] [--out probe.json] [--policies attention,key-summary,max-sim]
//
// --policies: the engine's retrieval policies (memory/retrieval/registry.ts) also rank every question
// as the engine would, over the same stored frames (variants `policy-<name>`); default: all of them.
//
// The seeds default to 5000 and up: neither training (≥ 1 000 000) nor the benchmark's (1000 …).
import { writeFileSync } from 'node:fs';
import { numberOption, option, parseArgs } from '../src/cli/args';
import { modelSourceOf } from '../src/cli/model-source';
import { modelLoadOptions } from '../src/cli/load-options';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import { StreamEngine } from '../src/engine/stream-engine';
import { payloadLayout } from '../src/memory/payload';
import { SmolVlm } from '../src/families/smolvlm/smolvlm';
import { planNeedleStream } from '../src/needle/render';
import { frameMs, needleFrame } from './needle-frames';
import { planJobs } from './needle-plan';
import { AttentionKeys } from '../src/memory/attention-keys';
import { rankByAttention } from '../src/memory/retriever';
import { isRetrievalPolicyName, RETRIEVAL_POLICIES, retrievalPolicy } from '../src/memory/retrieval/registry';
import { dequantizeKeysRef, quantizeKeysRef } from '../src/reference/kvquant';
import { scoreVariants, variantNames, type FrameKeys, type QuestionQueries, type ProbeShape } from './retrieval-variants';

const started = performance.now();
const log = (line: string) => console.error(`[probe ${((performance.now() - started) / 1000).toFixed(1)}s] ${line}`);
const args = parseArgs(process.argv.slice(2), []);
const model = option(args, 'model') ?? 'tools/fixtures/needle-vlm';
const lengths = (option(args, 'lengths') ?? '60,600').split(',').map(Number);
const seedsPerCell = numberOption(args, 'seeds-per-cell', { min: 1 }) ?? 8;
const firstSeed = numberOption(args, 'first-seed', { min: 0 }) ?? 5000;
const k = numberOption(args, 'k', { min: 1 }) ?? 8;
const out = option(args, 'out') ?? 'probe.json';
const windowFrames = 16;
const policies = (option(args, 'policies') ?? Object.keys(RETRIEVAL_POLICIES).join(',')).split(',').filter((p) => p !== '');
for (const p of policies) if (!isRetrievalPolicyName(p)) throw new Error(`--policies: ${p} is not one of ${Object.keys(RETRIEVAL_POLICIES).join(', ')}`);

const gpu = await acquireNodeGpu();
const vlm = await SmolVlm.load(gpu, modelSourceOf(model), modelLoadOptions({ weightFormat: 'f16', precision: 'f32' }, gpu));
const t = vlm.config.text;
const shape: ProbeShape = { layers: t.numLayers, heads: t.numHeads, kvHeads: t.numKvHeads, headDim: t.headDim, imageTokens: vlm.processor.imageSeqLen };
log(`adapter ${gpu.adapter.vendor} ${gpu.adapter.description}; model ${model}`);

interface Row {
  seed: number;
  frames: number;
  family: string;
  depth: number;
  needleFrame: number;
  ranks: Record<string, number>;
}
const rows: Row[] = [];
const families = ['color', 'time', 'presence'];
/** Writes the table so far (after every stream: a run cut short keeps what it measured); prints it when `print`. */
function report(print: boolean): void {
  const table = [...variantNames(shape.layers), 'engine-raw-exact', 'engine-raw-2pass', 'engine-q4-exact', 'engine-q4-2pass', ...policies.map((p) => `policy-${p}`)].map((name) => {
    const cell = (rs: Row[]) => ({ recall: rs.filter((r) => r.ranks[name] < k).length / Math.max(1, rs.length), meanRank: rs.reduce((a, r) => a + r.ranks[name], 0) / Math.max(1, rs.length), n: rs.length });
    return { name, all: cell(rows), ...Object.fromEntries(families.map((f) => [f, cell(rows.filter((r) => r.family === f))])), ...Object.fromEntries(lengths.map((l) => [`len${l}`, cell(rows.filter((r) => r.frames === l))])) };
  });
  table.sort((a, b) => b.all.recall - a.all.recall || a.all.meanRank - b.all.meanRank);
  writeFileSync(out, JSON.stringify({ adapter: `${gpu.adapter.vendor} ${gpu.adapter.description}`, model, lengths, seedsPerCell, firstSeed, k, windowFrames, table, rows }, null, 1));
  if (!print) return;
  for (const r of table) {
    const f = (c: { recall: number; meanRank: number; n: number }) => `${(100 * c.recall).toFixed(0).padStart(3)}% (${c.meanRank.toFixed(1)})`;
    const rec = r as unknown as Record<string, { recall: number; meanRank: number; n: number }>;
    console.log(`${r.name.padEnd(28)} all ${f(r.all)} n=${r.all.n} | ${families.map((x) => `${x} ${f(rec[x])}`).join(' ')} | ${lengths.map((l) => `${l}f ${f(rec[`len${l}`])}`).join(' ')}`);
  }
}
const jobs = planJobs({ lengths, depths: [0, 0.25, 0.5, 0.75, 1], seedsPerCell, firstSeed, needlesPerStream: 3 });
for (const job of jobs) {
  const stream = planNeedleStream({ seed: job.seed, frames: job.frames, depths: job.depths, needles: job.depths.length });
  const depthOf = new Map(job.depths.map((d) => [Math.round(d * (job.frames - 1)), d]));
  const engine = await StreamEngine.create(vlm, { windowFrames, topK: k, kvBits: 'none', maxAnswerTokens: 8 });
  try {
    for (let i = 0; i < job.frames; i++) await engine.ingest(needleFrame(stream, i), frameMs(i));
    const store = engine.store;
    const frames: FrameKeys[] = [];
    const geometry = { layers: t.numLayers, heads: t.numHeads, kvHeads: t.numKvHeads, headDim: t.headDim, layer: 0 };
    const indexes = policies.map((name) => ({ name, index: retrievalPolicy(name).createIndex(geometry) }));
    for (let i = 0; i < store.frames; i++) {
      const block = await store.load(i);
      for (const { index } of indexes) index.add({ position: i, block, payload: block.payload, unitSummary: block.keySummary });
      if (block.dtype !== 'f32') throw new Error(`probe needs f32 blocks, got ${block.dtype}`);
      const layout = payloadLayout({ layers: block.layers, tokens: block.tokens, channels: block.channels, bits: 'none', keyGroup: block.keyGroup, dtype: 'f32' });
      const all = new Float32Array(block.payload.buffer, block.payload.byteOffset, block.payload.byteLength / 4);
      frames.push({ index: Math.round(block.timestampMs / 1000), tokens: block.tokens, keys: layout.layers.map((s) => all.subarray(s.keys.offset / 4, (s.keys.offset + s.keys.bytes) / 4)) });
    }
    const engineKeys = { raw: new AttentionKeys(shape), q4: new AttentionKeys(shape) };
    const ch = shape.kvHeads * shape.headDim;
    frames.forEach((f, i) => {
      engineKeys.raw.set(i, f.keys[0], f.tokens);
      engineKeys.q4.set(i, dequantizeKeysRef(quantizeKeysRef(f.keys[0], f.tokens, ch, 4, 128), f.tokens, ch, 4, 128), f.tokens);
    });
    for (const q of stream.questions) {
      const needle = stream.needles.find((n) => n.shape === q.shape);
      if (!needle) continue; // a presence question about an absent shape has no frame to find
      const at = frames.findIndex((f) => f.index === needle.frame);
      if (at < 0) continue; // still in the window: retrieval is not asked to find it
      const queries: QuestionQueries = {
        bare: await engine.questionQueries(q.question, 'bare'),
        piece: await engine.questionQueries(q.question, 'piece'),
      };
      const scores = scoreVariants(frames, queries, shape);
      const ranks: Record<string, number> = {};
      for (const [name, s] of scores) ranks[name] = s.reduce((n, v, i) => n + (i !== at && (v > s[at] || (v === s[at] && i < at)) ? 1 : 0), 0);
      // the engine's own ranking (retriever.ts) at the retrieval layer, exact and in two passes, on raw keys and on
      // keys through 4-bit quantization (the reference quantizer is bit-exact with the GPU's): a rank past the
      // candidates the first pass kept counts as a miss
      const width = shape.heads * shape.headDim;
      const q0 = queries.bare.queries.subarray(0, queries.bare.tokens * width);
      for (const [tag, keys] of [['raw', engineKeys.raw], ['q4', engineKeys.q4]] as const) {
        for (const [mode, exactUpTo] of [['exact', Infinity], ['2pass', 256]] as const) {
          const r = await rankByAttention(q0, queries.bare.tokens, keys, frames.length, k, exactUpTo);
          const mine = r.scores.get(at);
          ranks[`engine-${tag}-${mode}`] = mine === undefined ? frames.length : [...r.scores.entries()].filter(([i, v]) => i !== at && (v > mine || (v === mine && i < at))).length;
        }
      }
      // the engine's registered policies, each ranking the question as an engine made with it would
      for (const { name, index } of indexes) {
        const r = await index.rank(queries.bare, k, store);
        const mine = r.scores.get(at);
        ranks[`policy-${name}`] = mine === undefined ? frames.length : [...r.scores.entries()].filter(([i, v]) => i !== at && (v > mine || (v === mine && i < at))).length;
      }
      rows.push({ seed: job.seed, frames: job.frames, family: q.family, depth: depthOf.get(needle.frame) ?? -1, needleFrame: needle.frame, ranks });
    }
  } finally {
    await engine.dispose();
  }
  log(`seed ${job.seed}, ${job.frames} frames: ${rows.length} questions so far`);
  report(false);
}
report(true);

process.exit(0);
