import { open } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { ModelLoadError } from '../../errors';
import type { FileReadOptions, ModelSource } from '../../model/source';

/** Files are read in pieces of this size, so progress moves while a 500 MB file is read. */
const READ_CHUNK_BYTES = 16 << 20;

/**
 * A model folder on disk (what `huggingface-cli download` leaves): the Node twin of UrlSource.
 * A missing file is null, as a 404 is, so optional files (chat_template.json, shard index…) can be
 * probed; any other read failure (permissions, a directory where a file should be) names the file.
 */
export class FsSource implements ModelSource {
  readonly location: string;
  constructor(folder: string) {
    this.location = resolve(folder);
  }

  async bytes(name: string, options: FileReadOptions = {}): Promise<Uint8Array | null> {
    const path = this.pathOf(name);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw this.readError(name, cause);
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new ModelLoadError(name, `could not be read from ${this.location} (EISDIR)`);
      const size = stat.size;
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(size);
      } catch (cause) {
        throw new ModelLoadError(name, `is ${size} bytes, more than this JavaScript heap can hold`, { cause });
      }
      options.onBytes?.(0, size, false);
      let at = 0;
      while (at < size) {
        const { bytesRead } = await handle.read(bytes, at, Math.min(READ_CHUNK_BYTES, size - at), at);
        if (bytesRead === 0) throw new ModelLoadError(name, `truncated while reading: ${at} of ${size} bytes (the file changed?)`);
        at += bytesRead;
        options.onBytes?.(at, size, false);
      }
      return bytes;
    } catch (cause) {
      if (cause instanceof ModelLoadError) throw cause;
      throw this.readError(name, cause);
    } finally {
      await handle.close();
    }
  }

  /** The file's path, which must lie inside the folder: a name read from a model file may not climb out of it. */
  private pathOf(name: string): string {
    const path = resolve(this.location, name);
    const rel = relative(this.location, path);
    if (typeof name !== 'string' || name.includes('\0') || rel === '' || rel.startsWith('..') || isAbsolute(rel) || isAbsolute(name)) {
      throw new ModelLoadError(String(name).slice(0, 200), `is not a file inside the model folder ${this.location}`);
    }
    return path;
  }

  private readError(name: string, cause: unknown): ModelLoadError {
    const code = (cause as NodeJS.ErrnoException).code;
    return new ModelLoadError(name, `could not be read from ${this.location} (${code ?? 'error'})`, { cause });
  }
}
