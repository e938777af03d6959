import { existsSync } from 'node:fs';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { InputError } from '../../errors';

/**
 * The CLI's plain file reads and writes (input images and videos, the needle clip). The CLI's
 * commands take paths; they read and write through here so that src/platform/node/ stays the only
 * code that touches the file system.
 */

/** A file or folder is at this path. */
export const pathExists = (path: string): boolean => existsSync(path);

/**
 * A user-given input file's bytes; a read failure is an InputError naming the path and the error
 * code. With `limit`, the file's size is checked before its bytes are read, so a huge file is
 * refused without being read into memory.
 */
export async function readInputFile(path: string, limit?: { bytes: number; what: string }): Promise<Uint8Array> {
  try {
    if (limit) {
      const size = (await stat(path)).size;
      if (size > limit.bytes) throw new InputError(`${path}: ${size} bytes, more than the ${limit.bytes} ${limit.what} may have`);
    }
    return await readFile(path);
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new InputError(`${path}: cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Writes the chunks one after another as they are made (a long stream stays in bounded memory). */
export async function writeFileChunks(path: string, chunks: Iterable<Uint8Array | string>): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (const chunk of chunks) {
      if (typeof chunk === 'string') await file.write(chunk);
      else await file.write(chunk);
    }
  } finally {
    await file.close();
  }
}

export async function writeTextFile(path: string, text: string): Promise<void> {
  await writeFile(path, text);
}
