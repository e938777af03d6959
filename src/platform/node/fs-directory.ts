import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

/**
 * A folder on disk with the methods of the browser's FileSystemDirectoryHandle that the memory
 * format's reader and writer use (src/memory/persist.ts), so `streamvlm watch --save-memory` writes
 * the very files a page's saveMemory writes to OPFS, and `streamvlm ask --memory` reads them.
 * Errors are DOMExceptions named as OPFS names them (NotFoundError), which persist.ts tells apart.
 */
class NodeFileHandle {
  readonly kind = 'file';
  constructor(readonly path: string) {}
  get name(): string {
    return basename(this.path);
  }

  async getFile(): Promise<{ size: number; arrayBuffer(): Promise<ArrayBuffer> }> {
    const { size } = await stat(this.path).catch(() => notFound(this.path));
    return {
      size,
      arrayBuffer: async () => {
        const b = await readFile(this.path);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      },
    };
  }

  /** As OPFS's: the bytes go to a side file that replaces the file on close, so a failed write leaves the old one. */
  async createWritable(): Promise<{ write(bytes: Uint8Array): Promise<void>; close(): Promise<void>; abort(): Promise<void> }> {
    const partial = `${this.path}.crswap`;
    const file = await open(partial, 'w');
    return {
      write: async (bytes) => void (await file.write(bytes)),
      close: async () => {
        await file.sync();
        await file.close();
        await rename(partial, this.path);
      },
      abort: async () => {
        await file.close().catch(() => {});
        await rm(partial, { force: true });
      },
    };
  }
}

function notFound(path: string): never {
  throw new DOMException(`${path} does not exist`, 'NotFoundError');
}

export class NodeDirectoryHandle {
  readonly kind = 'directory';
  constructor(readonly path: string) {}
  get name(): string {
    return basename(this.path);
  }

  async getDirectoryHandle(name: string, options: { create?: boolean } = {}): Promise<NodeDirectoryHandle> {
    const path = join(this.path, name);
    if (options.create) await mkdir(path, { recursive: true });
    else if (!(await stat(path).then((s) => s.isDirectory(), () => false))) notFound(path);
    return new NodeDirectoryHandle(path);
  }

  async getFileHandle(name: string, options: { create?: boolean } = {}): Promise<NodeFileHandle> {
    const path = join(this.path, name);
    if (!options.create && !existsSync(path)) notFound(path);
    return new NodeFileHandle(path);
  }

  async removeEntry(name: string, options: { recursive?: boolean } = {}): Promise<void> {
    const path = join(this.path, name);
    if (!existsSync(path)) notFound(path);
    await rm(path, { recursive: !!options.recursive });
  }

  async *keys(): AsyncIterable<string> {
    for (const name of await readdir(this.path)) yield name;
  }

  async *entries(): AsyncIterable<[string, NodeDirectoryHandle | NodeFileHandle]> {
    for (const entry of await readdir(this.path, { withFileTypes: true })) {
      const path = join(this.path, entry.name);
      yield [entry.name, entry.isDirectory() ? new NodeDirectoryHandle(path) : new NodeFileHandle(path)];
    }
  }

  /** As the DOM type persist.ts takes: this class has every member it calls. */
  asHandle(): FileSystemDirectoryHandle {
    return this as unknown as FileSystemDirectoryHandle;
  }
}
