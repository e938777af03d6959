// The page Playwright drives for crash-safe saves (issue #14): a memory saved as stream A, then a
// save of stream B under the same name that is interrupted — by a real full disk (the spec lowers
// this origin's quota through the DevTools protocol) or by terminating the worker that saves it —
// and the memory opened again: it must be all of A or all of B, never a mix or a damaged file.
import { StreamVlmError } from '../../../src/errors';
import { deleteMemory, openMemory, saveMemory } from '../../../src/platform/browser/saved-memories';
import { META, streamA, streamB, whichStream } from './crash-save-blocks';

export interface Outcome {
  /** The interrupted save's error, or null when it finished. */
  error: { name: string; code?: string; typed: boolean } | null;
  /** What opening the memory afterwards gives. */
  reopened: 'A' | 'B' | 'neither' | { error: string };
}

declare global {
  interface Window {
    crashSave: {
      /** Saves stream A under `name` (replacing whatever is there); returns the bytes stream B's save would add. */
      saveA: (name: string) => Promise<{ usage: number; bytesOfB: number }>;
      usage: () => Promise<number>;
      /** Saves stream B over A in this page (the spec has set the quota). */
      saveB: (name: string) => Promise<Outcome>;
      /** Saves stream B over A in a worker terminated `afterMs` after it started saving. */
      killedSave: (name: string, afterMs: number) => Promise<Outcome & { finished: boolean }>;
      reopen: (name: string) => Promise<Outcome['reopened']>;
      /** The files in the memory's folder. */
      files: (name: string) => Promise<string[]>;
      /**
       * The states a save cut while replacing the index leaves where writes are not atomic (Safari's
       * sync access handles): index.svmi torn with the new index's whole copy beside it, and a copy
       * torn before index.svmi was touched. Reopened, and saved again.
       */
      tornIndex: (name: string) => Promise<{ tornMain: Outcome['reopened']; tornCopy: Outcome['reopened']; resaved: string[] }>;
    };
  }
}

async function reopen(name: string): Promise<Outcome['reopened']> {
  try {
    const saved = await openMemory(name);
    const blocks = await Promise.all(saved.blocks.map(async ({ loadPayload, ...b }) => ({ ...b, payload: await loadPayload() })));
    return whichStream(blocks);
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

const usage = async () => (await navigator.storage.estimate()).usage ?? 0;

window.crashSave = {
  async saveA(name) {
    await deleteMemory(name);
    await saveMemory(name, META, streamA());
    return { usage: await usage(), bytesOfB: streamB().reduce((n, b) => n + b.payload.byteLength + 64 + b.keySummary.byteLength + b.thumbnail.data.byteLength + 4, 0) };
  },
  usage,
  async saveB(name) {
    let error: Outcome['error'] = null;
    try {
      await saveMemory(name, META, streamB());
    } catch (e) {
      error = { name: (e as Error).name, code: (e as StreamVlmError).code, typed: e instanceof StreamVlmError };
    }
    return { error, reopened: await reopen(name) };
  },
  async killedSave(name, afterMs) {
    const worker = new Worker(new URL('./crash-save-worker.ts', import.meta.url), { type: 'module' });
    let finished = false;
    await new Promise<void>((resolve) => {
      worker.onmessage = (e) => {
        if (e.data === 'saving') setTimeout(resolve, afterMs);
        if (e.data === 'saved') {
          finished = true;
          resolve();
        }
      };
      worker.postMessage({ name });
    });
    worker.terminate();
    return { error: null, finished, reopened: await reopen(name) };
  },
  reopen,
  async tornIndex(name) {
    const dir = async () => (await (await navigator.storage.getDirectory()).getDirectoryHandle('streamvlm-memory')).getDirectoryHandle(name);
    const write = async (file: string, bytes: Uint8Array) => {
      const w = await (await (await dir()).getFileHandle(file, { create: true })).createWritable();
      await w.write(bytes as Uint8Array<ArrayBuffer>);
      await w.close();
    };
    const read = async (file: string) => new Uint8Array(await (await (await (await dir()).getFileHandle(file)).getFile()).arrayBuffer());
    // B saved, then made to look cut while its index replaced A's: index.svmi half written, the copy whole
    await window.crashSave.saveA(name);
    await saveMemory(name, META, streamB());
    const indexOfB = await read('index.svmi');
    await write('index.svmi.next', indexOfB);
    await write('index.svmi', indexOfB.slice(0, indexOfB.length >> 1));
    const tornMain = await reopen(name);
    // A saved, then a copy cut short beside it: index.svmi was never touched, A stands
    await window.crashSave.saveA(name);
    await write('index.svmi.next', indexOfB.slice(0, 20));
    const tornCopy = await reopen(name);
    await saveMemory(name, META, streamA());
    return { tornMain, tornCopy, resaved: await window.crashSave.files(name) };
  },
  async files(name) {
    const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('streamvlm-memory')).getDirectoryHandle(name);
    const names: string[] = [];
    for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(key);
    return names.sort();
  },
};
