import { expect, test, type Page } from '@playwright/test';
import { harnessUrl } from '../support/harness-page';

// Every kernel family with parity checks. Listed here so each is its own test; the first test
// fails if the registry holds a family this list misses, so none goes untested.
const FAMILIES = ['elementwise', 'copy', 'matmul', 'rope', 'attention', 'norm', 'softmax', 'embedding', 'kvquant', 'sampling', 'resize', 'vision-ops'];

async function openHarness(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(harnessUrl('kernels'));
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  expect(errors).toEqual([]);
}

test('the harness sees WebGPU and every kernel family is tested', async ({ page }) => {
  await openHarness(page);
  const adapter = await page.evaluate(() => window.harness.adapter());
  console.log(`adapter: ${JSON.stringify(adapter)}`);
  const families = await page.evaluate(() => window.harness.families());
  // a family whose checks are missing would vanish from the registry; this catches it too
  expect(families.sort()).toEqual([...FAMILIES].sort());
});

for (const family of FAMILIES) {
  for (const precision of ['f32', 'f16'] as const) {
    test(`${family} kernels match the TypeScript reference (${precision} math)`, async ({ page }) => {
      await openHarness(page);
      const adapter = await page.evaluate(() => window.harness.adapter());
      test.skip(precision === 'f16' && !adapter.f16, 'adapter has no shader-f16');
      const reports = await page.evaluate(([f, p]) => window.harness.run(f, p), [family, precision] as const);
      expect(reports.length).toBeGreaterThan(0);
      for (const r of reports) {
        console.log(`${r.pass ? 'ok  ' : 'FAIL'} ${r.name} [${precision}] max|e|=${r.maxAbsError.toExponential(2)} ${r.detail ?? ''}`);
        expect.soft(r.pass, `${r.name} [${precision}]: ${r.detail ?? ''} (max |e| ${r.maxAbsError}, ${r.tolerance})`).toBe(true);
      }
    });
  }
}
