import { expect, test, type Page } from '@playwright/test';
import { openSharedHarness } from '../support/harness-page';

// Every kernel family with parity checks. Listed here so each is its own test; the first test
// fails if the registry holds a family this list misses, so none goes untested.
const FAMILIES = ['elementwise', 'copy', 'matmul', 'rope', 'attention', 'norm', 'softmax', 'embedding', 'kvquant', 'sampling', 'resize', 'vision-ops'];

// One page for the file: each test runs its family's checks on the page's GPU device.
let harness: { page: Page; errors: string[] };
test.beforeAll(async ({ browser }, testInfo) => {
  harness = await openSharedHarness(browser, testInfo, 'kernels');
  expect(harness.errors).toEqual([]);
});
test.afterAll(async () => harness?.page.close());

async function openHarness(): Promise<Page> {
  return harness.page;
}

test('the harness sees WebGPU and every kernel family is tested', async () => {
  const page = await openHarness();
  const adapter = await page.evaluate(() => window.harness.adapter());
  console.log(`adapter: ${JSON.stringify(adapter)}`);
  const families = await page.evaluate(() => window.harness.families());
  // a family whose checks are missing would vanish from the registry; this catches it too
  expect(families.sort()).toEqual([...FAMILIES].sort());
});

for (const family of FAMILIES) {
  for (const precision of ['f32', 'f16'] as const) {
    test(`${family} kernels match the TypeScript reference (${precision} math)`, async () => {
      const page = await openHarness();
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
