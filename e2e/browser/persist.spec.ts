import { expect, test, type Page } from '@playwright/test';
import type { Damage } from './harness/persist';
import { harnessUrl } from '../support/harness-page';

// Memory persistence in Chromium's Origin Private File System (src/memory/persist.ts): frame blocks
// saved and reopened bit for bit, saves that write only what changed, and files damaged on disk
// refused with a MemoryFileError naming the file, with nothing half-loaded.

async function open(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(harnessUrl('persist'));
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  return errors;
}

test('round trip: blocks reopen bit for bit; saves are incremental; a new stream replaces the old', async ({ page }) => {
  const errors = await open(page);
  for (const [bits, dtype] of [[4, 'f32'], [2, 'f16'], ['none', 'f16'], ['none', 'f32']] as const) {
    const r = await page.evaluate(([b, d]) => window.persistHarness.roundTrip(b, d), [bits, dtype] as const);
    expect(r.equal, `${bits}/${dtype}`).toEqual([true, true, true, true]);
    expect(r.counts).toEqual([8, 12, 10, 3]);
    const summary = r.reports.map(({ blocks, written, kept, removed }) => ({ blocks, written, kept, removed }));
    expect(summary).toEqual([
      { blocks: 8, written: 8, kept: 0, removed: 0 },
      { blocks: 12, written: 4, kept: 8, removed: 0 }, // only the 4 new frames are written
      { blocks: 12, written: 0, kept: 12, removed: 0 },
      { blocks: 10, written: 0, kept: 10, removed: 2 },
      { blocks: 3, written: 3, kept: 0, removed: 10 },
    ]);
    expect(r.reports[2].bytesWritten).toBeLessThan(1000); // the index alone
    expect(r.names).toContain(`round-${bits}-${dtype}`);
  }
  expect(errors).toEqual([]);
});

// [damage, file named, problem, whether a plain save over it repairs it]
const DAMAGE: [Damage, RegExp, RegExp, boolean][] = [
  ['truncate-block', /b0000002-[0-9a-f]{8}\.svmb$/, /bytes, the index says/, true],
  ['flip-payload-byte', /b0000002-[0-9a-f]{8}\.svmb$/, /checksum mismatch/, false],
  ['flip-header-byte', /b0000002-[0-9a-f]{8}\.svmb$/, /checksum mismatch/, false],
  ['missing-block', /b0000002-[0-9a-f]{8}\.svmb$/, /missing \(listed in the index\)/, true],
  ['swap-blocks', /b0000002-[0-9a-f]{8}\.svmb$/, /checksum mismatch with the index/, false],
  ['truncate-index', /index\.svmi$/, /truncated or corrupt/, true],
  ['flip-index-byte', /index\.svmi$/, /checksum mismatch|not valid JSON/, true],
  ['index-version', /index\.svmi$/, /format version 4; this streamvlm reads versions 2 and 3/, true],
  ['empty-index', /index\.svmi$/, /truncated \(0 bytes\)/, true],
  // issue #14: checksums right, sizes absurd — refused by name, before anything is sized by them
  ['absurd-block-layers', /b0000002-[0-9a-f]{8}\.svmb$/, /layers 4294967295 is outside 1…256/, false],
  ['absurd-meta-layers', /index\.svmi$/, /meta\.layers 4000000000 is more than 256/, true],
  ['nan-timestamp', /index\.svmi$/, /entry 1 \(block 1\) has timestamp NaN ms/, true],
];

test('damaged files: a MemoryFileError naming the file; nothing half-loaded; saving again repairs', async ({ page }) => {
  const errors = await open(page);
  for (const [kind, file, problem, saveRepairs] of DAMAGE) {
    const r = await page.evaluate((k) => window.persistHarness.damage(k), kind);
    expect(r.error, kind).not.toBeNull();
    expect(r.error!.name, kind).toBe('MemoryFileError');
    expect(r.error!.file, kind).toMatch(new RegExp(`^streamvlm-memory/damaged-${kind}/`));
    expect(r.error!.file, kind).toMatch(file);
    expect(r.error!.message, kind).toMatch(problem);
    expect(r.resaved, `${kind}: a plain save over it repairs it`).toBe(saveRepairs);
    expect(r.recovered, `${kind}: repaired, the memory opens whole`).toBe(true);
  }
  expect(errors).toEqual([]);
});

test('refusals: unknown name, unsafe name, blocks out of order or unlike the meta are InputErrors', async ({ page }) => {
  await open(page);
  const r = await page.evaluate(() => window.persistHarness.refusals());
  expect(r['missing']).toMatchObject({ name: 'InputError', message: expect.stringContaining('nothing is saved as "never-saved"') });
  expect(r['bad name']).toMatchObject({ name: 'InputError', message: expect.stringContaining('memory name "../escape"') });
  expect(r['out of order']).toMatchObject({ name: 'InputError', message: expect.stringContaining('stream order') });
  expect(r['meta mismatch']).toMatchObject({ name: 'InputError', message: expect.stringContaining("does not match the store's meta") });
  expect(r['deleted']).toMatchObject({ name: 'InputError', message: expect.stringContaining('nothing is saved as "to-delete"') });
});

test('an opened memory stays on disk until a question needs a frame; a file changed after opening is refused when read', async ({ page }) => {
  const errors = await open(page);
  const r = await page.evaluate(() => window.persistHarness.openedLazily());
  expect(r.onDisk).toBe(4);
  expect(r.onDiskBytes).toBe(4 * r.payloadBytes);
  expect(r.allEqual).toBe(true);
  expect(r.damagedError).toMatchObject({ name: 'MemoryFileError', message: expect.stringMatching(/b0000002-.*\.svmb: checksum mismatch/) });
  expect(r.othersEqual).toBe(true);
  // adopted into a store with a spill before the saved memory was deleted: on the spill, intact
  expect(r.adopted).toEqual({ spilled: 4, onDiskBytes: 4 * r.payloadBytes, equalAfterDelete: true });
  expect(errors).toEqual([]);
});

test('a memory saved by format version 2 (key groups of 32) opens with its blocks as they were, and saves again as version 3', async ({ page }) => {
  const errors = await open(page);
  const r = await page.evaluate(() => window.persistHarness.olderVersion());
  expect(r.onDisk).toEqual(Array(3).fill({ version: 2, keyGroupField: 0 }));
  expect(r.keyGroups).toEqual([32, 32, 32]);
  expect(r.allEqual).toBe(true);
  expect(r.resaved).toEqual(Array(3).fill({ version: 3, keyGroupField: 32 }));
  expect(r.resavedEqual).toBe(true);
  expect(errors).toEqual([]);
});
