#!/usr/bin/env node
// The CLI runs the engine in Node through Dawn; `npm run build:node` produces dist-node/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist-node/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('streamvlm: dist-node/cli.js is missing; run `npm run build:node` first');
  process.exit(1);
}
await import(cli);
