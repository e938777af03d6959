import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// The demo's e2e on the GPU machine (headless Chromium on the NVIDIA card through CHROMIUM_GPU_ARGS),
// where Vite is not installed: the built demo (`vite build` → dist-demo/) behind a static server.
//   npx vite build && npx playwright test -c playwright.gpu.config.ts
const port = Number(process.env.STREAMVLM_TEST_PORT ?? 5199);
export default defineConfig({
  ...base,
  testMatch: ['demo.spec.ts', 'demo-camera-denied.spec.ts', 'demo-video-file.spec.ts'],
  webServer: { command: `node bench/static-server.mjs ${port}`, url: `http://localhost:${port}/index.html`, reuseExistingServer: false, timeout: 30_000 },
});
