#!/usr/bin/env node
// The soak (issue 14) in headless Chromium (bench/soak.ts, bundled into dist-node/ so it needs no
// node_modules: only node: modules and playwright-core from PLAYWRIGHT_CORE). Build here:
//   npx vite build -c vite.gpu-browser.config.ts && npm run build:node
// then: node bench/soak.mjs --frames 20000 --ask-every 500 --out soak-out
import { runBuilt } from './run-built.mjs';

await runBuilt('soak');
