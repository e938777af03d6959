import { QuotaError } from '../../errors';
import { isQuotaError, MemoryFileError, writeWholeFile } from '../../memory/persist';
import type { PayloadSpill } from '../../memory/spill';
import { opfsRoot } from './opfs-root';

const SPILL_DIR = 'streamvlm-spill';

/** The Web Locks API where the context has it (windows and workers; not Node). */
function locks(): LockManager | null {
  return (globalThis.navigator as Navigator | undefined)?.locks ?? null;
}

/**
 * A PayloadSpill in the Origin Private File System: one file per payload under
 * `streamvlm-spill/<session>/`. Each session holds a Web Lock named after its folder for as long as
 * it lives; a tab that closed or crashed leaves its folder unlocked, and the next spill created in
 * this origin removes such folders (the lock is released by the browser, so an open tab's folder is
 * never touched).
 */
export class OpfsSpill implements PayloadSpill {
  private constructor(
    private readonly parent: FileSystemDirectoryHandle,
    private readonly name: string,
    private readonly dir: FileSystemDirectoryHandle,
    private readonly unlock: () => void,
  ) {}

  /** Where spills live: the OPFS root unless `root` is given (tests use a folder of their own). */
  static async create(options: { root?: FileSystemDirectoryHandle } = {}): Promise<OpfsSpill> {
    const root = options.root ?? (await opfsRoot('OpfsSpill: this context has no Origin Private File System (navigator.storage.getDirectory)'));
    const parent = await root.getDirectoryHandle(SPILL_DIR, { create: true });
    const name = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const unlock = await holdLock(lockName(name));
    await sweepAbandoned(parent, name);
    const dir = await parent.getDirectoryHandle(name, { create: true });
    return new OpfsSpill(parent, name, dir, unlock);
  }

  async write(index: number, payload: Uint8Array): Promise<void> {
    try {
      await writeWholeFile(this.dir, fileName(index), payload);
    } catch (e) {
      if (isQuotaError(e)) throw new QuotaError(`OpfsSpill: the browser's storage quota is full; older frames stay in RAM`, { cause: e });
      throw e;
    }
  }

  async read(index: number, bytes: number): Promise<Uint8Array> {
    const where = `${SPILL_DIR}/${this.name}/${fileName(index)}`;
    let file: File;
    try {
      file = await (await this.dir.getFileHandle(fileName(index))).getFile();
    } catch {
      throw new MemoryFileError(where, 'the spilled payload is missing');
    }
    if (file.size !== bytes) throw new MemoryFileError(where, `the spilled payload has ${file.size} bytes, expected ${bytes}`);
    return new Uint8Array(await file.arrayBuffer());
  }

  async destroy(): Promise<void> {
    await this.parent.removeEntry(this.name, { recursive: true }).catch(() => {});
    this.unlock();
  }
}

const fileName = (index: number) => `p${String(index).padStart(7, '0')}.kv`;
const lockName = (session: string) => `${SPILL_DIR}/${session}`;

/** Takes the named lock and keeps it until the returned function is called (no-op without Web Locks). */
async function holdLock(name: string): Promise<() => void> {
  const lm = locks();
  if (!lm) return () => {};
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await new Promise<void>((granted) => {
    void lm.request(name, () => {
      granted();
      return held;
    });
  });
  return release;
}

/** Removes other sessions' folders whose lock nobody holds (their tab is gone). */
async function sweepAbandoned(parent: FileSystemDirectoryHandle, own: string): Promise<void> {
  const lm = locks();
  if (!lm) return;
  const names: string[] = [];
  for await (const key of (parent as unknown as { keys(): AsyncIterable<string> }).keys()) if (key !== own) names.push(key);
  for (const name of names) {
    await lm.request(lockName(name), { ifAvailable: true }, async (lock) => {
      if (lock) await parent.removeEntry(name, { recursive: true }).catch(() => {});
    });
  }
}
