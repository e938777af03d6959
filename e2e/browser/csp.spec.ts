import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { builtLibrary } from '../support/built-library';
import { staticServer } from '../support/static-server';

// The built library under a strict Content-Security-Policy (issue #14): no 'unsafe-eval', scripts
// and workers from the page's own origin only, served as a header on every response (the engine
// worker's script gets it too, and a worker enforces its own script's policy). With
// 'wasm-unsafe-eval' the memory's ranking runs in WebAssembly SIMD; without it, compiling the
// module is refused, ranking runs in plain JavaScript, stats() says so and why, and the answer is
// the same (same moments, same tokens). A policy in a <meta> element binds the page only.

const STRICT = "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'; img-src 'self' blob:; style-src 'self'; object-src 'none'; base-uri 'none'";
const WITH_WASM = STRICT.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'");

let lib = '';

test.beforeAll(() => {
  lib = builtLibrary();
  expect(readdirSync(join(lib, 'assets')).some((f) => /^engine-worker-.*\.js$/.test(f))).toBe(true);
});

interface CspResult {
  tokens: number[];
  moments: string[];
  ranking: 'wasm-simd' | 'js';
  rankingFallback: string | null;
  rankingThreads: number;
  storeFrames: number;
  violations: string[];
}

async function runUnder(browser: import('@playwright/test').Browser, policy: string | 'meta', threads: number): Promise<CspResult> {
  const server = await staticServer(
    { '/app/index.html': policy === 'meta' ? 'e2e/browser/pages/csp-meta-page.html' : 'e2e/browser/pages/csp-page.html', '/app/csp-page.js': 'e2e/browser/pages/csp-page.js', '/app/lib/': lib, '/models/tiny-gqa/': 'tools/fixtures/tiny-gqa/' },
    policy === 'meta' ? {} : { 'content-security-policy': policy },
  );
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${server.url}/app/index.html?threads=${threads}`);
    const status = page.locator('#status');
    await expect(status).toHaveText(/done|error/, { timeout: 150_000 });
    expect(await status.textContent()).toBe('done');
    expect(errors).toEqual([]);
    return JSON.parse((await status.getAttribute('data-result'))!) as CspResult;
  } finally {
    // the page first: its worker's open connections would otherwise hold the server's close
    await page.close();
    await server.close();
  }
}

test('under a strict CSP the built library runs, with ranking workers; WebAssembly ranking with wasm-unsafe-eval, plain JavaScript without, same answer', async ({ browser }) => {
  test.setTimeout(300_000);
  const results: Record<string, CspResult> = {};
  // two ranking workers under both header policies (started as the engine worker's nested workers,
  // which `worker-src 'self'` allows), none under the page's meta policy: the same answer either way
  for (const [label, policy, threads] of [['wasm', WITH_WASM, 2], ['strict', STRICT, 2], ['meta', 'meta', 0]] as const) {
    results[label] = await test.step(`${label} policy`, () => runUnder(browser, policy, threads));
  }
  console.log(JSON.stringify(results));
  const { wasm, strict, meta } = results;
  expect(wasm.ranking).toBe('wasm-simd');
  expect(wasm.rankingFallback).toBeNull();
  expect(strict.ranking).toBe('js');
  expect(strict.rankingFallback).toMatch(/wasm-unsafe-eval/);
  // ranking over stored frames ran in both
  expect(wasm.storeFrames).toBeGreaterThanOrEqual(4);
  expect(wasm.moments.some((m) => m.endsWith(':memory'))).toBe(true);
  expect(strict.moments).toEqual(wasm.moments);
  expect(strict.tokens).toEqual(wasm.tokens);
  expect(wasm.tokens.length).toBeGreaterThan(0);
  // a policy in the page's <meta> (the same strict one) binds the page, not the engine worker,
  // which takes its policy from its own script's response: ranking stays in WebAssembly there
  expect(meta.ranking).toBe('wasm-simd');
  expect(meta.tokens).toEqual(wasm.tokens);
  expect(meta.moments).toEqual(wasm.moments);
  expect([wasm.rankingThreads, strict.rankingThreads, meta.rankingThreads]).toEqual([2, 2, 0]);
  // the page itself broke no rule (the refused compile is the worker's, and is handled)
  expect(wasm.violations).toEqual([]);
  expect(strict.violations).toEqual([]);
});
