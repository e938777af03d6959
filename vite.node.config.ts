import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// The engine for Node (Dawn through the `webgpu` package). Bundled so shader imports (`?raw`) and
// the pure-JS libraries resolve at build time; `webgpu` stays external (a native addon, the one
// runtime dependency of the CLI).
//
// Three builds into dist-node/: the default mode builds the CLI alone, as one file (dist-node/cli.js);
// `--mode worker` the ranking worker thread beside it, also one file (dist-node/ranking-worker.js,
// started by platform/node/ranking-workers.ts; the two are the Node files the npm package ships);
// `--mode bench` adds the benchmarks and tools, with their shared chunks under
// dist-node/bench-chunks/, for this repository only.

const BENCH_INPUTS = {
  bench: 'bench/kernels-node.ts',
  model: 'bench/model-node.ts',
  'model-host': 'bench/model-host.ts',
  parity: 'bench/parity-node.ts',
  stream: 'bench/stream-node.ts',
  synthetic: 'bench/write-synthetic-model.ts',
  'needle-pool': 'tools/needle/render-pool.ts',
  'needle-bench': 'bench/needle-bench.ts',
  'needle-report': 'bench/needle-report.ts',
  'needle-retrieval-probe': 'bench/needle-retrieval-probe.ts',
  'needle-replay': 'bench/needle-replay.ts',
  'needle-browser': 'bench/needle-browser.ts',
  soak: 'bench/soak.ts',
  'peer-browser': 'bench/peer-browser.ts',
  'device-loss-browser': 'bench/device-loss-browser.ts',
  ranking: 'bench/ranking-bench.ts',
  'engine-memory': 'bench/engine-memory.ts',
  'transcode-bench': 'bench/transcode-bench.ts',
  'load-browser': 'bench/load-browser.ts',
};

export default defineConfig(({ mode }) => {
  const bench = mode === 'bench';
  const input = bench
    ? Object.fromEntries(Object.entries(BENCH_INPUTS).map(([name, path]) => [name, resolve(import.meta.dirname, path)]))
    : mode === 'worker'
      ? { 'ranking-worker': resolve(import.meta.dirname, 'src/platform/node/ranking-worker.ts') }
      : { cli: resolve(import.meta.dirname, 'src/cli/main.ts') };
  return {
    build: {
      outDir: 'dist-node',
      // the CLI build comes first and starts clean; the worker and bench builds add to it
      emptyOutDir: mode !== 'bench' && mode !== 'worker',
      target: 'node20',
      minify: false,
      // maps for debugging here; the package leaves them out (package.json "files")
      sourcemap: true,
      ssr: true,
      rollupOptions: {
        input,
        external: ['webgpu', /^node:/],
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'bench-chunks/[name]-[hash].js' },
      },
    },
    ssr: { noExternal: true, external: ['webgpu'] },
  };
});
