import { expect, test } from '@playwright/test';
import { planNeedleStream } from '../../src/needle/render';
import { askAndCheck, loadNeedleModel } from '../support/demo-needle-page';
import { shotPath } from '../support/demo-page';

// The whole loop on the demo page with the offline needle test model (tools/fixtures/needle-vlm/,
// served with the page): frames → memory → a typed question → the right colour, with the needle's
// frame outlined on the timeline as a moment the answer used, from the page's own needle clip
// player. Chromium's fake camera playing a needle clip: demo-needle-camera.spec.ts.

test('the page’s needle clip: a question about a needle that left the window gets its colour, and the timeline outlines its frame', async ({ page }) => {
  test.setTimeout(300_000);
  await loadNeedleModel(page, '');
  await page.getByLabel('seed').fill('1');
  await page.getByRole('button', { name: 'Play a needle clip' }).click();
  await expect(page.locator('#source-status')).toContainText('Played needle clip 1: 60 frames', { timeout: 240_000 });
  const stream = planNeedleStream({ seed: 1, frames: 60, needles: 2 });
  // the first needle is the one farthest outside the 16-frame window
  const needle = stream.needles[0];
  expect(needle.frame).toBeLessThan(60 - 16);
  await expect(page.locator('#clip-question-list li')).toContainText([`What color was the ${needle.shape}? → ${needle.color}`]);
  await askAndCheck(page, `What color was the ${needle.shape}?`, needle.color, needle.frame);
  await page.screenshot({ path: shotPath('needle-clip-answer'), fullPage: true });
});
