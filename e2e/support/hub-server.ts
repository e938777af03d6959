import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A local stand-in for the Hugging Face hub, for tests: serves folders at the hub's URL layout,
 * `/{owner}/{name}/resolve/{revision}/{file}`, answering as the hub does — `X-Repo-Commit` (the
 * commit the revision points to), `ETag` (the git blob sha1) and, for files over 1 MB, the LFS
 * headers `X-Linked-Etag` (sha256) and `X-Linked-Size`; a missing file is a 404 with the commit
 * header, a missing repository a 404 with `X-Error-Code: RepoNotFound`. Large files trickle out
 * in 64 KiB pieces 15 ms apart, so a download lasts long enough to show a rate.
 *
 * A repository whose name ends in `-corrupt` sends its large files with one byte changed.
 *
 * `/spa/{file}` mimics a single-page-app server: existing files as they are, anything else the
 * app's index.html with status 200.
 */
export interface HubServer {
  url: string;
  commit: string;
  /** Requests so far, as "METHOD path". */
  requests: string[];
  close(): Promise<void>;
}

export async function startHubServer(repos: Record<string, string>, spaFolder?: string): Promise<HubServer> {
  const commit = createHash('sha1').update(JSON.stringify(Object.keys(repos))).digest('hex');
  const requests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}`);
    if (spaFolder && path.startsWith('/spa/')) {
      const file = join(spaFolder, path.slice(5));
      const found = existsSync(file) && statSync(file).isFile();
      res.writeHead(200, { 'content-type': found ? 'application/octet-stream' : 'text/html' });
      res.end(found ? readFileSync(file) : '<!doctype html><html><body><div id="app"></div></body></html>');
      return;
    }
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const folder = m ? repos[m[1]] : undefined;
    if (!m || !folder || (m[2] !== 'main' && m[2] !== commit)) {
      res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
      return;
    }
    const file = join(folder, m[3]);
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'x-repo-commit': commit, 'x-error-code': 'EntryNotFound' }).end('Entry not found');
      return;
    }
    const bytes = readFileSync(file);
    const gitSha = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    const large = bytes.length > 1e6;
    const headers: Record<string, string> = { 'x-repo-commit': commit, etag: `"${gitSha}"`, 'content-length': String(bytes.length) };
    if (large) {
      headers['x-linked-etag'] = `"${createHash('sha256').update(bytes).digest('hex')}"`;
      headers['x-linked-size'] = String(bytes.length);
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return void res.end();
    // a repository named *-corrupt sends its large files with one byte changed (a bad download)
    const body = large && m[1].endsWith('-corrupt') ? Buffer.from(bytes).fill(0, 1000, 1001) : bytes;
    for (let at = 0; at < body.length; at += 1 << 16) {
      res.write(body.subarray(at, at + (1 << 16)));
      if (large) await new Promise((r) => setTimeout(r, 15));
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    commit,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
