import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ModelLoadError } from '../errors';
import { UrlSource, type ModelSource } from '../model/source';

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

  async bytes(name: string): Promise<Uint8Array | null> {
    try {
      const b = await readFile(join(this.location, name));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw new ModelLoadError(name, `could not be read from ${this.location} (${code ?? 'error'})`, { cause });
    }
  }
}

/** `--model`: an http(s) URL (Node's fetch) or a local folder. */
export function modelSourceOf(model: string): ModelSource {
  return /^https?:\/\//i.test(model) ? new UrlSource(model) : new FsSource(model);
}
