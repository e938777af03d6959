/**
 * A directory in memory with the part of the File System Access API that persist.ts reads
 * (getDirectoryHandle, getFileHandle → getFile → size / arrayBuffer, keys, entries), so openMemory
 * runs in Node on a fuzzed set of files exactly as it does on OPFS. Read-only: the fuzz target
 * only opens memories.
 */
type Node = Map<string, Node> | Uint8Array;

const notFound = (name: string) => new DOMException(`${name} not found`, 'NotFoundError');

export class MemoryDirectory {
  readonly kind = 'directory';
  constructor(
    readonly name: string,
    private readonly children: Map<string, Node>,
  ) {}

  async getDirectoryHandle(name: string): Promise<MemoryDirectory> {
    const child = this.children.get(name);
    if (!(child instanceof Map)) throw notFound(name);
    return new MemoryDirectory(name, child);
  }

  async getFileHandle(name: string): Promise<{ kind: 'file'; getFile(): Promise<{ size: number; arrayBuffer(): Promise<ArrayBuffer> }> }> {
    const child = this.children.get(name);
    if (!(child instanceof Uint8Array)) throw notFound(name);
    return {
      kind: 'file',
      getFile: async () => ({ size: child.byteLength, arrayBuffer: async () => child.slice().buffer }),
    };
  }

  async *keys(): AsyncIterable<string> {
    yield* this.children.keys();
  }

  async *entries(): AsyncIterable<[string, { kind: string }]> {
    for (const [k, v] of this.children) yield [k, { kind: v instanceof Map ? 'directory' : 'file' }];
  }
}

/** An OPFS-like root holding `streamvlm-memory/<name>/` with these files. */
export function memoryRoot(name: string, files: Map<string, Uint8Array>): FileSystemDirectoryHandle {
  const root = new Map<string, Node>([['streamvlm-memory', new Map<string, Node>([[name, new Map<string, Node>(files)]])]]);
  return new MemoryDirectory('', root) as unknown as FileSystemDirectoryHandle;
}
