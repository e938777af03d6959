import { expect, test } from '@playwright/test';
import { loadNeedleModel } from '../support/demo-needle-page';

// The demo page shows a GPU device loss and the recovery (issue #14): `?loseDevice` adds a button
// that really destroys the engine's GPUDevice; the status line says it is recovering, then that it
// recovered with the memory intact, and the live stats count the loss. (The answers' survival is
// tested through the SDK in device-loss.spec.ts.)

test('the demo reports a lost GPU device and its recovery', async ({ page }) => {
  test.setTimeout(170_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await loadNeedleModel(page, '&loseDevice&window=4');
  const status = page.locator('#gpu-status');
  await expect(status).toBeHidden();
  await page.getByRole('button', { name: 'Lose the GPU device' }).click();
  await expect(status).toHaveAttribute('data-state', /lost|recovered/, { timeout: 30_000 });
  await expect(status).toHaveAttribute('data-state', 'recovered', { timeout: 120_000 });
  await expect(status).toContainText('the memory is intact');
  await expect(page.locator('[data-stat="gpu-losses"]')).toContainText('1 (1 recovered, no frame lost)', { timeout: 10_000 });
  await expect(page.locator('[data-stat="ranking"]')).toHaveText(/^WebAssembly SIMD, (\d+ worker threads|in the engine worker)$/);
  await expect(page.locator('#error')).toBeHidden();
  expect(errors).toEqual([]);
});

test('the demo reports a GPU device lost while the model loads, and the load goes on on a new device', async ({ page }) => {
  test.setTimeout(170_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // the first load's device is destroyed as its weights upload (the SDK's test hook, through ?loseDeviceAtLoad)
  await loadNeedleModel(page, '&loseDeviceAtLoad&window=4');
  const status = page.locator('#gpu-status');
  await expect(status).toHaveAttribute('data-state', 'recovered');
  await expect(status).toContainText('during loading');
  await expect(page.locator('#model-info')).toContainText('Ready');
  await expect(page.locator('#error')).toBeHidden();
  expect(errors).toEqual([]);
});
