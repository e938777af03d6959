#!/usr/bin/env node
// streamvlm and transformers.js side by side in headless Chromium (bench/peer-browser.ts, bundled
// into dist-node/ so it needs no node_modules: only node: modules and playwright-core from
// PLAYWRIGHT_CORE). Build here:
//   npm --prefix bench/peer ci && npx vite build -c bench/peer/vite.config.ts && npm run build:node
// then: node bench/peer-browser.mjs --model <folder with onnx/> [--f16] [--out DIR]   (bench/PEER.md)
import { runBuilt } from './run-built.mjs';

await runBuilt('peer-browser');
