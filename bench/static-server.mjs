#!/usr/bin/env node
// Static file serving for the benchmark drivers (kernels.mjs, browser-bench.mjs, demo-gpu.mjs) and for
// the demo's e2e where Vite is not installed (the GPU machine, playwright.gpu.config.ts):
//   node bench/static-server.mjs <port>   the built demo (dist-demo/) at the root, the rest from the repo
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.css': 'text/css', '.png': 'image/png', '.wasm': 'application/wasm' };
export const repoRoot = new URL('..', import.meta.url).pathname;

/** A file under `dir` for a request path, or null when it is outside `dir` or not a file. */
export function fileIn(dir, path) {
  const file = join(dir, path);
  return file.startsWith(dir) && existsSync(file) && statSync(file).isFile() ? file : null;
}

/**
 * Serves files on localhost: `resolve(path)` maps a request path (no leading slash, normalized) to a
 * file, or null for a 404. Resolves with the listening server (port 0: any free port).
 */
export function serveFiles(resolve, port = 0) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^\/+/, '');
    const file = resolve(path);
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((done) => server.listen(port, 'localhost', () => done(server)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const demo = join(repoRoot, 'dist-demo');
  await serveFiles((path) => fileIn(demo, path || 'index.html') ?? fileIn(repoRoot, path), Number(process.argv[2] ?? 5199));
}
