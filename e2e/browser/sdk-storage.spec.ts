import { expect, test } from '@playwright/test';
import { harnessUrl, openModelHarness } from '../support/harness-page';

// StreamVLM and the browser's storage (issue #14), on the needle model in Chromium: the SDK asks for
// persistent storage and reports the browser's answer (a 'storage' event and stats().storage); a
// full disk — this origin's quota lowered through the DevTools protocol, a real QuotaExceededError —
// makes saveMemory a typed QuotaError and stops the K/V spill, while frames are still ingested and
// questions answered; with room again the save succeeds and the previous one was never damaged.

test('persistent storage is asked for and reported; a full disk is a QuotaError and the stream goes on', async ({ page }) => {
  test.setTimeout(170_000);
  const errors = await openModelHarness(page, harnessUrl('sdk-storage'));
  const started = await page.evaluate(() => window.sdkStorage.start());
  console.log(JSON.stringify(started));
  expect(started.storageEvent.available).toBe(true);
  expect(typeof started.storageEvent.persisted).toBe('boolean');
  expect(started.stats).toEqual(started.storageEvent);
  expect(started.storageEvent.persisted).toBe(started.browserSays);

  let s = await page.evaluate(() => window.sdkStorage.push(0, 10));
  expect(s.frames.ingested).toBe(10);
  expect(await page.evaluate(() => window.sdkStorage.save('before-full'))).toEqual({ blocks: 10 });

  const cdp = await page.context().newCDPSession(page);
  const origin = new URL(page.url()).origin;
  const { usage } = await page.evaluate(() => navigator.storage.estimate());
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage! + 1000 });
  try {
    // the disk is full: the stream goes on (the spill stops, payloads stay in RAM)
    s = await page.evaluate(() => window.sdkStorage.push(10, 20));
    expect(s.frames).toMatchObject({ ingested: 20, failed: 0 });
    expect(s.engine!.spillError).toMatch(/quota/);
    const full = await page.evaluate(() => window.sdkStorage.save('before-full'));
    expect(full).toMatchObject({ name: 'QuotaError', code: 'QUOTA_EXCEEDED', typed: true });
    expect(await page.evaluate(() => window.sdkStorage.ask())).toBeGreaterThan(0);
  } finally {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  }
  // room again: saving works, and the stream kept every frame
  s = await page.evaluate(() => window.sdkStorage.push(20, 24));
  expect(s.frames).toMatchObject({ ingested: 24, failed: 0 });
  expect(await page.evaluate(() => window.sdkStorage.save('after-full'))).toEqual({ blocks: 24 });
  // the save the full disk interrupted left the earlier one whole
  expect(await page.evaluate(() => window.sdkStorage.open('before-full'))).toBe(10);
  await page.evaluate(() => window.sdkStorage.dispose());
  expect(errors).toEqual([]);
});
