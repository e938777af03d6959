import { expect, test, type Page } from '@playwright/test';
import { readFileSync, statSync } from 'node:fs';
import type { LoadProgress } from '../../src/model/progress';
import { harnessUrl, openModelHarness } from '../support/harness-page';

// Model downloads in Chromium: byte-level progress through SmolVlm.load's onProgress, the Cache
// Storage copy that serves a reload without the network, truncated downloads refused and never
// cached, and loading without a usable cache (none, or a full disk).

const MODEL = 'tiny-gqa';
const DIR = new URL(`../../tools/fixtures/${MODEL}/`, import.meta.url);
const WEIGHTS = 'model.safetensors';
const WEIGHTS_BYTES = statSync(new URL(WEIGHTS, DIR)).size;
const EXPECTED_TOKENS: number[] = JSON.parse(readFileSync(new URL('expected.json', DIR), 'utf8')).cases.image.generated;
/** The files SmolVlm.load reads from this fixture, with their sizes. */
const FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'processor_config.json', 'chat_template.jinja', 'generation_config.json', WEIGHTS];
const SIZES = Object.fromEntries(FILES.map((f) => [f, statSync(new URL(f, DIR)).size]));

async function openHarness(page: Page) {
  const errors = await openModelHarness(page, harnessUrl('cache'));
  await page.evaluate(() => window.cacheHarness.clear());
  return errors;
}

/** Counts the requests for each fixture file that reach the network (Cache Storage hits do not). */
function countRequests(page: Page): Map<string, number> {
  const counts = new Map<string, number>();
  page.on('request', (r) => {
    const file = new URL(r.url()).pathname.split(`/${MODEL}/`)[1];
    if (file) counts.set(file, (counts.get(file) ?? 0) + 1);
  });
  return counts;
}

function perFile(events: LoadProgress[], phase: LoadProgress['phase']): Map<string, LoadProgress[]> {
  const out = new Map<string, LoadProgress[]>();
  for (const e of events.filter((e) => e.phase === phase)) out.set(e.file, [...(out.get(e.file) ?? []), e]);
  return out;
}

/** Bytes never go back: per file, and across files. */
function expectMonotonic(events: LoadProgress[], what: string, { sameFile = true } = {}) {
  for (let i = 1; i < events.length; i++) {
    if (sameFile) expect(events[i].loadedBytes, `${what} #${i}`).toBeGreaterThanOrEqual(events[i - 1].loadedBytes);
    expect(events[i].overall.loadedBytes, `${what} overall #${i}`).toBeGreaterThanOrEqual(events[i - 1].overall.loadedBytes);
    expect(events[i].overall.totalBytes, `${what} overall total #${i}`).toBeGreaterThanOrEqual(events[i - 1].overall.totalBytes);
  }
}

test('first load streams with byte progress, a reload comes from the cache without a request and generates the same tokens', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = await openHarness(page);
  const requests = countRequests(page);

  const first = await page.evaluate((m) => window.cacheHarness.load({ model: m }), MODEL);
  expect(first.error).toBeUndefined();
  const downloads = perFile(first.events, 'download');
  expect([...downloads.keys()].sort()).toEqual([...FILES].sort());
  for (const [file, events] of downloads) {
    expectMonotonic(events, file);
    expect(events.every((e) => !e.fromCache && e.totalBytes === SIZES[file]), file).toBe(true);
    expect(events.at(-1)!.loadedBytes, file).toBe(SIZES[file]);
  }
  // the weights are reported while they arrive, not only at the end
  const weights = downloads.get(WEIGHTS)!;
  expect(weights.some((e) => e.loadedBytes > 0 && e.loadedBytes < WEIGHTS_BYTES)).toBe(true);
  expectMonotonic(first.events.filter((e) => e.phase === 'download'), 'all downloads', { sameFile: false });
  const lastDownload = first.events.filter((e) => e.phase === 'download').at(-1)!;
  const allBytes = FILES.reduce((n, f) => n + SIZES[f], 0);
  expect(lastDownload.overall).toEqual({ loadedBytes: allBytes, totalBytes: allBytes, files: FILES.length, filesDone: FILES.length });
  // then the tensors go to the GPU, the last upload event covering every tensor byte
  const uploads = first.events.filter((e) => e.phase === 'upload');
  expect(uploads.length).toBeGreaterThan(1);
  expectMonotonic(uploads, 'upload');
  expect(uploads.at(-1)!.loadedBytes).toBe(uploads.at(-1)!.totalBytes);
  expect(uploads.at(-1)!.totalBytes).toBeGreaterThan(WEIGHTS_BYTES * 0.99);
  expect(first.events.at(-1)).toMatchObject({ phase: 'done', loadedBytes: allBytes, fromCache: false });
  expect(first.events.filter((e) => e.phase === 'done')).toHaveLength(1);
  expect(requests.get(WEIGHTS)).toBe(1);

  // every file read is now in Cache Storage, at its size
  const entries = await page.evaluate((m) => window.cacheHarness.entries(m), MODEL);
  expect(Object.fromEntries(entries.map((e) => [e.url.split(`/${MODEL}/`)[1], e.bytes]))).toEqual(SIZES);

  const second = await page.evaluate((m) => window.cacheHarness.load({ model: m, generate: true }), MODEL);
  expect(second.error).toBeUndefined();
  expect(requests.get(WEIGHTS), 'no second request for the weights').toBe(1);
  for (const file of FILES) expect(requests.get(file), file).toBe(1);
  const cachedDownloads = second.events.filter((e) => e.phase === 'download');
  expect(cachedDownloads.length).toBeGreaterThan(0);
  expect(cachedDownloads.every((e) => e.fromCache)).toBe(true);
  expect(perFile(second.events, 'download').get(WEIGHTS)!.at(-1)).toMatchObject({ loadedBytes: WEIGHTS_BYTES, totalBytes: WEIGHTS_BYTES });
  expect(second.events.at(-1)).toMatchObject({ phase: 'done', fromCache: true, loadedBytes: allBytes });
  console.log(`network load ${first.ms.toFixed(0)} ms, ${first.events.length} events; cached load + generate ${second.ms.toFixed(0)} ms`);
  expect(second.tokens).toEqual(EXPECTED_TOKENS);

  // offline (every request fails): what is cached still loads, the probed optional files count as absent
  await page.route(`**/tools/fixtures/${MODEL}/**`, (route) => route.abort('internetdisconnected'));
  const offline = await page.evaluate((m) => window.cacheHarness.load({ model: m }), MODEL);
  expect(offline.error).toBeUndefined();
  expect(offline.events.at(-1)).toMatchObject({ phase: 'done', fromCache: true });
  expect(errors.filter((e) => !e.includes('ERR_INTERNET_DISCONNECTED'))).toEqual([]);
});

for (const lie of [false, true]) {
  test(`a truncated download${lie ? ' (Content-Length of the whole file)' : ''} is a ModelLoadError and leaves no cache entry`, async ({ page }) => {
    const errors = await openHarness(page);
    const whole = readFileSync(new URL(WEIGHTS, DIR));
    const cut = whole.subarray(0, Math.floor(whole.length / 2));
    await page.route(`**/tools/fixtures/${MODEL}/${WEIGHTS}`, (route) =>
      route.fulfill({ status: 200, body: cut, headers: { 'content-type': 'application/octet-stream', ...(lie ? { 'content-length': String(whole.length) } : {}) } }),
    );
    const r = await page.evaluate((m) => window.cacheHarness.load({ model: m }), MODEL);
    expect(r.error).toMatchObject({ name: 'ModelLoadError', code: 'MODEL_LOAD', file: WEIGHTS });
    console.log(r.error!.message);
    const entries = await page.evaluate((m) => window.cacheHarness.entries(m), MODEL);
    expect(entries.map((e) => e.url)).not.toContainEqual(expect.stringContaining(WEIGHTS));
    // the small files came whole and stay cached; the weights are fetched again next time
    expect(entries.length).toBe(FILES.length - 1);
    await page.unroute(`**/tools/fixtures/${MODEL}/${WEIGHTS}`);
    const again = await page.evaluate((m) => window.cacheHarness.load({ model: m }), MODEL);
    expect(again.error).toBeUndefined();
    expect(perFile(again.events, 'download').get(WEIGHTS)!.every((e) => !e.fromCache)).toBe(true);
    expect(errors.filter((e) => !e.includes(WEIGHTS))).toEqual([]);
  });
}

test('clearModelCache empties the cache, for one model or all', async ({ page }) => {
  await openHarness(page);
  for (const m of ['tiny-gqa', 'tiny-split']) expect((await page.evaluate((m) => window.cacheHarness.load({ model: m }), m)).error).toBeUndefined();
  const split = (await page.evaluate(() => window.cacheHarness.entries('tiny-split'))).length;
  expect(split).toBeGreaterThan(0);
  expect(await page.evaluate(() => window.cacheHarness.clear('tiny-gqa'))).toBe(FILES.length);
  expect(await page.evaluate(() => window.cacheHarness.entries('tiny-gqa'))).toEqual([]);
  expect(await page.evaluate(() => window.cacheHarness.entries('tiny-split'))).toHaveLength(split);
  expect(await page.evaluate(() => window.cacheHarness.clear())).toBe(split);
  expect(await page.evaluate(() => window.cacheHarness.entries())).toEqual([]);
  // after clearing, the next load downloads again
  const r = await page.evaluate(() => window.cacheHarness.load({ model: 'tiny-gqa' }));
  expect(r.events.filter((e) => e.phase === 'download').every((e) => !e.fromCache)).toBe(true);
});

test('without Cache Storage, or with a full one, the model still loads, uncached', async ({ page }) => {
  const errors = await openHarness(page);
  const warnings: string[] = [];
  page.on('console', (m) => void (m.type() === 'warning' && warnings.push(m.text())));

  const none = await page.evaluate((m) => window.cacheHarness.load({ model: m, withoutCacheStorage: true }), MODEL);
  expect(none.error).toBeUndefined();
  expect(none.events.at(-1)).toMatchObject({ phase: 'done', fromCache: false });
  expect(await page.evaluate(() => window.cacheHarness.entries())).toEqual([]);

  // a real QuotaExceededError: this origin's quota set below the weights' size
  const cdp = await page.context().newCDPSession(page);
  const origin = new URL(page.url()).origin;
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 200_000 });
  const full = await page.evaluate((m) => window.cacheHarness.load({ model: m }), MODEL);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  expect(full.error).toBeUndefined();
  expect(full.events.at(-1)).toMatchObject({ phase: 'done', fromCache: false });
  const entries = await page.evaluate(() => window.cacheHarness.entries());
  expect(entries.map((e) => e.url)).not.toContainEqual(expect.stringContaining(WEIGHTS));
  expect(entries.map((e) => e.url)).toContainEqual(expect.stringContaining('config.json')); // what fitted is kept
  expect(warnings.some((w) => w.includes('without the browser cache'))).toBe(true);
  // with room again, the next load stores the weights and the one after reads them from disk
  expect((await page.evaluate((m) => window.cacheHarness.load({ model: m }), MODEL)).error).toBeUndefined();
  const reload = await page.evaluate((m) => window.cacheHarness.load({ model: m }), MODEL);
  expect(perFile(reload.events, 'download').get(WEIGHTS)!.every((e) => e.fromCache)).toBe(true);
  expect(errors).toEqual([]);
});

test('a plain UrlSource streams with progress too, and caches nothing', async ({ page }) => {
  await openHarness(page);
  const r = await page.evaluate((m) => window.cacheHarness.load({ model: m, cached: false }), MODEL);
  expect(r.error).toBeUndefined();
  const weights = perFile(r.events, 'download').get(WEIGHTS)!;
  expect(weights.at(-1)).toMatchObject({ loadedBytes: WEIGHTS_BYTES, totalBytes: WEIGHTS_BYTES, fromCache: false });
  expect(await page.evaluate(() => window.cacheHarness.entries())).toEqual([]);
});
