import { expect, test, type Page } from '@playwright/test';

// The demo's error panel: each kind of failure its own advice, worded for people, and no
// "reload the page" where a reload would only repeat the error. Each case fails before any GPU
// work, so they are quick.

async function loadAndFail(page: Page, search: string) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/${search}`);
  await page.getByRole('button', { name: 'Load model' }).click();
  const error = page.locator('#error');
  await expect(error).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('button', { name: 'Load model' })).toBeEnabled();
  expect(errors).toEqual([]);
  return error;
}

test('an unreachable model server is not blamed on the model', async ({ page }) => {
  // port 9 (discard): nothing answers there, the fetch fails as it does offline
  const error = await loadAndFail(page, '?model=http://127.0.0.1:9/models/tiny/');
  await expect(error).toHaveAttribute('data-code', 'MODEL_LOAD');
  await expect(error).toContainText("The model's server could not be reached");
  await expect(error).toContainText('Check the internet connection');
  await expect(error).not.toContainText('No model at that address');
  await expect(error).not.toContainText(/reload/i);
});

test('a model folder that is not there says so and what a folder holds', async ({ page }) => {
  const error = await loadAndFail(page, '?model=/tools/fixtures/no-such-model/');
  await expect(error).toContainText('No model at that address');
  await expect(error).toContainText('must hold config.json');
  await expect(error).not.toContainText(/reload/i);
});

test('a bad option names the setting and how to fix it, without "reload"', async ({ page }) => {
  const error = await loadAndFail(page, '?model=/tools/fixtures/tiny-gqa/&fps=1000');
  await expect(error).toHaveAttribute('data-code', 'INPUT');
  await expect(error).toContainText('fps must be a number in (0, 60]');
  await expect(error).toContainText('Fix the setting named above in the page address');
  await expect(error).not.toContainText(/reload/i);
});
