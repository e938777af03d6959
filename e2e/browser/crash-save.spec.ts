import { expect, test } from '@playwright/test';
import { harnessUrl, openModelHarness } from '../support/harness-page';

// A save that is interrupted at any point leaves the previous save readable (issue #14). Stream A is
// saved, then stream B (another stream, larger) is saved under the same name and interrupted:
// - by a full disk: this origin's quota is set through the DevTools protocol to what is used plus a
//   little more at each step, so the save runs out of room at a different file each time. The save
//   fails with a typed QuotaError and the memory reopens as all of A;
// - by the saving worker being terminated (a closed tab) at moments spread over the save.
// Opening afterwards must give all of A or all of B: never a mix, never a damaged-file error.

test('a save that runs out of quota at any file is a QuotaError, and the previous save reopens whole', async ({ page }) => {
  test.setTimeout(170_000);
  const errors = await openModelHarness(page, harnessUrl('crash-save'));
  const cdp = await page.context().newCDPSession(page);
  const origin = new URL(page.url()).origin;
  const name = 'quota-cut';
  const { bytesOfB } = await page.evaluate((n) => window.crashSave.saveA(n), name);
  const filesOfA = await page.evaluate((n) => window.crashSave.files(n), name);
  expect(filesOfA).toHaveLength(7); // 6 blocks and the index
  const results: { room: number; outcome: unknown }[] = [];
  for (const fraction of [0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1.02]) {
    const usage = await page.evaluate(() => window.crashSave.usage());
    const room = Math.round(bytesOfB * fraction);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + room });
    const outcome = await page.evaluate((n) => window.crashSave.saveB(n), name);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    results.push({ room, outcome });
    if (outcome.error) {
      expect(outcome.error, `room for ${fraction} of B`).toEqual({ name: 'QuotaError', code: 'QUOTA_EXCEEDED', typed: true });
      expect(outcome.reopened, `room for ${fraction} of B`).toBe('A');
      // the failed save took back the room its own files took: the folder is A's alone
      expect(await page.evaluate((n) => window.crashSave.files(n), name)).toEqual(filesOfA);
    } else {
      expect(outcome.reopened).toBe('B');
      // B is saved: put A back for the next step
      await page.evaluate((n) => window.crashSave.saveA(n), name);
    }
  }
  console.log(JSON.stringify(results));
  // most cuts fail the save (the last steps may or may not fit the index and the rounding of usage)
  expect(results.filter((r) => (r.outcome as { error: unknown }).error).length).toBeGreaterThanOrEqual(5);
  expect(errors).toEqual([]);
});

test('a save whose worker is terminated at any moment leaves all of the previous save or all of the new one', async ({ page }) => {
  test.setTimeout(170_000);
  const errors = await openModelHarness(page, harnessUrl('crash-save'));
  const name = 'killed';
  const seen: string[] = [];
  for (const afterMs of [0, 1, 3, 6, 10, 20, 40, 80, 160, 400]) {
    await page.evaluate((n) => window.crashSave.saveA(n), name);
    const r = await page.evaluate(({ n, ms }) => window.crashSave.killedSave(n, ms), { n: name, ms: afterMs });
    seen.push(`${afterMs}ms:${r.finished ? 'finished' : 'killed'}:${JSON.stringify(r.reopened)}`);
    expect(r.reopened, `terminated ${afterMs} ms into the save`).toBe(r.finished ? 'B' : r.reopened === 'B' ? 'B' : 'A');
  }
  console.log(seen.join(' '));
  // the cuts landed before the save's end at least sometimes (else this tests nothing)
  expect(seen.some((s) => s.includes(':killed:"A"'))).toBe(true);
  expect(errors).toEqual([]);
});

test('a save cut while replacing the index where writes are not atomic: the whole copy written first is read', async ({ page }) => {
  const errors = await openModelHarness(page, harnessUrl('crash-save'));
  const r = await page.evaluate(() => window.crashSave.tornIndex('torn'));
  expect(r.tornMain).toBe('B');
  expect(r.tornCopy).toBe('A');
  // the next save sweeps the leftover copy
  expect(r.resaved).toHaveLength(7);
  expect(r.resaved).not.toContain('index.svmi.next');
  expect(errors).toEqual([]);
});
