import { bodyLength, readBody, UrlSource, type FileReadOptions } from '../../model/source';

/** The Cache Storage cache that holds model files (bump the version to change the entry format). */
export const MODEL_CACHE_NAME = 'streamvlm-models-v1';

/** The cache's copy waits for the cache to read once this much is queued: host memory stays bounded. */
const CACHE_QUEUE_BYTES = 16 << 20;
/** A cache that has read nothing for this long is given up on (the load goes on uncached). */
const CACHE_STALL_MS = 30_000;

async function openModelCache(): Promise<Cache | null> {
  if (typeof caches === 'undefined') return null;
  try {
    return await caches.open(MODEL_CACHE_NAME);
  } catch {
    return null; // opaque origin, storage blocked by the user
  }
}

function absoluteBase(baseUrl: string): string {
  const withSlash = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return new URL(withSlash, globalThis.location?.href ?? undefined).href;
}

let warned = false;
function warnUncached(reason: unknown): void {
  if (warned) return;
  warned = true;
  const what = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  console.warn(`streamvlm: model files are loading without the browser cache (${what})`);
}

/**
 * A UrlSource that keeps every file it downloads in the browser's Cache Storage, keyed by the
 * file's full URL, so that a reload reads the model from disk instead of the network.
 *
 * - Only whole 200 responses are stored: the copy goes into the cache as the bytes arrive, and a
 *   body that breaks off or comes up short errors that copy, so the cache never commits it. A file
 *   the loader later finds corrupt (a lying safetensors header) is dropped through `forget`.
 * - No Cache Storage (Node, an insecure context), a full disk (QuotaExceededError) or a cache that
 *   stops reading: the file still loads, uncached, with one console warning.
 * - Offline with a model cached under this URL: files the cache lacks count as absent (the optional
 *   files a model does not have were 404s when it was stored), so the cached model still loads.
 * - Entries are kept until `clearModelCache`: pin a revision (`…/resolve/<commit>/`) to follow
 *   updates of a model repository.
 */
export class CachedUrlSource extends UrlSource {
  private cache: Promise<Cache | null> | null = null;

  override async bytes(name: string, options: FileReadOptions = {}): Promise<Uint8Array | null> {
    const url = this.urlOf(name);
    const cache = await (this.cache ??= openModelCache());
    if (cache) {
      const hit = await cache.match(url).catch(() => undefined);
      if (hit) {
        try {
          return await readBody(hit, name, this.location, { ...options, fromCache: true });
        } catch {
          // an entry the disk lost part of: drop it and download again
          await cache.delete(url).catch(() => undefined);
        }
      }
    }
    let response: Response;
    try {
      response = await this.fetchImpl(url);
    } catch (cause) {
      if (cache && (await this.hasCachedFiles(cache))) return null;
      throw this.networkError(name, cause);
    }
    const ok = this.checkStatus(name, response);
    if (!ok) return null;
    if (!cache || ok.status !== 200) return readBody(ok, name, this.location, { ...options, fromCache: false });
    return this.readAndStore(cache, url, ok, name, options);
  }

  async forget(name: string): Promise<void> {
    const cache = await (this.cache ??= openModelCache());
    await cache?.delete(this.urlOf(name)).catch(() => undefined);
  }

  private async hasCachedFiles(cache: Cache): Promise<boolean> {
    const base = absoluteBase(this.location);
    const keys = await cache.keys().catch(() => [] as readonly Request[]);
    return keys.some((k) => k.url.startsWith(base));
  }

  /**
   * Reads the body and writes it to the cache at the same time: one stream into the cache, fed
   * with the chunks as they arrive, which is errored (so never committed) unless the body is whole.
   */
  private async readAndStore(cache: Cache, url: string, response: Response, name: string, options: FileReadOptions): Promise<Uint8Array> {
    const size = bodyLength(response);
    const headers = new Headers({ 'content-type': response.headers.get('content-type') ?? 'application/octet-stream' });
    if (size === null) {
      // size unknown until the end (small compressed JSON): store the whole bytes afterwards
      const bytes = await readBody(response, name, this.location, { ...options, fromCache: false });
      headers.set('content-length', String(bytes.byteLength));
      // readBody's buffers are plain ArrayBuffers (never shared)
      await cache.put(url, new Response(bytes as Uint8Array<ArrayBuffer>, { status: 200, headers })).catch(warnUncached);
      return bytes;
    }
    headers.set('content-length', String(size));

    let abandoned = false;
    /** We errored the copy ourselves (a broken body, a stalled cache): the cache refusing it is no news. */
    let errored = false;
    let wake: (() => void) | null = null;
    const resume = () => {
      wake?.();
      wake = null;
    };
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const copy = new ReadableStream<Uint8Array>(
      {
        start: (c) => void (controller = c),
        pull: resume,
        cancel: () => {
          abandoned = true;
          resume();
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: CACHE_QUEUE_BYTES }),
    );
    const stored = cache.put(url, new Response(copy, { status: 200, headers })).then(
      () => true,
      (reason: unknown) => {
        if (!errored) warnUncached(reason);
        abandoned = true;
        resume();
        return false;
      },
    );
    const feed = async (chunk: Uint8Array) => {
      if (abandoned) return;
      try {
        controller.enqueue(chunk);
      } catch {
        abandoned = true; // the cache dropped its end of the stream
        return;
      }
      if ((controller.desiredSize ?? 1) > 0) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const moved = await Promise.race([
        new Promise<boolean>((r) => (wake = () => r(true))),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), CACHE_STALL_MS))),
      ]);
      clearTimeout(timer);
      if (!moved && !abandoned) {
        abandoned = errored = true;
        const stall = new Error(`the cache read nothing for ${CACHE_STALL_MS / 1000} s`);
        warnUncached(stall);
        controller.error(stall);
      }
    };

    let bytes: Uint8Array;
    try {
      bytes = await readBody(response, name, this.location, { ...options, fromCache: false, tap: feed });
    } catch (e) {
      if (!abandoned) controller.error(e);
      abandoned = errored = true;
      await stored;
      throw e;
    }
    if (!abandoned) controller.close();
    await stored;
    return bytes;
  }
}

/**
 * Deletes cached model files: every file, or those under one base URL (the URL given to
 * CachedUrlSource). Resolves to the number of files removed; 0 where there is no Cache Storage.
 */
export async function clearModelCache(baseUrl?: string): Promise<number> {
  if (typeof caches === 'undefined') return 0;
  try {
    if (!(await caches.has(MODEL_CACHE_NAME))) return 0;
    const cache = await caches.open(MODEL_CACHE_NAME);
    // entry by entry, not caches.delete(): a CachedUrlSource holding the cache open keeps storing
    const base = baseUrl === undefined ? '' : absoluteBase(baseUrl);
    const mine = (await cache.keys()).filter((k) => k.url.startsWith(base));
    await Promise.all(mine.map((k) => cache.delete(k)));
    return mine.length;
  } catch {
    return 0;
  }
}

/** The cached model files (under `baseUrl`, or all) with their sizes, e.g. to show what a reload saves. */
export async function cachedModelFiles(baseUrl?: string): Promise<{ url: string; bytes: number | null }[]> {
  if (typeof caches === 'undefined') return [];
  try {
    if (!(await caches.has(MODEL_CACHE_NAME))) return [];
    const cache = await caches.open(MODEL_CACHE_NAME);
    const base = baseUrl === undefined ? '' : absoluteBase(baseUrl);
    const out: { url: string; bytes: number | null }[] = [];
    for (const request of await cache.keys()) {
      if (!request.url.startsWith(base)) continue;
      const response = await cache.match(request);
      out.push({ url: request.url, bytes: response ? bodyLength(response) : null });
    }
    return out;
  } catch {
    return [];
  }
}
