import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryFileError } from '../../memory/persist';
import type { PayloadSpill } from '../../memory/spill';

/**
 * The memory store's spill for Node (`streamvlm watch --memory-ram-mb`): one file per payload in a
 * fresh folder under the system's temp directory, removed when the engine is disposed.
 */
export class FsSpill implements PayloadSpill {
  private constructor(private readonly dir: string) {}

  static async create(parent = tmpdir()): Promise<FsSpill> {
    return new FsSpill(await mkdtemp(join(parent, 'streamvlm-spill-')));
  }

  private path(index: number): string {
    return join(this.dir, `p${String(index).padStart(7, '0')}.kv`);
  }

  write(index: number, payload: Uint8Array): Promise<void> {
    return writeFile(this.path(index), payload);
  }

  async read(index: number, bytes: number): Promise<Uint8Array> {
    const file = this.path(index);
    const size = await stat(file).then((s) => s.size, () => -1);
    if (size < 0) throw new MemoryFileError(file, 'the spilled payload is missing');
    if (size !== bytes) throw new MemoryFileError(file, `the spilled payload has ${size} bytes, expected ${bytes}`);
    return new Uint8Array(await readFile(file));
  }

  destroy(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}
