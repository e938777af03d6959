import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// `vite` serves the demo (index.html) and the test harness (e2e/harness.html);
// `vite build --mode lib` builds the SDK as an ES module library.
export default defineConfig(({ mode }) => ({
  server: { port: 5173, strictPort: false, host: 'localhost' },
  preview: { port: 4173, host: 'localhost' },
  worker: { format: 'es' },
  base: mode === 'bench' ? './' : '/',
  build:
    mode === 'bench'
      ? {
          // the kernel benchmark page, served as static files by bench/kernels.mjs (no Vite on the GPU machine)
          outDir: 'dist-bench',
          target: 'es2022',
          rollupOptions: { input: { index: resolve(import.meta.dirname, 'bench/page.html') } },
        }
      : mode === 'lib'
      ? {
          outDir: 'dist',
          lib: { entry: resolve(import.meta.dirname, 'src/index.ts'), formats: ['es'], fileName: 'streamvlm' },
          sourcemap: true,
        }
      : {
          outDir: 'dist-demo',
          target: 'es2022',
          rollupOptions: { input: { demo: resolve(import.meta.dirname, 'index.html') } },
        },
}));
