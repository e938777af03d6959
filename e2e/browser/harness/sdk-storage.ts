// The page Playwright drives for the SDK's storage behaviour (issue #14): persistent storage asked
// for and its answer reported, and a full disk (the spec lowers the origin's quota through the
// DevTools protocol) met with a typed QuotaError while the stream goes on.
import { StreamVLM, StreamVlmError, type StoragePersistence, type StreamVLMStats } from '../../../src/index';
import { planNeedleStream, renderFrame } from '../../../src/needle/render';

const MODEL = '/tools/fixtures/needle-vlm/';
const clip = planNeedleStream({ seed: 3, frames: 30, depths: [0.1] });

declare global {
  interface Window {
    sdkStorage: {
      start: () => Promise<{ storageEvent: StoragePersistence; stats: StoragePersistence | null; browserSays: boolean }>;
      save: (name: string) => Promise<{ blocks: number } | { name: string; code?: string; typed: boolean; message: string }>;
      push: (from: number, to: number) => Promise<StreamVLMStats>;
      ask: () => Promise<number>;
      open: (name: string) => Promise<number>;
      dispose: () => Promise<void>;
    };
  }
}

let vlm: StreamVLM;

window.sdkStorage = {
  async start() {
    vlm = await StreamVLM.load(MODEL, { windowFrames: 4, topK: 2, maxAnswerTokens: 4, timestamps: 'frames', queueCapacity: 30, memoryRamMB: 0 });
    const storageEvent = await new Promise<StoragePersistence>((resolve) => vlm.addEventListener('storage', (e) => resolve(e.detail), { once: true }));
    return { storageEvent, stats: (await vlm.stats()).storage, browserSays: await navigator.storage.persisted() };
  },
  async save(name) {
    try {
      return { blocks: (await vlm.saveMemory(name)).blocks };
    } catch (e) {
      return { name: (e as Error).name, code: (e as StreamVlmError).code, typed: e instanceof StreamVlmError, message: (e as Error).message };
    }
  },
  async push(from, to) {
    for (let i = from; i < to; i++) await vlm.pushFrame({ width: clip.width, height: clip.height, data: renderFrame(clip, i) }, i * 1000);
    await vlm.idle();
    return vlm.stats();
  },
  async ask() {
    let tokens = 0;
    for await (const e of vlm.ask('What color was the star?')) if (e.type === 'done') tokens = e.tokens.length;
    return tokens;
  },
  async open(name) {
    return (await vlm.openMemory(name)).frames;
  },
  dispose: () => vlm.dispose(),
};
