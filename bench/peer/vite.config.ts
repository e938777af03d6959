import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

// `npx vite build -c bench/peer/vite.config.ts` (after `npm --prefix bench/peer ci`): the
// side-by-side page (bench/peer/peer-page.html) as static files in dist-peer-browser/, served with
// the model folder by bench/peer-browser.ts (no Vite and no node_modules on the GPU machine).
// transformers.js and onnxruntime-web come from bench/peer/node_modules, the project's own code and
// its dependencies from the root.
const here = import.meta.dirname;
const root = resolve(here, '../..');
const transformersPackage = resolve(here, 'node_modules/@huggingface/transformers/package.json');
if (!existsSync(transformersPackage)) throw new Error('bench/peer/node_modules has no @huggingface/transformers: run `npm --prefix bench/peer ci` first');

/**
 * onnxruntime-web's runtime files, served from ort/ instead of the CDN transformers.js would fetch
 * them from. The 27 MB wasm is stored gzipped (6.6 MB: the folder travels to the GPU machine within
 * a size limit); the drivers' static server sends FILE.gz as FILE with Content-Encoding: gzip.
 */
function onnxRuntimeFiles(): Plugin {
  // the copy transformers.js resolves (its main entry lies in dist/)
  const dist = dirname(createRequire(transformersPackage).resolve('onnxruntime-web'));
  return {
    name: 'onnxruntime-web-files',
    generateBundle() {
      const name = 'ort-wasm-simd-threaded.asyncify'; // the build transformers.js v4 picks for WebGPU
      this.emitFile({ type: 'asset', fileName: `ort/${name}.mjs`, source: readFileSync(`${dist}/${name}.mjs`) });
      this.emitFile({ type: 'asset', fileName: `ort/${name}.wasm.gz`, source: gzipSync(readFileSync(`${dist}/${name}.wasm`)) });
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [onnxRuntimeFiles()],
  resolve: {
    // onnxruntime-web's build that loads its wasm from env.wasm.wasmPaths (ort/ above) instead of
    // bundling the 27 MB file as an asset
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  build: {
    outDir: resolve(root, 'dist-peer-browser'),
    emptyOutDir: true,
    target: 'es2022',
    // transformers.js and onnxruntime-web are one large chunk; the page loads once
    chunkSizeWarningLimit: 2048,
    rollupOptions: { input: { peer: resolve(here, 'peer-page.html') } },
  },
});
