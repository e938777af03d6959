import { ModelLoadError } from '../errors';

/**
 * Where a model's files come from: a base URL (the Hugging Face hub's `…/resolve/main/`, or a
 * local server) in the browser, a folder in Node. DOM-free: the engine only sees this interface.
 */
export interface ModelSource {
  /** Human-readable location, for messages. */
  readonly location: string;
  /** The whole file, or null when it does not exist (404 / ENOENT). */
  bytes(name: string): Promise<Uint8Array | null>;
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

/** Files over HTTP(S) relative to a base URL, with `fetch` (page, worker or Node). */
export class UrlSource implements ModelSource {
  readonly location: string;
  constructor(baseUrl: string, private readonly fetchImpl: typeof fetch = (...a) => fetch(...a)) {
    this.location = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  }

  async bytes(name: string): Promise<Uint8Array | null> {
    let response: Response;
    try {
      response = await this.fetchImpl(new URL(name, new URL(this.location, globalThis.location?.href ?? undefined)).href);
    } catch (cause) {
      throw new ModelLoadError(name, `could not be fetched from ${this.location} (network error)`, { cause });
    }
    if (response.status === 404) return null;
    if (!response.ok) throw new ModelLoadError(name, `HTTP ${response.status} from ${this.location}`);
    return new Uint8Array(await response.arrayBuffer());
  }
}
