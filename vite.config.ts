import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// `vite` serves the demo (index.html) and the test harness (e2e/harness.html);
// `vite build --mode lib` builds the SDK as an ES module library.
export default defineConfig(({ mode }) => ({
  server: { port: 5173, strictPort: false, host: 'localhost' },
  preview: { port: 4173, host: 'localhost' },
  worker: { format: 'es' },
  build:
    mode === 'lib'
      ? {
          outDir: 'dist',
          lib: { entry: resolve(import.meta.dirname, 'src/index.ts'), formats: ['es'], fileName: 'streamvlm' },
          sourcemap: true,
        }
      : {
          outDir: 'dist-demo',
          rollupOptions: { input: { demo: resolve(import.meta.dirname, 'index.html') } },
        },
}));
