import { resolve } from 'node:path';
import { defineConfig, type BuildEnvironmentOptions } from 'vite';

const here = import.meta.dirname;

/** `vite build --mode lib`: the SDK as an ES module library (dist/streamvlm.js), and the kernel
 * self-check as its own entry (dist/selfcheck.js, `streamvlm/selfcheck`) so the SDK bundle carries
 * neither it nor the CPU references; code both entries use goes to a shared chunk in dist/assets/. */
const libraryBuild: BuildEnvironmentOptions = {
  outDir: 'dist',
  lib: {
    entry: { streamvlm: resolve(here, 'src/index.ts'), selfcheck: resolve(here, 'src/selfcheck/index.ts') },
    formats: ['es'],
    fileName: (_format, name) => `${name}.js`,
  },
  sourcemap: true,
  // readable class names in stack traces of the built file (errors carry explicit names: src/errors.ts)
  rolldownOptions: { output: { keepNames: true, chunkFileNames: 'assets/shared-[hash].js' } },
};

/** `vite build --mode bench`: the kernel benchmark page, served as static files by bench/kernels.mjs
 * (no Vite on the GPU machine). */
const benchBuild: BuildEnvironmentOptions = {
  outDir: 'dist-bench',
  target: 'es2022',
  rollupOptions: { input: { index: resolve(here, 'bench/page.html') } },
};

/** `vite build`: the demo page. */
const demoBuild: BuildEnvironmentOptions = {
  outDir: 'dist-demo',
  target: 'es2022',
  rollupOptions: { input: { demo: resolve(here, 'index.html') } },
};

// `vite` serves the demo (index.html) and the test harness (e2e/browser/harness/index.html).
export default defineConfig(({ mode }) => ({
  // multi-page: a missing file is a 404, not the index.html fallback (model loading relies on it)
  appType: 'mpa',
  // no HMR: a test page must not reload when a file changes mid-run
  server: { port: 5173, strictPort: false, host: 'localhost', hmr: process.env.STREAMVLM_NO_HMR ? false : undefined },
  preview: { port: 4173, host: 'localhost' },
  // keepNames: readable class names in the worker's stack traces (the typed errors cross the worker
  // boundary by their explicit errorName, src/worker/typed-errors.ts, not by class name)
  worker: { format: 'es', rolldownOptions: { output: { keepNames: true } } },
  // the library and the bench page load their worker / assets relative to their own URL, so they
  // work when served from any path
  base: mode === 'bench' || mode === 'lib' ? './' : '/',
  build: mode === 'bench' ? benchBuild : mode === 'lib' ? libraryBuild : demoBuild,
}));
