#!/usr/bin/env node
// The device-loss scenarios in headless Chromium (bench/device-loss-browser.ts, bundled into
// dist-node/ so it needs no node_modules: only node: modules and playwright-core from
// PLAYWRIGHT_CORE). Build here:
//   npx vite build -c vite.gpu-browser.config.ts && npm run build:node
// then: node bench/device-loss-browser.mjs [--f16] [--scenarios losses-4bit,lost-every-try]
import { runBuilt } from './run-built.mjs';

await runBuilt('device-loss-browser');
