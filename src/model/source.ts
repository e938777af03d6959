import { ModelLoadError } from '../errors';
import { HTML_INSTEAD_OF_FILE } from './json-file';

/** How a caller follows one file's read. */
export interface FileReadOptions {
  /**
   * Called as the file's bytes arrive (per network chunk: callers throttle), with the bytes so far,
   * the file's size when known, and whether they come from a cache rather than the network.
   */
  onBytes?: (loadedBytes: number, totalBytes: number | null, fromCache: boolean) => void;
}

/**
 * Where a model's files come from: a base URL (the Hugging Face hub's `…/resolve/main/`, or a
 * local server) in the browser, a folder in Node. DOM-free: the engine only sees this interface.
 */
export interface ModelSource {
  /** Human-readable location, for messages. */
  readonly location: string;
  /** The whole file, or null when it does not exist (404 / ENOENT). */
  bytes(name: string, options?: FileReadOptions): Promise<Uint8Array | null>;
  /**
   * Drops any stored copy of a file the loader found corrupt, so that the next load reads it
   * afresh instead of failing the same way forever. Sources without a cache leave it out.
   */
  forget?(name: string): Promise<void>;
}

export async function requireBytes(source: ModelSource, name: string): Promise<Uint8Array> {
  const bytes = await source.bytes(name);
  if (!bytes) throw new ModelLoadError(name, `not found in ${source.location}`);
  return bytes;
}

export async function readText(source: ModelSource, name: string): Promise<string | null> {
  const bytes = await source.bytes(name);
  return bytes ? new TextDecoder().decode(bytes) : null;
}

/**
 * The number of bytes the body stream will deliver, when the response says: Content-Length, unless
 * a content coding (gzip…) makes it the compressed size. Cross-origin responses may hide
 * Content-Encoding; readBody copes with a body longer than its Content-Length for that reason.
 */
export function bodyLength(response: Response): number | null {
  const encoding = response.headers.get('content-encoding');
  if (encoding && encoding.trim().toLowerCase() !== 'identity') return null;
  const value = response.headers.get('content-length')?.trim();
  return value && /^\d+$/.test(value) ? Number(value) : null;
}

/**
 * Collects a body: into one buffer of the announced size (no second copy at the end, so a
 * 500 MB file costs 500 MB), or as chunks joined at the end when the size is unknown.
 */
class ByteSink {
  private buffer: Uint8Array | null;
  private chunks: Uint8Array[] = [];
  length = 0;

  constructor(name: string, expected: number | null) {
    try {
      this.buffer = expected !== null ? new Uint8Array(expected) : null;
    } catch (cause) {
      throw new ModelLoadError(name, `is ${expected} bytes, more than this JavaScript heap can hold`, { cause });
    }
  }

  push(chunk: Uint8Array): void {
    if (this.buffer && this.length + chunk.byteLength <= this.buffer.byteLength) {
      this.buffer.set(chunk, this.length);
    } else {
      // more than announced (a hidden content coding): keep what came, continue as chunks
      if (this.buffer) this.chunks.push(this.buffer.subarray(0, this.length));
      this.buffer = null;
      this.chunks.push(chunk);
    }
    this.length += chunk.byteLength;
  }

  bytes(): Uint8Array {
    if (this.buffer) return this.length === this.buffer.byteLength ? this.buffer : this.buffer.subarray(0, this.length);
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

export interface ReadBodyOptions extends FileReadOptions {
  fromCache: boolean;
  /** Sees every chunk after it is stored (the cache's copy); may wait, for backpressure. */
  tap?: (chunk: Uint8Array) => void | Promise<void>;
}

/**
 * Reads a response body as a stream, reporting the bytes as they arrive. A body shorter than its
 * Content-Length, or one that breaks off, is a ModelLoadError: a truncated file is never returned.
 */
export async function readBody(response: Response, name: string, location: string, options: ReadBodyOptions): Promise<Uint8Array> {
  const announced = bodyLength(response);
  const { onBytes, fromCache, tap } = options;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onBytes?.(bytes.byteLength, bytes.byteLength, fromCache);
    await tap?.(bytes);
    return bytes;
  }
  const sink = new ByteSink(name, announced);
  const reader = response.body.getReader();
  onBytes?.(0, announced, fromCache);
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (cause) {
        throw new ModelLoadError(name, `download from ${location} broke off after ${sink.length} bytes (network error); try again`, { cause });
      }
      if (result.done) break;
      sink.push(result.value);
      onBytes?.(sink.length, announced !== null && sink.length <= announced ? announced : null, fromCache);
      await tap?.(result.value);
    }
  } catch (e) {
    reader.cancel().catch(() => undefined);
    throw e;
  }
  if (announced !== null && sink.length < announced) {
    throw new ModelLoadError(name, `truncated: ${sink.length} of ${announced} bytes arrived from ${location}; try again`);
  }
  if (announced === null || sink.length > announced) onBytes?.(sink.length, sink.length, fromCache);
  return sink.bytes();
}

/** Files over HTTP(S) relative to a base URL, with `fetch` (page, worker or Node), streamed with progress. */
export class UrlSource implements ModelSource {
  readonly location: string;
  constructor(baseUrl: string, protected readonly fetchImpl: typeof fetch = (...a) => fetch(...a)) {
    this.location = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  }

  /**
   * The file's absolute URL (also its key in the browser cache). It must lie under the model's base
   * URL: a name from a model file (a shard index) that resolves to another host or folder is refused.
   */
  urlOf(name: string): string {
    let base: URL;
    let url: URL;
    try {
      base = new URL(this.location, globalThis.location?.href ?? undefined);
      url = new URL(name, base);
    } catch (cause) {
      throw new ModelLoadError(name, `${this.location} is not a URL (outside a page, give an absolute http(s) URL)`, { cause });
    }
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname) || /(^|\/)\.\.?(\/|$)|%2e|\\/i.test(name)) {
      throw new ModelLoadError(name, `resolves to ${url.href.slice(0, 200)}, outside the model folder ${base.href}`);
    }
    return url.href;
  }

  async bytes(name: string, options: FileReadOptions = {}): Promise<Uint8Array | null> {
    const response = await this.fetchFile(name);
    return response && readBody(response, name, this.location, { ...options, fromCache: false });
  }

  /** The response, null on 404; a network failure or another status is a ModelLoadError. */
  protected async fetchFile(name: string): Promise<Response | null> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.urlOf(name));
    } catch (cause) {
      throw this.networkError(name, cause);
    }
    return this.checkStatus(name, response);
  }

  /** fetch() itself failed: offline, DNS, CORS, a refused connection. */
  protected networkError(name: string, cause: unknown): ModelLoadError {
    return new ModelLoadError(name, `could not be fetched from ${this.location} (network error)`, { cause });
  }

  /** 404 → null (optional files are probed); any other failure status names the file. */
  protected checkStatus(name: string, response: Response): Response | null {
    if (response.status === 404) return null;
    if (!response.ok) throw new ModelLoadError(name, `HTTP ${response.status} from ${this.location}`);
    // no file of a model folder is a web page: this is a server's fallback page for a missing file
    if (/^\s*text\/html\b/i.test(response.headers.get('content-type') ?? '')) throw new ModelLoadError(name, `${HTML_INSTEAD_OF_FILE} (from ${this.location})`);
    return response;
  }
}
