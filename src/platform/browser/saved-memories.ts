import type { FrameBlock, LazyFrameBlock } from '../../memory/frame-block';
import * as persist from '../../memory/persist';
import type { PersistOptions, SavedMemory, SaveReport } from '../../memory/persist';
import type { StoreMeta } from '../../memory/store';
import { opfsRoot } from './opfs-root';

/**
 * Saved memories in the browser: src/memory/persist.ts's functions with their root defaulting to
 * the origin's private file system, as the SDK exports them. The OPFS is opened only when a call
 * needs it, so a page without it fails at that call with the reason.
 */
const OPFS_MISSING = 'Saving memory needs the Origin Private File System (navigator.storage.getDirectory), which this environment lacks; use a recent browser over https:// or http://localhost.';

const inOpfs = (options: PersistOptions): PersistOptions => ({ ...options, root: options.root ?? (() => opfsRoot(OPFS_MISSING)) });

/** persist.saveMemory under the OPFS root unless `options.root` is given. */
export function saveMemory(name: string, meta: StoreMeta, blocks: readonly (FrameBlock | LazyFrameBlock)[], options: PersistOptions = {}): Promise<SaveReport> {
  return persist.saveMemory(name, meta, blocks, inOpfs(options));
}

/** persist.openMemory under the OPFS root unless `options.root` is given. */
export function openMemory(name: string, options: PersistOptions = {}): Promise<SavedMemory> {
  return persist.openMemory(name, inOpfs(options));
}

/** Names of the memories saved in this origin (or under `options.root`). */
export function listMemories(options: PersistOptions = {}): Promise<string[]> {
  return persist.listMemories(inOpfs(options));
}

/** persist.deleteMemory under the OPFS root unless `options.root` is given. */
export function deleteMemory(name: string, options: PersistOptions = {}): Promise<boolean> {
  return persist.deleteMemory(name, inOpfs(options));
}
