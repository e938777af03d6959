import { expect, test } from '@playwright/test';
import { chromiumExecutable } from '../support/chromium';
import { cameraArgs, DEMO, shotPath } from '../support/demo-page';

// The demo when the camera exists but the page may not use it: no permission granted and no flag
// that accepts the request, so getUserMedia is refused.
test.use({ launchOptions: { executablePath: chromiumExecutable(), args: cameraArgs() } });

// chromium-headless-shell (the GPU machine's browser) has no media permission model: there,
// getUserMedia without a granted permission fails with NotSupportedError, never NotAllowedError
// (checked with an explicit CDP 'denied' setting too), so the refusal can only be tested in Chromium.
const headlessShell = /headless-shell/.test(chromiumExecutable() ?? '');

test.describe('camera permission denied', () => {
  // the fake camera exists, but this context was not granted it: the permission request is refused
  test.use({ permissions: [] });

  test('the page says camera access was denied and how to allow it', async ({ page }) => {
    test.skip(headlessShell, 'chromium-headless-shell cannot refuse a camera permission (NotSupportedError)');
    await page.goto(DEMO);
    await page.getByRole('button', { name: 'Load model' }).click();
    await expect(page.locator('#model-info')).toContainText('Ready', { timeout: 60_000 });
    await page.getByRole('button', { name: 'Use the camera' }).click();
    const error = page.locator('#error');
    await expect(error).toBeVisible();
    await expect(error).toHaveAttribute('data-code', 'CAMERA_DENIED');
    await expect(error).toContainText('No access to the camera');
    await expect(error).toContainText('Camera access was denied');
    await expect(error).toContainText('Allow camera access');
    await expect(page.locator('#source-status')).toHaveText('No video.');
    await page.screenshot({ path: shotPath('error-camera-denied'), fullPage: true });
  });
});
