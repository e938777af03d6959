import { expect, test } from '@playwright/test';
import { harnessUrl } from '../support/harness-page';

// The memory store's RAM budget (src/memory/store.ts) with its OPFS spill (src/platform/browser/opfs-spill.ts),
// in Chromium's Origin Private File System: payloads beyond the budget move to disk oldest first and
// come back bit for bit; a save reads them from there; a vanished file is a MemoryFileError for that
// frame only; a disk that fails keeps everything in RAM; folders of closed tabs are swept, those of
// open tabs (their Web Lock held) are not.

test.beforeEach(async ({ page }) => {
  await page.goto(harnessUrl('persist'));
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
});

test('payloads beyond the RAM budget go to OPFS and come back bit for bit', async ({ page }) => {
  const r = await page.evaluate(() => window.persistHarness.spill());
  expect(r.frames).toBe(8);
  expect(r.spilledFrames).toBe(6);
  expect(r.filesOnDisk).toBe(6);
  expect(r.onDiskBytes).toBe(6 * r.payloadBytes);
  expect(r.loadedEqual).toBe(true);
  expect(r.savedFromSpillEqual).toBe(true);
  expect(r.missingFileError).toMatchObject({ name: 'MemoryFileError' });
  expect(r.missingFileError!.message).toContain('p0000000.kv');
  expect(r.othersStillLoad).toBe(true);
  expect(r.staleRemoved).toBe(true);
  expect(r.heldKept).toBe(true);
  expect(r.removedOnDestroy).toBe(true);
});

test('a disk that fails mid-stream loses nothing: the rest stays in RAM and the error is reported', async ({ page }) => {
  const r = await page.evaluate(() => window.persistHarness.spillFailure());
  expect(r.frames).toBe(8);
  expect(r.spilledFrames).toBe(2);
  expect(r.onDiskBytes).toBe(2 * r.payloadBytes);
  expect(r.spillError).toContain('the disk is full');
  expect(r.loadedEqual).toBe(true);
});
