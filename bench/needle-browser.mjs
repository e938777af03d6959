#!/usr/bin/env node
// The needle benchmark in headless Chromium (bench/needle-browser.ts, bundled into dist-node/ so it
// needs no node_modules: only node: modules and playwright-core from PLAYWRIGHT_CORE). Build here:
//   npx vite build -c vite.gpu-browser.config.ts && npm run build:node
// then: node bench/needle-browser.mjs --lengths 60,600 --configs 4 --pages 4 --out needle-chromium.json
import { runBuilt } from './run-built.mjs';

await runBuilt('needle-browser');
