import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.png': 'image/png', '.map': 'application/json', '.wasm': 'application/wasm' };

/**
 * A bare static file server (no Vite, no module rewriting), for pages that use the built library:
 * `routes` maps a URL path (a file, or a folder ending in /) to a local path; `headers` go on every
 * response (a Content-Security-Policy covers the page and its workers' scripts alike).
 */
export async function staticServer(routes: Record<string, string>, headers: Record<string, string> = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file: string | null = null;
    for (const [prefix, target] of Object.entries(routes)) {
      if (path === prefix) file = target;
      else if (prefix.endsWith('/') && path.startsWith(prefix) && !path.includes('..')) file = join(target, path.slice(prefix.length));
    }
    // a file kept gzipped (FILE.gz beside a missing FILE) is sent as FILE, encoded: the browser inflates it
    const gzipped = !!file && !existsSync(file) && existsSync(`${file}.gz`);
    const served = gzipped ? `${file}.gz` : file;
    if (!file || !served || !existsSync(served) || !statSync(served).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const body = readFileSync(served);
    res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, ...(gzipped ? { 'content-encoding': 'gzip' } : {}) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const { port } = server.address() as AddressInfo;
  // close() alone waits for every connection to end, and a browser keeps its keep-alive ones open
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url: `http://localhost:${port}`, close };
}
