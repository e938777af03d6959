import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// `vite build -c vite.gpu-browser.config.ts`: the needle benchmark page, the soak page and the device-loss page as static
// files in dist-gpu-browser/ (no Vite and no node_modules on the GPU machine), served with the model
// folder by bench/needle-browser.ts, bench/soak.ts and bench/device-loss-browser.ts.
const here = import.meta.dirname;

export default defineConfig({
  base: './',
  // the SDK's engine worker
  worker: { format: 'es' },
  resolve: {
    // bench/needle-frames.ts reads frames through src/cli/y4m.ts, whose file reader and PNG header
    // check (never called in the page) import node:fs/promises and node:zlib
    alias: { 'node:fs/promises': resolve(here, 'bench/browser-node-stubs.ts'), 'node:zlib': resolve(here, 'bench/browser-node-stubs.ts') },
  },
  build: {
    outDir: 'dist-gpu-browser',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: { needle: resolve(here, 'bench/needle-page.html'), soak: resolve(here, 'bench/soak-page.html'), 'device-loss': resolve(here, 'bench/device-loss-page.html'), load: resolve(here, 'bench/load-page.html') } },
  },
});
