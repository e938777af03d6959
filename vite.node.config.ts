import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// The engine for Node (Dawn through the `webgpu` package): the CLI and the GPU benchmarks.
// Bundled so shader imports (`?raw`) resolve at build time; `webgpu` stays external (native addon).
export default defineConfig({
  build: {
    outDir: 'dist-node',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    ssr: true,
    rollupOptions: {
      input: {
        cli: resolve(import.meta.dirname, 'src/cli/main.ts'),
        bench: resolve(import.meta.dirname, 'bench/kernels-node.ts'),
        model: resolve(import.meta.dirname, 'bench/model-node.ts'),
        'model-host': resolve(import.meta.dirname, 'bench/model-host.ts'),
        parity: resolve(import.meta.dirname, 'bench/parity-node.ts'),
        stream: resolve(import.meta.dirname, 'bench/stream-node.ts'),
        synthetic: resolve(import.meta.dirname, 'bench/write-synthetic-model.ts'),
        'needle-pool': resolve(import.meta.dirname, 'tools/needle/render-pool.ts'),
        'needle-bench': resolve(import.meta.dirname, 'bench/needle-bench.ts'),
        'needle-report': resolve(import.meta.dirname, 'bench/needle-report.ts'),
        'needle-retrieval-probe': resolve(import.meta.dirname, 'bench/needle-retrieval-probe.ts'),
      },
      external: ['webgpu', /^node:/],
      output: { format: 'es', entryFileNames: '[name].js' },
    },
  },
  ssr: { noExternal: true, external: ['webgpu'] },
});
