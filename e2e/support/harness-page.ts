import { expect, type Browser, type Page, type TestInfo } from '@playwright/test';
import type { HarnessArea } from '../browser/harness/main';

/** The harness page exposing one area's functions (e2e/browser/harness/main.ts lists them). */
export const harnessUrl = (area: HarnessArea): string => `/e2e/browser/harness/index.html?use=${area}`;

/**
 * Opens a harness page that loads fixture model folders and waits for it to say 'ready'. Returns the
 * page's errors as they happen (uncaught exceptions and console errors), which each test asserts
 * empty at its end. Console 404s are not errors here: loading a model folder probes optional files
 * (shard index, chat_template.json, preprocessor_config.json, …) and tests ask for missing models.
 */
export async function openModelHarness(page: Page, path: string): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('404')) errors.push(`${m.text()} ${m.location().url}`);
  });
  await page.goto(path);
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  return errors;
}

/**
 * One harness page for every test of a file, opened in the file's beforeAll: for tests that only
 * call into the page (kernel checks, GPU core probes), reloading it per test would only acquire
 * the same GPU device again. `errors` collects the page's errors from its load on. (A failed test
 * restarts the worker, and the file's next test opens a fresh page.)
 */
export async function openSharedHarness(browser: Browser, testInfo: TestInfo, area: HarnessArea): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ baseURL: testInfo.project.use.baseURL });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(harnessUrl(area));
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  return { page, errors };
}
