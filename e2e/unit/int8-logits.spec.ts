import { expect, test } from '@playwright/test';
import { Int8Logits, plainInt8Dots, quantizeRowsInt16 } from '../../src/memory/int8-logits';
import { expF32, plainLogitReduce } from '../../src/memory/logit-reduce';
import { Random } from '../../src/reference/random';

// The inner loops of token-level ranking (host code, run in Node, where WebAssembly SIMD compiles):
// the int16·int8 dot products and the logit reduction (max, Σ exp) in SIMD against their plain
// loops — bit for bit, at head sizes of 32, 64 and 8, token counts that are not multiples of 4, row
// runs and KV-group offsets inside wider rows — and against f64 math within f32 rounding.

function randomInt8(rng: Random, n: number): Int8Array {
  return Int8Array.from({ length: n }, () => Math.round(rng.uniform(-127, 127)));
}
function randomInt16(rng: Random, n: number): Int16Array {
  return Int16Array.from({ length: n }, () => Math.round(rng.uniform(-32767, 32767)));
}

const CASES: [headDim: number, kvHeads: number, tokens: number, rows: number][] = [[32, 2, 21, 13], [64, 3, 78, 27], [8, 1, 1, 1], [64, 3, 5, 90]];

test('the SIMD int16·int8 dot products equal the plain loop, row runs and group offsets included', () => {
  const rng = new Random(91);
  for (const [headDim, kvHeads, tokens, rows] of CASES) {
    const kernel = new Int8Logits(headDim, kvHeads);
    expect(kernel.simd).toBe(true);
    const stride = kvHeads * headDim;
    const queries = randomInt16(rng, rows * headDim);
    kernel.setQuestion(queries, new Float32Array(rows).fill(1));
    for (const frameTokens of [tokens, Math.max(1, tokens - 3)]) {
      const keys = randomInt8(rng, frameTokens * stride);
      for (let g = 0; g < kvHeads; g++) {
        const start = g % rows;
        const want = plainInt8Dots(queries, keys, headDim, frameTokens, stride, g * headDim, start, rows - start);
        expect(Array.from(kernel.dots(keys, frameTokens, stride, g * headDim, start, rows - start))).toEqual(Array.from(want));
      }
    }
  }
});

test('extreme codes do not overflow: 64 products of 32767·127 and of −32767·−127', () => {
  const kernel = new Int8Logits(64, 1);
  kernel.setQuestion(Int16Array.from({ length: 128 }, (_, i) => (i < 64 ? 32767 : -32767)), new Float32Array(2).fill(1));
  const big = 64 * 32767 * 127;
  expect(Array.from(kernel.dots(new Int8Array(64).fill(127), 1, 64, 0, 0, 2))).toEqual([big, -big]);
  expect(Array.from(kernel.dots(new Int8Array(64).fill(-127), 1, 64, 0, 0, 2))).toEqual([-big, big]);
});

/** Question rows, one frame's keys and what `frame` must return, computed by the plain loops. */
function frameCase(rng: Random, headDim: number, kvHeads: number, tokens: number, rowsPerGroup: number[]) {
  const rows = rowsPerGroup.reduce((a, b) => a + b, 0);
  const groupStart = Int32Array.from([0, ...rowsPerGroup.map((_, g) => rowsPerGroup.slice(0, g + 1).reduce((a, b) => a + b, 0))]);
  const { codes: queries, scales } = quantizeRowsInt16(new Float32Array(rows * headDim).map(() => rng.normal()), headDim);
  const rowScales = scales.map((s) => s / Math.sqrt(headDim));
  const keys = randomInt8(rng, tokens * kvHeads * headDim);
  const keyScales = new Float32Array(tokens * kvHeads).map(() => rng.uniform(0.005, 0.03));
  // the plain loops on padded rows, as `frame` lays them out
  const t4 = Math.ceil(tokens / 4) * 4;
  const padded = new Int8Array(t4 * kvHeads * headDim);
  padded.set(keys);
  const mask = new Float32Array(t4).fill(-Infinity, tokens);
  const want = new Float32Array(rows * 2);
  for (let g = 0; g < kvHeads; g++) {
    const ks = new Float32Array(t4);
    for (let t = 0; t < tokens; t++) ks[t] = keyScales[t * kvHeads + g];
    const n = rowsPerGroup[g];
    const dots = plainInt8Dots(queries, padded, headDim, t4, kvHeads * headDim, g * headDim, groupStart[g], n);
    plainLogitReduce(dots, n, t4, ks, mask, rowScales.subarray(groupStart[g], groupStart[g] + n), want.subarray(2 * groupStart[g], 2 * (groupStart[g] + n)));
  }
  return { queries, rowScales, keys, keyScales, groupStart, want };
}

test('per frame, each row\'s logit max and Σ exp(logit − max) in SIMD equal the plain loops bit for bit, and f64 math within f32 rounding', () => {
  const rng = new Random(94);
  for (const [headDim, kvHeads, tokens, rowsPerGroup] of [[32, 2, 21, [7, 6]], [64, 3, 78, [9, 0, 18]], [8, 1, 1, [1]], [64, 3, 6, [30, 30, 30]]] as const) {
    const c = frameCase(rng, headDim, kvHeads, tokens, [...rowsPerGroup]);
    const kernel = new Int8Logits(headDim, kvHeads);
    expect(kernel.simd).toBe(true);
    // frame 1 is the case; frames 0 and 2 around it (a shorter one, and one rewritten in place)
    kernel.storeFrame(0, c.keys.subarray(0, kvHeads * headDim), c.keyScales.subarray(0, kvHeads), 1);
    kernel.storeFrame(1, c.keys, c.keyScales, tokens);
    kernel.storeFrame(2, c.keys, c.keyScales, tokens);
    kernel.storeFrame(2, new Int8Array(c.keys.length).fill(3), c.keyScales, tokens);
    kernel.setQuestion(c.queries, c.rowScales);
    const got = Array.from(kernel.frame(1, c.groupStart));
    kernel.frame(0, c.groupStart);
    kernel.frame(2, c.groupStart);
    expect(Array.from(kernel.frame(1, c.groupStart))).toEqual(got);
    expect(got).toEqual(Array.from(c.want));
    // against f64: max q·k·scales and Σ exp over the frame's tokens
    for (let g = 0; g < kvHeads; g++)
      for (let r = c.groupStart[g]; r < c.groupStart[g + 1]; r++) {
        const logits = Array.from({ length: tokens }, (_, t) => {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += c.queries[r * headDim + d] * c.keys[t * kvHeads * headDim + g * headDim + d];
          return dot * c.rowScales[r] * c.keyScales[t * kvHeads + g];
        });
        const max = Math.max(...logits);
        const sum = logits.reduce((s, x) => s + Math.exp(x - max), 0);
        expect(Math.abs(got[2 * r] - max)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(max)));
        expect(Math.abs(got[2 * r + 1] / sum - 1)).toBeLessThan(2e-6);
      }
  }
});

test('frames kept past the first allocation stay readable, and their bytes are counted', () => {
  const rng = new Random(95);
  const c = frameCase(rng, 32, 2, 20, [5, 5]);
  const kernel = new Int8Logits(32, 2);
  for (let i = 0; i < 2000; i++) kernel.storeFrame(i, c.keys, c.keyScales, 20); // 2,000 × 1,520 bytes: past 64 KiB many times over
  expect(kernel.bytes).toBe(2000 * (20 * 64 + 2 * 20 * 4 + 20 * 4));
  kernel.setQuestion(c.queries, c.rowScales);
  for (const i of [0, 1000, 1999]) expect(Array.from(kernel.frame(i, c.groupStart))).toEqual(Array.from(c.want));
  expect(() => kernel.frame(2000, c.groupStart)).toThrow(/frame 2000 has no keys/);
});

test('frames in one call give each frame what frame gives, bit for bit: mixed token counts, an empty group, a frame kept again, and the plain path', () => {
  const rng = new Random(96);
  for (const [headDim, kvHeads, rowsPerGroup] of [[32, 2, [7, 6]], [64, 3, [1, 0, 2]], [12, 1, [3]]] as const) {
    const kernel = new Int8Logits(headDim, kvHeads);
    expect(kernel.simd).toBe(headDim % 8 === 0);
    const cases = [21, 1, 78, 6, 4].map((tokens) => frameCase(rng, headDim, kvHeads, tokens, [...rowsPerGroup]));
    cases.forEach((c, i) => kernel.storeFrame(i, c.keys, c.keyScales, c.keyScales.length / kvHeads));
    // frame 1 kept again with as many tokens (rewritten in place)
    kernel.storeFrame(1, cases[3].keys.subarray(0, kvHeads * headDim), cases[3].keyScales.subarray(0, kvHeads), 1);
    const q = cases[0];
    kernel.setQuestion(q.queries, q.rowScales);
    const list = [4, 0, 2, 1, 3, 2];
    const each = list.flatMap((i) => Array.from(kernel.frame(i, q.groupStart)));
    expect(Array.from(kernel.frames(Int32Array.from(list), q.groupStart))).toEqual(each);
    expect(() => kernel.frames(Int32Array.from([0, 9]), q.groupStart)).toThrow(/frame 9 has no keys/);
  }
});

test('expF32 is within 3e-7 of Math.exp over [−87.3, 0], exact at 0', () => {
  expect(expF32(0)).toBe(1);
  let worst = 0;
  for (let i = 0; i <= 100_000; i++) {
    const x = Math.fround(-87.3 * (i / 100_000));
    worst = Math.max(worst, Math.abs(expF32(x) / Math.exp(x) - 1));
  }
  expect(worst).toBeLessThan(3e-7);
});

test('a head size that is not a multiple of 8 takes the plain loops, with the same results as they give', () => {
  const rng = new Random(92);
  const kernel = new Int8Logits(12, 2);
  expect(kernel.simd).toBe(false);
  const c = frameCase(rng, 12, 2, 7, [3, 2]);
  for (let i = 0; i < 100; i++) kernel.storeFrame(i, c.keys, c.keyScales, 7); // past its first 64 KiB
  kernel.setQuestion(c.queries, c.rowScales);
  expect(Array.from(kernel.frame(99, c.groupStart))).toEqual(Array.from(c.want));
  expect(() => kernel.setQuestion(new Int16Array(13), new Float32Array(1))).toThrow(RangeError);
  expect(() => kernel.storeFrame(0, c.keys.subarray(1), c.keyScales, 7)).toThrow(RangeError);
});

test('int16 query rows come back within half a step of their own scale', () => {
  const rng = new Random(93);
  const values = new Float32Array(4 * 32).map(() => rng.normal() * 3);
  values.fill(0, 32, 64); // an all-zero row: scale 0, codes 0
  const { codes, scales } = quantizeRowsInt16(values, 32);
  expect(scales[1]).toBe(0);
  for (let i = 0; i < values.length; i++) {
    const r = Math.floor(i / 32);
    expect(Math.abs(codes[i] * scales[r] - values[i])).toBeLessThanOrEqual(scales[r] * 0.5 + 1e-7);
  }
});
