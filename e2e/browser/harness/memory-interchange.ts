// The page Playwright drives to carry saved memories between the CLI and the browser (issue #13):
// the spec copies a folder `streamvlm watch --save-memory` wrote into this origin's private file
// system, where StreamVLM.openMemory finds saved memories, and copies the browser's own saves out
// for `streamvlm ask --memory`. Files travel as base64 through page.evaluate.
import { StreamVLM, type Moment } from '../../../src/index';
import { planNeedleStream, renderFrame, type NeedleQuestion } from '../../../src/needle/render';

const MODEL = '/tools/fixtures/needle-vlm/';
/** Where src/memory/persist.ts keeps saved memories under the OPFS root. */
const MEMORIES_DIR = 'streamvlm-memory';

export interface InterchangeAnswer {
  tokens: number[];
  text: string;
  moments: { frameIndex: number; from: string }[];
}
export interface MemoryFile {
  name: string;
  base64: string;
}

declare global {
  interface Window {
    memoryInterchange: {
      load: (options: { windowFrames: number; topK: number; maxAnswerTokens: number }) => Promise<void>;
      writeFiles: (memory: string, files: MemoryFile[]) => Promise<void>;
      readFiles: (memory: string) => Promise<MemoryFile[]>;
      open: (memory: string) => Promise<number>;
      save: (memory: string) => Promise<number>;
      watchNeedleClip: (seed: number, frames: number, depth: number) => Promise<{ ingested: number; questions: NeedleQuestion[] }>;
      ask: (question: string) => Promise<InterchangeAnswer>;
      dispose: () => Promise<void>;
    };
  }
}

let vlm: StreamVLM;

const toBase64 = (bytes: Uint8Array) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function memoryDir(memory: string, create: boolean): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return (await root.getDirectoryHandle(MEMORIES_DIR, { create })).getDirectoryHandle(memory, { create });
}

window.memoryInterchange = {
  async load(options) {
    // f32 weights and math, as the CLI's watch in the spec: the same numbers on both sides
    // a queue for the whole clip: pushFrame does not wait for ingest, and a full queue drops frames
    vlm = await StreamVLM.load(MODEL, { ...options, kvBits: 4, weightFormat: 'f32', precision: 'f32', queueCapacity: 30 });
  },
  async writeFiles(memory, files) {
    const dir = await memoryDir(memory, true);
    for (const f of files) {
      const writable = await (await dir.getFileHandle(f.name, { create: true })).createWritable();
      await writable.write(fromBase64(f.base64));
      await writable.close();
    }
  },
  async readFiles(memory) {
    const dir = await memoryDir(memory, false);
    const files: MemoryFile[] = [];
    for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemFileHandle]> }).entries()) {
      files.push({ name, base64: toBase64(new Uint8Array(await (await handle.getFile()).arrayBuffer())) });
    }
    return files;
  },
  async open(memory) {
    return (await vlm.openMemory(memory)).frames;
  },
  async save(memory) {
    return (await vlm.saveMemory(memory)).blocks;
  },
  async watchNeedleClip(seed, frames, depth) {
    const clip = planNeedleStream({ seed, frames, depths: [depth] });
    for (let i = 0; i < frames; i++) await vlm.pushFrame({ width: clip.width, height: clip.height, data: renderFrame(clip, i) }, i * 1000);
    await vlm.idle();
    return { ingested: (await vlm.stats()).frames.ingested, questions: clip.questions };
  },
  async ask(question) {
    let moments: Moment[] = [];
    for await (const e of vlm.ask(question)) {
      if (e.type === 'moments') moments = e.moments;
      if (e.type === 'done') return { tokens: e.tokens, text: e.text, moments: moments.map((m) => ({ frameIndex: m.frameIndex, from: m.from })) };
    }
    throw new Error(`the answer to "${question}" ended without a done event`);
  },
  dispose: () => vlm.dispose(),
};
