import { expect, test } from '@playwright/test';
import { questionVectors, retrieve, scoreFrames, topK } from '../../src/memory/retriever';
import { plainDots, RowMatrix, simdAvailable } from '../../src/memory/simd-dot';
import { coarseVector, unitSlices } from '../../src/memory/retrieval-rows';
import { KEY_SUMMARY_POLICY, type KeySummaryIndex } from '../../src/memory/retrieval/key-summary-policy';
import { MemoryStore } from '../../src/memory/store';
import { Random } from '../../src/reference/random';

// Retrieval scoring (host code, run in Node): the question vector, the cosine score against key
// summaries, and the two-pass ranking of large stores.

test('question vectors average tokens and the query heads of each KV group', () => {
  // 1 layer, 2 tokens, 4 heads over 2 KV heads, head_dim 2: heads 0,1 → kv 0; heads 2,3 → kv 1
  const q = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, /* token 1 */ 3, 2, 1, 0, -1, -2, -3, -4]);
  expect([...questionVectors(q, { layers: 1, tokens: 2, heads: 4, kvHeads: 2, headDim: 2 })]).toEqual([(1 + 3 + 3 + 1) / 4, (2 + 4 + 2 + 0) / 4, (5 + 7 - 1 - 3) / 4, (6 + 8 - 2 - 4) / 4]);
});

function naiveScore(q: Float32Array, summary: Float32Array, headDim: number): number {
  let total = 0;
  const slices = q.length / headDim;
  for (let s = 0; s < slices; s++) {
    let dot = 0;
    let qn = 0;
    let kn = 0;
    for (let d = 0; d < headDim; d++) {
      const a = q[s * headDim + d];
      const b = summary[s * headDim + d];
      dot += a * b;
      qn += a * a;
      kn += b * b;
    }
    total += dot / Math.sqrt(qn * kn);
  }
  return total / slices;
}

const shape = { layers: 30, kvHeads: 3, headDim: 64 };
const per = shape.layers * shape.kvHeads * shape.headDim;

function store(rng: Random, frames: number) {
  const raw = new Float32Array(frames * per);
  for (let i = 0; i < raw.length; i++) raw[i] = rng.normal() + 0.3;
  const unit = new Float32Array(raw.length);
  for (let f = 0; f < frames; f++) unit.set(unitSlices(raw.subarray(f * per, (f + 1) * per), shape.headDim), f * per);
  return { raw, unit };
}

/** The first-pass vectors of every frame, as MemoryStore keeps them. */
function coarseRowsOf(unit: Float32Array, frames: number): RowMatrix {
  const rows = new RowMatrix(coarseVector(unit.subarray(0, per), shape).length);
  for (let f = 0; f < frames; f++) coarseVector(unit.subarray(f * per, (f + 1) * per), shape, rows.append());
  return rows;
}

test('SIMD dot products of a query with stored rows equal plain loops (any width, through growth, by index)', () => {
  // Node and every WebGPU browser have WebAssembly SIMD: the fast path is the one tested here
  expect(simdAvailable()).toBe(true);
  const rng = new Random(6);
  for (const width of [8, 64, 1152, 5760, 12 /* not a multiple of 8: plain loops */]) {
    const m = new RowMatrix(width);
    const all: number[] = [];
    // 40 rows of 5760 floats pass the first 64 KiB page several times
    for (let r = 0; r < 40; r++) {
      const row = m.append();
      for (let i = 0; i < width; i++) row[i] = rng.normal();
      all.push(...row);
    }
    const rows = Float32Array.from(all);
    expect(Array.from(m.rows())).toEqual(all.map(Math.fround));
    const q = new Float32Array(width).map(() => rng.normal());
    const every = Int32Array.from({ length: 40 }, (_, i) => i);
    const want = plainDots(q, rows, width, every);
    const got = m.dotAll(q);
    const picked = Int32Array.from([39, 0, 17, 17]);
    const gotPicked = m.dotRows(q, picked);
    for (let r = 0; r < 40; r++) expect(Math.abs(got[r] - want[r])).toBeLessThan(1e-4 * Math.sqrt(width));
    picked.forEach((r, j) => expect(gotPicked[j]).toBeCloseTo(got[r], 4));
    // the query and results are scratch after the rows: the rows are left as they were
    expect(Array.from(m.rows())).toEqual(all.map(Math.fround));
    expect(() => m.dotAll(new Float32Array(width + 1))).toThrow(/a query of/);
  }
});

test('scores are the mean cosine over (layer, KV head) slices', () => {
  const rng = new Random(3);
  const { raw, unit } = store(rng, 20);
  const q = new Float32Array(per).map(() => rng.normal());
  const scores = scoreFrames(q, unit, 20, shape.headDim);
  for (let f = 0; f < 20; f++) expect(scores[f]).toBeCloseTo(naiveScore(q, raw.subarray(f * per, (f + 1) * per), shape.headDim), 5);
});

test('topK: the k largest in index order, ties to the earlier index', () => {
  const s = Float32Array.from([0.5, 0.9, 0.5, 0.1, 0.9, 0.5, 0.7]);
  expect(topK(s, 0)).toEqual([]);
  expect(topK(s, 1)).toEqual([1]);
  expect(topK(s, 2)).toEqual([1, 4]);
  expect(topK(s, 4)).toEqual([0, 1, 4, 6]);
  expect(topK(s, 5)).toEqual([0, 1, 2, 4, 6]);
  expect(topK(s, 9)).toEqual([0, 1, 2, 3, 4, 5, 6]);
});

test('small stores are ranked exactly; large ones in two passes that keep the best frames', () => {
  const rng = new Random(4);
  const q = new Float32Array(per).map(() => rng.normal());
  // small: the same top-k as a full ranking, in time order
  const small = store(rng, 200);
  const r = retrieve(q, RowMatrix.from(small.unit, per), coarseRowsOf(small.unit, 200), shape, 8);
  expect(r.chosen).toEqual(topK(scoreFrames(q, small.unit, 200, shape.headDim), 8));
  expect(r.chosen).toEqual([...r.chosen].sort((a, b) => a - b));
  // large: 3000 frames with 5 planted near-copies of the question; all 5 must be among the chosen
  const big = store(rng, 3000);
  const planted = [17, 640, 1500, 2222, 2999];
  for (const f of planted) {
    const noisy = q.map((x) => x + 0.5 * rng.normal());
    big.unit.set(unitSlices(noisy, shape.headDim), f * per);
  }
  const coarse = coarseRowsOf(big.unit, 3000);
  const unit = RowMatrix.from(big.unit, per);
  let b = retrieve(q, unit, coarse, shape, 8);
  const t0 = performance.now();
  b = retrieve(q, unit, coarse, shape, 8); // warm (the engine calls it once per question)
  const t1 = performance.now();
  scoreFrames(q, big.unit, 3000, shape.headDim);
  console.log(`3000 frames: two-pass retrieval ${(t1 - t0).toFixed(1)} ms, full scoring ${(performance.now() - t1).toFixed(1)} ms (this machine)`);
  for (const f of planted) expect(b.chosen).toContain(f);
  const full = scoreFrames(q, big.unit, 3000, shape.headDim);
  for (const f of b.chosen) expect(b.scores.get(f)).toBeCloseTo(full[f], 5);
});

test('the store keeps every frame\'s unit summary, and the key-summary index its first-pass row, as they grow past their first allocation', () => {
  const rng = new Random(5);
  const meta = { modelKey: 'test', ...shape, bits: 'none' as const, dtype: 'f32' as const };
  const index = KEY_SUMMARY_POLICY.createIndex({ ...shape, heads: shape.kvHeads, layer: 0 }) as KeySummaryIndex;
  const store = new MemoryStore(meta, { index });
  const raw: Float32Array[] = [];
  const frames = 150; // the rows start with room for 64 and double
  for (let i = 0; i < frames; i++) {
    const keySummary = new Float32Array(per).map(() => rng.normal());
    raw.push(keySummary);
    store.add({ index: i, timestampMs: i * 1000, tokens: 1, layers: shape.layers, channels: shape.kvHeads * shape.headDim, bits: 'none', keyGroup: 128, dtype: 'f32', payload: new Uint8Array(2 * shape.layers * shape.kvHeads * shape.headDim * 4), keySummary, thumbnail: { width: 1, height: 1, data: new Uint8Array(3) } });
  }
  const unit = store.unitSummaries().rows();
  const coarse = index.coarseRows().rows();
  const width = coarse.length / frames;
  expect(unit.length).toBe(frames * per);
  for (const f of [0, 63, 64, 127, 149]) {
    const want = unitSlices(raw[f], shape.headDim);
    expect(Array.from(unit.subarray(f * per, (f + 1) * per))).toEqual(Array.from(want));
    expect(Array.from(coarse.subarray(f * width, (f + 1) * width))).toEqual(Array.from(coarseVector(want, shape)));
  }
});
