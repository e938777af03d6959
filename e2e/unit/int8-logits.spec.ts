import { expect, test } from '@playwright/test';
import { Int8Logits, plainInt8Dots, quantizeRowsInt16 } from '../../src/memory/int8-logits';
import { Random } from '../../src/reference/random';

// The integer dot products under token-level ranking (host code, run in Node, where WebAssembly
// SIMD compiles): the SIMD kernel against the plain loop, at head sizes of 32, 64 and 8, token counts
// and row runs that are not multiples of anything, keys read at a KV group's offset inside wider
// rows; a head size that is not a multiple of 8 takes the plain loop and gives the same numbers.

function randomInt8(rng: Random, n: number): Int8Array {
  return Int8Array.from({ length: n }, () => Math.round(rng.uniform(-127, 127)));
}
function randomInt16(rng: Random, n: number): Int16Array {
  return Int16Array.from({ length: n }, () => Math.round(rng.uniform(-32767, 32767)));
}

test('the SIMD int16·int8 dot products equal the plain loop, row runs and group offsets included', () => {
  const rng = new Random(91);
  for (const [headDim, kvHeads, tokens, rows] of [[32, 2, 21, 13], [64, 3, 78, 27], [8, 1, 1, 1], [64, 3, 5, 90]]) {
    const kernel = new Int8Logits(headDim);
    expect(kernel.simd).toBe(true);
    const stride = kvHeads * headDim;
    const queries = randomInt16(rng, rows * headDim);
    kernel.setQueries(queries);
    // two frames one after the other: the second must not read the first's keys
    for (const frameTokens of [tokens, Math.max(1, tokens - 3)]) {
      const keys = randomInt8(rng, frameTokens * stride);
      kernel.loadKeys(keys);
      for (let g = 0; g < kvHeads; g++) {
        const start = g % rows;
        const count = rows - start;
        const want = plainInt8Dots(queries, keys, headDim, frameTokens, stride, g * headDim, start, count);
        expect(Array.from(kernel.dots(frameTokens, stride, g * headDim, start, count))).toEqual(Array.from(want));
      }
    }
  }
});

test('extreme codes do not overflow: 64 products of 32767·127 and of −32767·−127', () => {
  const kernel = new Int8Logits(64);
  kernel.setQueries(Int16Array.from({ length: 128 }, (_, i) => (i < 64 ? 32767 : -32767)));
  kernel.loadKeys(Int8Array.from({ length: 64 }, () => 127));
  expect(Array.from(kernel.dots(1, 64, 0, 0, 2))).toEqual([64 * 32767 * 127, -64 * 32767 * 127]);
  kernel.loadKeys(Int8Array.from({ length: 64 }, () => -127));
  expect(Array.from(kernel.dots(1, 64, 0, 0, 2))).toEqual([64 * 32767 * 127, -64 * 32767 * 127].map((x) => -x));
});

test('a head size that is not a multiple of 8 takes the plain loop, with the same numbers', () => {
  const rng = new Random(92);
  const kernel = new Int8Logits(12);
  expect(kernel.simd).toBe(false);
  const queries = randomInt16(rng, 5 * 12);
  const keys = randomInt8(rng, 7 * 24);
  kernel.setQueries(queries);
  kernel.loadKeys(keys);
  expect(Array.from(kernel.dots(7, 24, 12, 1, 4))).toEqual(Array.from(plainInt8Dots(queries, keys, 12, 7, 24, 12, 1, 4)));
  expect(() => kernel.setQueries(new Int16Array(13))).toThrow(RangeError);
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
