import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// The fuzz harness (tools/fuzz/), bundled for Node like the CLI but into its own folder, which is
// neither the published library (dist/) nor the CLI (dist-node/): `npm run fuzz`.
export default defineConfig({
  build: {
    outDir: 'dist-fuzz',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    ssr: true,
    rollupOptions: {
      input: { fuzz: resolve(import.meta.dirname, 'tools/fuzz/main.ts') },
      external: ['webgpu', /^node:/],
      output: { format: 'es', entryFileNames: '[name].js' },
    },
  },
  ssr: { noExternal: true, external: ['webgpu'] },
});
