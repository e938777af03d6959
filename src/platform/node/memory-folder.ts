import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError } from '../../errors';
import type { FrameBlock, KvStoreBits, LazyFrameBlock } from '../../memory/frame-block';
import { INDEX_FILE, readMemory, writeMemory, type SavedMemory, type SaveReport } from '../../memory/persist';
import type { StoreMeta } from '../../memory/store';
import { NodeDirectoryHandle } from './fs-directory';

/**
 * A stream's memory in a folder on disk: the browser's saved-memory format (index.svmi and one
 * .svmb file per frame, src/memory/persist.ts) plus `streamvlm-watch.json`, the settings `watch`
 * ran with, so that `streamvlm ask --memory DIR` can rebuild the same engine without being told.
 */
export interface WatchSettings {
  /** --model as given to watch (a hub id, URL or folder). */
  model: string;
  weights: string;
  precision: 'f32' | 'f16';
  windowFrames?: number;
  topK?: number;
  kvBits: KvStoreBits;
  frameResize?: 'video' | 'image';
  fps: number;
}

const SETTINGS_FILE = 'streamvlm-watch.json';

/**
 * Refuses a folder that holds other things (a save sweeps stale frame files from its folder; a
 * user's folder must not be mistaken for an old save), before any work is done.
 */
export async function checkMemoryFolder(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new InputError(`--save-memory ${dir}: not a folder that can be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (names.length > 0 && !names.includes(INDEX_FILE)) throw new InputError(`--save-memory ${dir}: the folder holds other files; give a new or empty folder (or an earlier saved memory to replace)`);
}

export async function saveMemoryFolder(dir: string, meta: StoreMeta, blocks: readonly (FrameBlock | LazyFrameBlock)[], settings: WatchSettings): Promise<SaveReport> {
  await mkdir(dir, { recursive: true });
  const report = await writeMemory(new NodeDirectoryHandle(resolve(dir)).asHandle(), dir, meta, blocks);
  await writeFile(join(dir, SETTINGS_FILE), JSON.stringify(settings, null, 1) + '\n');
  return report;
}

/** The saved memory (every file read and checked) and the settings it was made with. */
export async function openMemoryFolder(dir: string): Promise<{ memory: SavedMemory; settings: WatchSettings | null }> {
  if (!existsSync(join(dir, INDEX_FILE))) throw new InputError(`--memory ${dir}: no saved memory there (no ${INDEX_FILE}); make one with streamvlm watch --save-memory ${dir}`);
  const memory = await readMemory(new NodeDirectoryHandle(resolve(dir)).asHandle(), dir);
  const raw = await readFile(join(dir, SETTINGS_FILE), 'utf8').catch(() => null);
  let settings: WatchSettings | null = null;
  try {
    settings = raw ? (JSON.parse(raw) as WatchSettings) : null;
  } catch {
    throw new InputError(`--memory ${dir}: ${SETTINGS_FILE} is not valid JSON`);
  }
  return { memory, settings };
}
