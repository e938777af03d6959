import { expect, test } from '@playwright/test';
import { harnessUrl, openModelHarness } from '../support/harness-page';

// Ranking workers (src/memory/ranking-shards.ts) in Chromium: frames' retrieval keys kept by real
// Web Workers rank a question with the same scores, bit for bit, as the same keys kept in the
// page's thread — exact rankings, two-pass rankings and max-sim alike, in WebAssembly SIMD
// (headDim 32) and in the plain loops (headDim 20, not a multiple of 8) — and a worker that dies
// costs one question a ShardLostError, after which the index ranks in its own thread as a store
// that never had workers.

test('keys kept by ranking workers score every frame as the same keys kept in the thread', async ({ page }) => {
  const errors = await openModelHarness(page, harnessUrl('ranking'));
  const simd = await page.evaluate(() => window.rankingHarness.compare({ heads: 4, kvHeads: 2, headDim: 32 }, 1500, 3));
  const plain = await page.evaluate(() => window.rankingHarness.compare({ heads: 2, kvHeads: 1, headDim: 20 }, 700, 2));
  console.log(JSON.stringify({ simd, plain }));
  for (const r of [simd, plain]) {
    expect(r.rankings.exact, r.geometry).toMatchObject({ sameChosen: true, sameScores: true, scored: r.frames });
    // a budget of one multiply-add: max(8k, 256) candidates from the first pass, rescored
    expect(r.rankings['two passes'], r.geometry).toMatchObject({ sameChosen: true, sameScores: true, scored: 256 });
    expect(r.maxSimSame, r.geometry).toBe(true);
    expect(r.bytes[1], r.geometry).toBe(r.bytes[0]);
    expect(r.rankings.exact.chosen).toHaveLength(8);
  }
  expect(simd.simd).toBe(true);
  expect(plain.simd).toBe(false);
  expect(errors).toEqual([]);
});

test('a ranking worker that dies costs one question a ShardLostError; the index then ranks in its own thread, as without workers', async ({ page }) => {
  const errors = await openModelHarness(page, harnessUrl('ranking'));
  const r = await page.evaluate(() => window.rankingHarness.workerDies());
  console.log(JSON.stringify(r));
  expect(r.firstError).toMatch(/^ShardLostError: ranking worker 1 failed: .*ranking worker crashed/);
  expect(r.threadsAfter).toBe(0);
  expect(r.sameChosen).toBe(true);
  expect(r.sameScores).toBe(true);
  expect(r.chosen).toHaveLength(4);
  // the dying worker's own uncaught error is the browser's report of the crash, not the page's
  expect(errors.filter((e) => !e.includes('ranking worker crashed'))).toEqual([]);
});
