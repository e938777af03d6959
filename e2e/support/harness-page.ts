import { expect, test, type Browser, type ConsoleMessage, type Page, type TestInfo } from '@playwright/test';
import type { HarnessArea } from '../browser/harness/main';

/** The harness page exposing one area's functions (e2e/browser/harness/main.ts lists them). */
export const harnessUrl = (area: HarnessArea): string => `/e2e/browser/harness/index.html?use=${area}`;

/**
 * Collects the page's errors as they happen (uncaught exceptions and console errors). With
 * `modelFolders`, console 404s are not errors: loading a model folder probes optional files (shard
 * index, chat_template.json, preprocessor_config.json, …) and tests ask for missing models.
 */
function collectErrors(page: Page, modelFolders: boolean, expected?: (m: ConsoleMessage) => boolean): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() !== 'error' || expected?.(m)) return;
    if (!(modelFolders && m.text().includes('404'))) errors.push(modelFolders || expected ? `${m.text()} ${m.location().url}` : m.text());
  });
  return errors;
}

/**
 * Opens a harness page that loads fixture model folders and waits for it to say 'ready'. Returns the
 * page's errors as they happen, which each test asserts empty at its end (404s excepted, above).
 */
export async function openModelHarness(page: Page, path: string): Promise<string[]> {
  const errors = collectErrors(page, true);
  await page.goto(path);
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  return errors;
}

/**
 * One harness page for every test of a file, opened in the file's beforeAll. For tests that only
 * call into the page, reloading it per test would only acquire the GPU device, load the same model
 * and compile the same pipelines again (on a CPU adapter that is most of a test's time). `errors`
 * collects the page's errors from its load on (with `modelFolders`, 404s excepted as in
 * openModelHarness; `expected` excepts the console errors it accepts). A failed test restarts the
 * worker, and the file's next test opens a new page.
 */
export async function openSharedHarness(browser: Browser, testInfo: TestInfo, area: HarnessArea, options: { modelFolders?: boolean; expected?: (m: ConsoleMessage) => boolean } = {}): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ baseURL: testInfo.project.use.baseURL });
  const errors = collectErrors(page, options.modelFolders ?? false, options.expected);
  await page.goto(harnessUrl(area));
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  return { page, errors };
}

/**
 * One harness page for every test of the calling spec file: opened once before the file's tests
 * (load errors checked there), closed after them. Returns the getter a test calls: the shared page,
 * with its error list emptied, so a test asserts the errors of its own run.
 */
export function useSharedHarness(area: HarnessArea, options: { modelFolders?: boolean; expected?: (m: ConsoleMessage) => boolean } = {}): () => Promise<{ page: Page; errors: string[] }> {
  let shared: { page: Page; errors: string[] } | undefined;
  test.beforeAll(async ({ browser }, testInfo) => {
    shared = await openSharedHarness(browser, testInfo, area, options);
    expect(shared.errors).toEqual([]);
  });
  test.afterAll(async () => shared?.page.close());
  return async () => {
    if (!shared) throw new Error(`the shared ${area} harness page did not open`);
    shared.errors.length = 0;
    return shared;
  };
}
