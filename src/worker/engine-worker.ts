// The engine's Web Worker: the GPU device, the model, the StreamEngine and the Scheduler live here,
// exposed to the page through comlink (src/worker/client.ts is the page's side). Start it with
// `new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module' })`.
import * as Comlink from 'comlink';
import { StreamEngine } from '../engine/stream-engine';
import type { AskEvent, AskOptions, FrameSummary, StreamEngineOptions } from '../engine/types';
import { DeviceLostError, InputError } from '../errors';
import { checkSetting, SDK_DEFAULTS } from '../settings/index';
import { GpuDevice } from '../gpu/device';
import { checkStoreMeta } from '../memory/compatibility';
import type { SaveReport } from '../memory/persist';
import { deleteMemory, listMemories, openMemory, saveMemory } from '../platform/browser/saved-memories';
import { OpfsSpill } from '../platform/browser/opfs-spill';
import { CachedUrlSource } from '../platform/browser/cached-source';
import type { LoadProgress } from '../model/progress';
import { withOutOfMemoryScope } from '../gpu/out-of-memory';
import type { VisionLanguageModel } from '../families/family';
import { loadModel } from '../families/registry';
import { UrlSource } from '../model/source';
import { rankingFallbackReason } from '../memory/simd-dot';
import { lossBehind, type DeviceEvent } from '../engine/recovery';
import { RecoverableStream } from '../engine/recoverable-stream';
import type { EngineState } from '../engine/engine-state';
import { checkWorkerFrame, releaseFrame, toRgbImage, type WorkerFrame } from './frames';
import type { OpenMemoryReport, WorkerLoadInfo, WorkerLoadOptions, WorkerStats } from './protocol';
import { Scheduler, type OfferResult, type SchedulerStats } from '../engine/scheduler';
import { installTypedErrors } from './typed-errors';
import { browserRankingWorkers } from '../platform/browser/ranking-workers';
import type { ParallelRanking } from '../memory/ranking-shard-protocol';

installTypedErrors();

type DoneEvent = Extract<AskEvent, { type: 'done' }>;

interface Loaded {
  /**
   * The device, the model and the engine, replaced by itself when the device is lost; the engine
   * also when a saved memory is opened into a stream that already holds frames.
   */
  stream: RecoverableStream;
  scheduler: Scheduler<WorkerFrame, AskOptions, AskEvent>;
  engineOptions: WorkerLoadOptions['engine'];
  /** The ranking workers each new engine's index starts (undefined: none). */
  ranking: ParallelRanking | undefined;
  /** The saved memory the engine's older frames are read from (openMemory leaves them on disk), or null. */
  openedFrom: string | null;
}

let loaded: Loaded | null = null;
let loading: Promise<WorkerLoadInfo> | null = null;
/** The page's listener for device events (subscribe). */
let listener: ((e: DeviceEvent) => void) | null = null;

/** Tells the page; resolves once its listener ran (never rejects: a page that went away must not stop the stream). */
function emit(e: DeviceEvent): Promise<void> {
  return listener ? Promise.resolve(listener(e)).catch(() => {}) : Promise.resolve();
}
/** Questions in flight by id, so the page can stop one (`cancelAsk`). */
const asks = new Map<number, { aborted: boolean }>();
/** Scheduler stats before load: nothing offered yet. */
const EMPTY_STATS: SchedulerStats = new Scheduler({ ingest: async () => {}, ask: async function* () {} }).stats();

/** Closes the port of a page callback comlink proxied here (after the calls made through it). */
function releaseCallback(callback: unknown): void {
  const release = (callback as { [Comlink.releaseProxy]?: () => void } | undefined)?.[Comlink.releaseProxy];
  if (typeof release === 'function') release();
}

function ready(what: string): Loaded {
  if (!loaded) throw new InputError(`${what}: no model is loaded; call load(modelUrl) first`);
  return loaded;
}

/**
 * A StreamEngine whose memory keeps `ramBudgetBytes` of K/V payloads in RAM and the rest in this
 * origin's private file system. Without OPFS (or if it cannot be opened) the budget is not enforced
 * and every payload stays in RAM, as before budgets existed.
 */
async function createEngine(model: VisionLanguageModel, options: StreamEngineOptions = {}, resume?: EngineState, ranking?: ParallelRanking): Promise<StreamEngine> {
  // this worker recovers from device loss: the window's backups let it lose no frame
  const settings: StreamEngineOptions = { windowBackup: SDK_DEFAULTS.windowBackup, ...options };
  if (resume) return StreamEngine.create(model, settings, { resume });
  const spill = Number.isFinite(options.ramBudgetBytes ?? Infinity) ? await OpfsSpill.create().catch(() => undefined) : undefined;
  try {
    return await StreamEngine.create(model, settings, { spill, ranking });
  } catch (e) {
    await spill?.destroy();
    throw e;
  }
}

async function load(modelUrl: string, options: WorkerLoadOptions = {}, onProgress?: (p: LoadProgress) => void): Promise<WorkerLoadInfo> {
  if (loaded || loading) throw new InputError('load: this worker already has a model; dispose() it and start another worker');
  if (typeof modelUrl !== 'string' || modelUrl === '') throw new InputError('load: modelUrl must be the URL of a model folder (…/resolve/main/)');
  loading = (async () => {
    checkSetting('rankingThreads', options.rankingThreads, 'load: rankingThreads');
    const threads = options.rankingThreads ?? SDK_DEFAULTS.rankingThreads;
    const ranking = browserRankingWorkers(threads === 'auto' ? undefined : threads);
    const source = options.cache === false ? new UrlSource(modelUrl) : new CachedUrlSource(modelUrl);
    // progress goes to the page for the first load only; a recovery's reload is reported by events
    let progress: ((p: LoadProgress) => void) | undefined = onProgress
      ? (p) => {
          // a page that went away must not stop the load
          Promise.resolve(onProgress(p)).catch(() => {});
        }
      : undefined;
    // the test hook: which loads' devices are destroyed (none unless a test asked)
    const loseDuringLoads = new Set(options.loseDeviceDuringLoadsForTesting ?? []);
    let loads = 0;
    let loadEvents: Promise<void>[] | null = [];
    const starting = RecoverableStream.start(
      {
        acquire: () => GpuDevice.acquire(),
        async loadModel(gpu) {
          let fromCache = false;
          const report = progress;
          const loseHere = loseDuringLoads.has(loads++);
          // a GPU allocation that fails does not throw in WebGPU: the scope turns it into GpuOutOfMemoryError
          const model = await withOutOfMemoryScope(gpu.device, 'loading the model', () =>
            loadModel(gpu, source, {
              ...options.model,
              onProgress: (p) => {
                if (p.phase === 'done') fromCache = p.fromCache;
                if (loseHere && p.phase === 'upload' && !gpu.lost) gpu.device.destroy();
                report?.(p);
              },
            }),
          );
          return { model, fromCache };
        },
        createEngine: (model, resume) => withOutOfMemoryScope(model.gpu.device, 'creating the stream engine', () => createEngine(model, options.engine, resume, ranking)),
      },
      (e) => {
        const told = emit(e);
        if (loadEvents) loadEvents.push(told);
      },
    );
    // the load's own events reach the page before load() resolves or rejects (their port is not load's)
    const stream = await starting.finally(async () => {
      await Promise.all(loadEvents ?? []);
      loadEvents = null;
    });
    // the first load's progress (its tries after a lost device included) went to the page; a later
    // recovery's reload is reported by events
    progress = undefined;
    const scheduler = new Scheduler<WorkerFrame, AskOptions, AskEvent>(
      {
        // the current engine at each call (openMemory and device recovery replace it)
        ingest: async (frame, ts) => {
          const image = await toRgbImage(frame);
          // a frame whose ingest the device loss broke is ingested again on the new device
          return stream.run((engine) => engine.ingest(image, ts), true);
        },
        ask: (question, askOptions) => stream.ask(question, askOptions),
      },
      { fps: options.fps, queueCapacity: options.queueCapacity, release: releaseFrame },
    );
    loaded = { stream, scheduler, engineOptions: options.engine, ranking, openedFrom: null };
    const { gpu, model, engine } = stream;
    return { adapter: gpu.adapter, precision: model.precision, meta: { ...engine.meta }, engine: { ...engine.options } };
  })();
  try {
    return await loading;
  } finally {
    loading = null;
    releaseCallback(onProgress);
  }
}

/**
 * Offers a frame (transfer VideoFrames and ImageBitmaps; this side closes them). Returns at once
 * whether the sampler took it; a bad frame or timestamp throws InputError and changes nothing.
 */
function pushFrame(frame: WorkerFrame, timestampMs: number): OfferResult {
  let l: Loaded;
  try {
    l = ready('pushFrame');
  } catch (e) {
    releaseFrame(frame);
    throw e;
  }
  try {
    checkWorkerFrame(frame);
  } catch (e) {
    l.scheduler.noteRejected();
    throw e;
  }
  return l.scheduler.offer(frame, timestampMs);
}

/**
 * Answers a question ahead of waiting frames; `onEvent` gets moments, tokens and done as they come
 * (not awaited: the answer does not wait for the page). Resolves with the done event.
 */
async function ask(question: string, options: AskOptions | undefined, onEvent?: (e: AskEvent) => void, id?: number): Promise<DoneEvent> {
  const l = ready('ask');
  const signal = { aborted: false };
  if (id !== undefined) asks.set(id, signal);
  let done: DoneEvent | null = null;
  // the page's callback runs on its own message port: its calls are not awaited one by one (the
  // answer does not wait for the page), but all are before this returns, so the page sees every
  // event before the call resolves
  const delivered: Promise<unknown>[] = [];
  try {
    await l.scheduler.ask(question, options, (e) => {
      if (e.type === 'done') done = e;
      if (onEvent) delivered.push(Promise.resolve(onEvent(e)).catch(() => {}));
    }, signal);
    await Promise.all(delivered);
  } finally {
    if (id !== undefined) asks.delete(id);
    releaseCallback(onEvent);
  }
  if (!done) throw new InputError('ask: the answer was stopped before it finished');
  return done;
}

function cancelAsk(id: number): void {
  const signal = asks.get(id);
  if (signal) signal.aborted = true;
}

function stats(): WorkerStats {
  const stream = loaded?.stream;
  return {
    frames: loaded ? loaded.scheduler.stats() : EMPTY_STATS,
    engine: stream && !stream.recovery.down ? stream.engine.stats() : null,
    deviceLost: stream?.deviceLost ?? null,
    recovery: stream ? { ...stream.recovery.stats } : null,
    rankingFallback: rankingFallbackReason(),
  };
}

function timeline(fromFrame?: number): FrameSummary[] {
  return ready('timeline').stream.engine.timeline(fromFrame);
}

/** Saves the whole memory (store + window) to OPFS under `name`, incrementally. */
async function saveMemoryAs(name: string): Promise<SaveReport> {
  const l = ready('saveMemory');
  // a save may replace files the stream still reads its older frames from
  await detachFrom(l, name);
  // a consistent cut between engine calls; the writing itself does not hold up the stream
  const { meta, blocks } = await l.scheduler.exclusive(async () => {
    try {
      return await l.stream.run((engine) => engine.memorySnapshot(), true);
    } catch (e) {
      // no device to recover on: the memory store, which never was on the GPU, is still saved
      const state = l.stream.orphanedState;
      if (!(e instanceof DeviceLostError) || !state) throw e;
      return { meta: { ...state.store.meta }, blocks: state.store.lazyBlocks() };
    }
  });
  return saveMemory(name, meta, blocks);
}

/**
 * Opens a memory saved under `name` as this stream's memory. Everything is read and checked first;
 * a damaged file or a memory of another model or KV setting is refused and the current stream is
 * kept as it was. A stream that already holds frames is replaced by the saved one.
 */
async function openMemoryNamed(name: string): Promise<OpenMemoryReport> {
  const l = ready('openMemory');
  const saved = await openMemory(name);
  const meta = l.stream.engine.meta;
  checkStoreMeta(saved.meta, meta, (key, have, want) => `openMemory: "${name}" was saved with ${key} ${have}; this engine has ${want}`);
  return l.scheduler.exclusive(async () => {
    await l.stream.recovery.settled();
    const gpu = l.stream.gpu;
    // a device lost while the new engine is made fails this call typed (the stream recovers as it was)
    return openInto(l, name, saved).catch(async (e) => {
      // (an engine that handed over to the recovery refuses as 'disposed': the loss is the reason)
      throw gpu.lost ?? (await lossBehind(gpu, e)) ?? e;
    });
  });
}

/** openMemory's work, between engine calls: the saved blocks into the stream's engine, or a new one. */
async function openInto(l: Loaded, name: string, saved: Awaited<ReturnType<typeof openMemory>>): Promise<OpenMemoryReport> {
  const current = l.stream.engine;
  const gpu = l.stream.gpu;
  const fresh = current.stats().framesIngested === 0 && current.store.frames === 0;
  // restore into a new engine first, so a failure leaves the current stream untouched
  const target = fresh ? current : await createEngine(l.stream.model, l.engineOptions, undefined, l.ranking);
  try {
    await target.restoreMemory(saved.meta, saved.blocks);
    // an engine made on a device lost meanwhile must not replace the one the recovery brings
    if (target !== current && gpu.lost) throw gpu.lost;
  } catch (e) {
    if (target !== current) await target.dispose();
    throw e;
  }
  if (target !== current) {
    l.stream.replaceEngine(target);
    await current.dispose();
  }
  l.openedFrom = name;
  const last = target.stats().lastTimestampMs;
  l.scheduler.setClock(last);
  return { frames: target.store.frames, lastTimestampMs: last };
}

/**
 * Deletes a saved memory. If the stream was opened from it, its frames are first read into the
 * stream's own memory (RAM and spill), so deleting the files does not take them away.
 */
async function deleteMemoryNamed(name: string): Promise<boolean> {
  if (loaded) await detachFrom(loaded, name);
  return deleteMemory(name);
}

/** If the stream reads older frames from the saved memory `name`, takes them into its own memory first. */
async function detachFrom(l: Loaded, name: string): Promise<void> {
  if (l.openedFrom !== name) return;
  await l.scheduler.exclusive(() => l.stream.engine.store.adoptExternal());
  l.openedFrom = null;
}

async function dispose(): Promise<void> {
  if (loading) await loading.catch(() => {});
  const l = loaded;
  loaded = null;
  listener = null;
  if (!l) return;
  await l.scheduler.close();
  await l.stream.dispose();
}

// ---- device loss ----

/** Test hook: destroys the stream's GPUDevice, as a driver reset would (the loss is then real). */
function loseDevice(): void {
  ready('loseDevice').stream.loseDevice();
}

/** Where device events go (the page's StreamVLM); one listener, replaced by the next call. */
function subscribe(callback: (e: DeviceEvent) => void): void {
  if (listener && listener !== callback) releaseCallback(listener);
  listener = callback;
}

const api = {
  load,
  pushFrame,
  ask,
  cancelAsk,
  stats,
  timeline,
  pause: () => ready('pause').scheduler.pause(),
  resume: () => ready('resume').scheduler.resume(),
  setFps: (fps: number) => {
    ready('setFps').scheduler.fps = fps;
  },
  /** Resolves when every taken frame is ingested and no question waits. */
  idle: () => ready('idle').scheduler.idle(),
  saveMemory: saveMemoryAs,
  openMemory: openMemoryNamed,
  listMemories: () => listMemories(),
  deleteMemory: deleteMemoryNamed,
  subscribe,
  loseDevice,
  dispose,
};

export type EngineWorkerApi = typeof api;

Comlink.expose(api);
