#!/usr/bin/env node
// A static server for running the demo's e2e where Vite is not installed (the GPU machine): the built
// demo (dist-demo/) at the root, everything else (tools/fixtures, …) from the repository.
//   node bench/static-server.mjs <port>
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const port = Number(process.argv[2] ?? 5199);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.css': 'text/css', '.png': 'image/png' };
createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^\/+/, '');
  const built = join(root, 'dist-demo', path || 'index.html');
  const file = existsSync(built) && statSync(built).isFile() ? built : join(root, path);
  if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
}).listen(port, 'localhost');
