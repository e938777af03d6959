import { expect, test } from '@playwright/test';

test('the demo page shows the adapter and passes its self-check', async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.locator('#adapter')).toContainText('Architecture');
  const status = page.locator('#check-status');
  await expect(status).toHaveAttribute('data-state', /pass|fail/, { timeout: 150_000 });
  await page.screenshot({ path: testInfo.outputPath('demo-selfcheck.png'), fullPage: true });
  await expect(status).toHaveAttribute('data-state', 'pass');
  await expect(status).toContainText('Self-check passed');
  // one row per kernel family at least, each marked pass
  const rows = page.locator('#checks tbody tr');
  expect(await rows.count()).toBeGreaterThanOrEqual(9);
  await expect(page.locator('#checks td.fail')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('without WebGPU the demo says so and what to do', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });
  });
  await page.goto('/');
  const message = page.locator('#gpu-message');
  await expect(message).toBeVisible();
  await expect(message).toContainText('WebGPU is not available');
  await expect(message).toContainText('Chrome');
  await expect(page.locator('#check-status')).toHaveAttribute('data-state', 'unavailable');
});
