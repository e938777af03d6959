import { expect, test, type Page } from '@playwright/test';
import { harnessUrl } from '../support/harness-page';

// Image preprocessing on WebGPU against transformers' SmolVLMImageProcessorPil (tools/fixtures):
// Pillow-exact LANCZOS resizes, tiles + global image, rescale and normalize. The bound is one
// 8-bit step after normalization (2/255); the runtime is expected to be exact, and the count of
// differing elements is reported (and asserted to be 0).
const MODELS = ['tiny-gqa', 'tiny-split'];
const ONE_STEP = 2 / 255;

async function openHarness(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(harnessUrl('preprocess'));
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  expect(errors).toEqual([]);
}

for (const model of MODELS) {
  test(`${model}: pixel values match transformers for every case with images`, async ({ page }) => {
    await openHarness(page);
    const cases = await page.evaluate((m) => window.preprocessHarness.cases(m), model);
    expect(cases).toEqual(expect.arrayContaining(['image', 'image_other', 'two_images', 'video']));
    for (const name of cases) {
      const r = await page.evaluate(([m, c]) => window.preprocessHarness.runCase(m, c), [model, name] as const);
      console.log(
        `${model}/${name}: [${r.shape}] (expected [${r.expectedShape}]) grids ${JSON.stringify(r.rowsCols)} ` +
          `differing ${r.differing}/${r.total}, max|e|=${r.maxErr}${r.maxAt ? ` at ${JSON.stringify(r.maxAt)}` : ''} (${r.ms.toFixed(0)} ms)`,
      );
      expect.soft(r.shape, `${model}/${name} shape`).toEqual(r.expectedShape);
      expect.soft(r.maxErr, `${model}/${name} max error`).toBeLessThanOrEqual(ONE_STEP);
      expect.soft(r.differing, `${model}/${name} differing elements`).toBe(0);
    }
  });
}
