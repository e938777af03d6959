import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// `vite build -c vite.browser-bench.config.ts`: the model + streaming benchmark page as static files,
// served (with the repo's tools/fixtures) by bench/browser-bench.mjs.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist-bench-browser',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: { page: resolve(import.meta.dirname, 'bench/browser-page.html') } },
  },
});
