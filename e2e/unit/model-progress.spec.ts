import { expect, test } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { FsSource } from '../../src/platform/node/fs-source';
import { ModelLoadError } from '../../src/errors';
import { Checkpoint } from '../../src/model/checkpoint';
import { LoadProgressTracker, type LoadProgress } from '../../src/model/progress';
import { UrlSource, type ModelSource } from '../../src/model/source';

// Reading model files in Node: UrlSource over Node's fetch (streamed, truncation refused), FsSource
// (a folder, read in pieces), the progress tracker's throttling and totals, and the checkpoint's
// upload reports, release of file bytes, and `forget` of a file whose header lies.

const DIR = new URL('../../tools/fixtures/tiny-gqa/', import.meta.url);
const WEIGHTS = readFileSync(new URL('model.safetensors', DIR));

/** A local HTTP server: each path answers with a body, split into chunks, with the headers given. */
async function serve(routes: Record<string, { body: Uint8Array; headers?: Record<string, string>; cutAfter?: number }>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (!route) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream', ...route.headers });
    const body = route.cutAfter === undefined ? route.body : route.body.subarray(0, route.cutAfter);
    // several writes, so the client sees chunks arrive
    const step = 256 << 10;
    for (let at = 0; at < body.length; at += step) {
      const last = at + step >= body.length;
      // the connection drops mid-body, once what was written has gone out
      res.write(body.subarray(at, at + step), last && route.cutAfter !== undefined ? () => setTimeout(() => res.destroy(), 50) : undefined);
    }
    if (route.cutAfter === undefined) res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

test('UrlSource in Node streams a file with byte progress; a cut connection or short body is a ModelLoadError', async () => {
  const { url, server } = await serve({
    '/model.safetensors': { body: WEIGHTS, headers: { 'content-length': String(WEIGHTS.length) } },
    '/chunked.bin': { body: WEIGHTS }, // no Content-Length: chunked transfer
    '/cut.bin': { body: WEIGHTS, headers: { 'content-length': String(WEIGHTS.length) }, cutAfter: 1 << 20 },
  });
  try {
    const source = new UrlSource(url);
    const seen: [number, number | null, boolean][] = [];
    const bytes = await source.bytes('model.safetensors', { onBytes: (...a) => seen.push(a) });
    expect(Buffer.from(bytes!).equals(WEIGHTS)).toBe(true);
    expect(seen[0]).toEqual([0, WEIGHTS.length, false]);
    expect(seen.at(-1)).toEqual([WEIGHTS.length, WEIGHTS.length, false]);
    expect(seen.length).toBeGreaterThan(3); // chunk by chunk, not only at the end
    expect(seen.every(([, total]) => total === WEIGHTS.length)).toBe(true);

    const unknown: (number | null)[] = [];
    const chunked = await source.bytes('chunked.bin', { onBytes: (_, total) => unknown.push(total) });
    expect(Buffer.from(chunked!).equals(WEIGHTS)).toBe(true);
    expect(unknown.slice(0, -1).every((t) => t === null)).toBe(true);
    expect(unknown.at(-1)).toBe(WEIGHTS.length); // known once the body ended

    await expect(source.bytes('cut.bin')).rejects.toThrow(ModelLoadError);
    await expect(source.bytes('cut.bin')).rejects.toThrow(/cut\.bin: (download from .* broke off|truncated)/);
    expect(await source.bytes('missing.json')).toBeNull();
  } finally {
    server.close();
  }
});

test('the progress tracker throttles to about one event per MiB and sums files', async () => {
  const big = 50 << 20;
  // 50 MiB in 64 KiB chunks (800 chunks) through a real Response stream
  const fetchImpl = (async (input: RequestInfo | URL) => {
    const name = String(input).split('/').at(-1);
    if (name === 'small.json') return new Response('{"a":1}', { headers: { 'content-length': '7' } });
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const n = Math.min(64 << 10, big - sent);
        if (n === 0) return c.close();
        c.enqueue(new Uint8Array(n));
        sent += n;
      },
    });
    return new Response(body, { headers: { 'content-length': String(big) } });
  }) as typeof fetch;
  const events: LoadProgress[] = [];
  const tracker = new LoadProgressTracker('http://x/', (e) => events.push(e));
  const source = tracker.track(new UrlSource('http://x/', fetchImpl));
  await source.bytes('small.json');
  await source.bytes('big.bin');
  tracker.done();
  const big_ = events.filter((e) => e.file === 'big.bin');
  expect(big_.length).toBeGreaterThanOrEqual(50);
  expect(big_.length).toBeLessThanOrEqual(53);
  expect(big_.at(-1)).toMatchObject({ phase: 'download', loadedBytes: big, totalBytes: big, fromCache: false });
  expect(big_.at(-1)!.overall).toEqual({ loadedBytes: big + 7, totalBytes: big + 7, files: 2, filesDone: 2 });
  expect(events.at(-1)).toMatchObject({ phase: 'done', file: 'http://x/', loadedBytes: big + 7, totalBytes: big + 7 });
  // without a listener the source is passed through untouched
  const plain = new UrlSource('http://x/', fetchImpl);
  expect(new LoadProgressTracker('http://x/', undefined).track(plain)).toBe(plain);
});

test('FsSource reads a folder with progress; missing files are null, a directory is a ModelLoadError', async () => {
  const source = new FsSource(fileURLToPath(DIR));
  const seen: number[] = [];
  const bytes = await source.bytes('model.safetensors', { onBytes: (loaded, total) => (expect(total).toBe(WEIGHTS.length), seen.push(loaded)) });
  expect(Buffer.from(bytes!).equals(WEIGHTS)).toBe(true);
  expect(seen).toEqual([0, WEIGHTS.length]);
  expect(await source.bytes('no-such-file.json')).toBeNull();
  await expect(source.bytes('inputs')).rejects.toThrow(/inputs: could not be read .*EISDIR/);
});

test('the checkpoint reports tensor bytes as read, releases a file once all its tensors are read, and forgets a corrupt file', async () => {
  const source = new FsSource(fileURLToPath(DIR));
  const reports: [string, number, number][] = [];
  const checkpoint = await Checkpoint.open(source, { onTensorRead: (...a) => reports.push(a), releaseFilesOnceRead: true });
  const names = checkpoint.names;
  for (const n of names) checkpoint.float32(n);
  expect(reports).toHaveLength(names.length);
  const [file, read, total] = reports.at(-1)!;
  expect(file).toBe('model.safetensors');
  expect(read).toBe(total);
  expect(total).toBeGreaterThan(statSync(new URL('model.safetensors', DIR)).size * 0.99);
  // the bytes are gone: a second read is refused with a message, not garbage
  expect(() => checkpoint.float32(names[0])).toThrow(/read after the file was released/);

  // kept (the default): tensors can be read again
  const kept = await Checkpoint.open(source);
  expect(kept.float32(names[0])).toEqual(kept.float32(names[0]));

  // a header that lies about the size: refused, and the source told to drop its copy
  const forgotten: string[] = [];
  const lying: ModelSource = {
    location: 'memory',
    bytes: async (name) => (name === 'model.safetensors' ? WEIGHTS.subarray(0, WEIGHTS.length >> 1) : null),
    forget: async (name) => void forgotten.push(name),
  };
  await expect(Checkpoint.open(lying)).rejects.toThrow(/model\.safetensors: .*past its end/);
  expect(forgotten).toEqual(['model.safetensors']);
});
