import { availableParallelism } from 'node:os';
import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumExecutable } from './e2e/support/chromium';

const port = Number(process.env.STREAMVLM_TEST_PORT ?? 5199);

export default defineConfig({
  // Tests by where they run, one project each: e2e/cli (the built CLI, Dawn in Node), e2e/browser
  // (Chromium pages: the one harness page e2e/browser/harness/, the demo, built-library pages) and
  // e2e/unit (Node only). Shared Node-side helpers are in e2e/support/. Spec files are handed to
  // the workers in project order: the long CLI and browser specs start first and the short unit
  // ones fill in at the end, so no long spec starts last and runs alone while the other worker idles.
  testDir: 'e2e',
  projects: [
    { name: 'cli', testDir: 'e2e/cli' },
    { name: 'browser', testDir: 'e2e/browser' },
    { name: 'unit', testDir: 'e2e/unit' },
  ],
  // SwiftShader runs kernels on the CPU: generous per-test time. One worker per core, at least two
  // and at most four (each holds a Chromium with SwiftShader): spec files run side by side, which on
  // two cores took the suite from 13 to 9 minutes; a machine with more cores finishes sooner.
  timeout: 180_000,
  // removes what the run built once for several specs (e2e/support/built-library.ts)
  globalTeardown: './e2e/support/global-teardown.ts',
  workers: Math.min(4, Math.max(2, availableParallelism())),
  // the JSON report keeps every test's duration, to see which specs make the suite long
  reporter: [['list'], ['json', { outputFile: 'test-results/timings.json' }]],
  use: {
    baseURL: `http://localhost:${port}`,
    browserName: 'chromium',
    launchOptions: { executablePath: chromiumExecutable(), args: chromiumArgs() },
  },
  webServer: {
    command: `STREAMVLM_NO_HMR=1 npx vite --port ${port} --strictPort --logLevel warn`,
    url: `http://localhost:${port}/e2e/browser/harness/index.html`,
    // never reuse: a server left by another checkout on this port would serve its code, not ours
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
