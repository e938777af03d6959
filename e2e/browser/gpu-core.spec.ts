import { expect, test, type Page } from '@playwright/test';
import { f16BitsToF32, f32ToF16Bits } from '../../src/gpu/f16';
import { preprocessWgsl } from '../../src/gpu/shader';
import { openSharedHarness } from '../support/harness-page';

// One page for the file (the device-loss probe destroys a device of its own, not the page's).
let shared: { page: Page; errors: string[] };
test.beforeAll(async ({ browser }, testInfo) => {
  shared = await openSharedHarness(browser, testInfo, 'kernels');
});
test.afterAll(async () => shared?.page.close());

function harness(): Page {
  return shared.page;
}

test('kernels run inside a dedicated worker (through comlink)', async () => {
  const page = harness();
  const r = await page.evaluate(() => window.harness.inWorker('elementwise'));
  expect(r.inWorker).toBe(true);
  expect(r.reports.length).toBeGreaterThan(0);
  expect(r.reports.filter((x) => !x.pass)).toEqual([]);
});

test('device loss arrives as an event with its reason', async () => {
  const page = harness();
  const r = await page.evaluate(() => window.harness.deviceLoss());
  expect(r.isDeviceLostError).toBe(true);
  expect(r.reason).toBe('destroyed');
  expect(r.message).toContain('GPU device lost (destroyed)');
  expect(r.lostProperty).toBe(true);
});

test('pipelines are cached per variant and override set', async () => {
  const page = harness();
  const r = await page.evaluate(() => window.harness.pipelineCache());
  expect(r.sameVariantReused).toBe(true);
  expect(r.otherVariantDistinct).toBe(true);
});

test('a cached bind group goes when a buffer it binds is destroyed; one of kept buffers is reused', async () => {
  const page = harness();
  const r = await page.evaluate(() => window.harness.bindGroupRelease());
  // the kept pair's bind group only (each frame's went with its buffer), the kept buffers' entries only
  expect(r).toEqual({ cached: 1, entriesGrowth: 2, value: 8 });
});

test('a step plan holds after three consecutive steps whose values move by a fixed amount, and only then', async () => {
  const page = harness();
  const r = await page.evaluate(() => window.harness.stepPlanRules());
  // offsets 2n + 1: traced at 0, 1, 2, then from the plan, every copied row right
  expect(r.affine).toEqual({ ways: ['code', 'code', 'code', 'plan', 'plan', 'plan', 'plan', 'plan'], right: true });
  // a step that throws is no trace: three more steps are traced after it
  expect(r.throwing).toEqual({ ways: ['code', 'threw', 'code', 'code', 'code', 'plan', 'plan', 'plan'], right: true, thrown: true });
  // offsets n²: the steps disagree, so the key is refused and every step is the code's
  expect(r.notAffine).toEqual({ ways: ['code', 'code', 'code', 'code', 'code', 'code', 'code'], right: true });
  // lengths 0, 1, then 3: traces start again at 3
  expect(r.gap).toEqual({ ways: ['code', 'code', 'code', 'code', 'code', 'plan', 'plan'], right: true });
});

test('timestamp queries time each compute pass', async () => {
  const page = harness();
  const r = await page.evaluate(() => window.harness.timing());
  test.skip(!r.supported, 'adapter has no timestamp-query');
  expect(r.passes.length).toBe(2);
  for (const ns of r.passes) expect(ns).toBeGreaterThan(0);
});

test('per-dispatch timing: every dispatch its own timed pass, named by its pipeline', async () => {
  const page = harness();
  const r = await page.evaluate(() => window.harness.timingPerDispatch());
  expect(r.oversizeRefused, 'a timer past the 4096-query limit is a RangeError, not a query set that reads 0').toBe(true);
  test.skip(!r.supported, 'adapter has no timestamp-query');
  expect(r.passes.length).toBe(r.dispatches);
  expect(r.passes.map((p) => p.label.split('|')[0])).toEqual(['elementwise', 'elementwise', 'elementwise', 'norm']);
  expect(r.passes[3].label).toContain('rms_norm');
  for (const p of r.passes) expect(p.ns).toBeGreaterThan(0);
});

test('WGSL variants: #if/#elif/#else resolve, unknown names are refused', () => {
  const src = 'a\n#if F16\nhalf\n#elif WIDE\nwide\n#else\nnarrow\n#endif\nz';
  expect(preprocessWgsl(src, { F16: true, WIDE: true })).toMatch(/a\s*half\s*z/);
  expect(preprocessWgsl(src, { F16: false, WIDE: true })).toMatch(/a\s*wide\s*z/);
  expect(preprocessWgsl(src, { F16: false, WIDE: false })).toMatch(/a\s*narrow\s*z/);
  expect(() => preprocessWgsl(src, { F16: false })).toThrow(/WIDE/);
});

test('f16 conversion rounds to nearest even and keeps subnormals, infinities and NaN', () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00],
    [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
    [Infinity, 0x7c00], [-Infinity, 0xfc00], [0.1, 0x2e66],
  ];
  for (const [x, bits] of cases) expect(f32ToF16Bits(x), `f16(${x})`).toBe(bits);
  expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN)))).toBe(true);
  for (let b = 0; b < 0x7c00; b += 37) expect(f32ToF16Bits(f16BitsToF32(b))).toBe(b);
});
