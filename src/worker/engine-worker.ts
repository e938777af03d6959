// The engine's Web Worker: the GPU device, the model, the StreamEngine and the Scheduler live here,
// exposed to the page through comlink (src/worker/client.ts is the page's side). Start it with
// `new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module' })`.
import * as Comlink from 'comlink';
import { StreamEngine } from '../engine/stream-engine';
import type { AskEvent, AskOptions, FrameSummary, StreamEngineOptions } from '../engine/types';
import { DeviceLostError, InputError } from '../errors';
import { GpuDevice } from '../gpu/device';
import { deleteMemory, listMemories, openMemory, saveMemory, type SaveReport } from '../memory/persist';
import { OpfsSpill } from '../memory/opfs-spill';
import { CachedUrlSource } from '../model/cached-source';
import type { LoadProgress } from '../model/progress';
import { withOutOfMemoryScope } from '../gpu/out-of-memory';
import { SmolVlm } from '../model/smolvlm';
import { UrlSource, type ModelSource } from '../model/source';
import { rankingFallbackReason } from '../memory/simd-dot';
import { lossBehind, Recovery, type DeviceEvent } from './recovery';
import { checkWorkerFrame, releaseFrame, toRgbImage, type WorkerFrame } from './frames';
import type { OpenMemoryReport, WorkerLoadInfo, WorkerLoadOptions, WorkerStats } from './protocol';
import { Scheduler, type OfferResult, type SchedulerStats } from '../engine/scheduler';
import { installTypedErrors } from './typed-errors';

installTypedErrors();

type DoneEvent = Extract<AskEvent, { type: 'done' }>;

interface Loaded {
  /** Replaced, with the model and the engine, when the device is lost (see recoverFrom). */
  gpu: GpuDevice;
  model: SmolVlm;
  /** Replaced when a saved memory is opened into a stream that already holds frames. */
  engine: StreamEngine;
  scheduler: Scheduler<WorkerFrame, AskOptions, AskEvent>;
  engineOptions: WorkerLoadOptions['engine'];
  modelOptions: WorkerLoadOptions['model'];
  /** Where the weights came from: read again (from the download cache) after a device loss. */
  source: ModelSource;
  /** The saved memory the engine's older frames are read from (openMemory leaves them on disk), or null. */
  openedFrom: string | null;
  recovery: Recovery;
}

let loaded: Loaded | null = null;
let loading: Promise<WorkerLoadInfo> | null = null;
/** The loss not (yet) recovered from, as a message; null while the device works. */
let deviceLost: string | null = null;
/** The page's listener for device events (subscribe). */
let listener: ((e: DeviceEvent) => void) | null = null;

function emit(e: DeviceEvent): void {
  if (listener) Promise.resolve(listener(e)).catch(() => {});
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
async function createEngine(model: SmolVlm, options: StreamEngineOptions = {}): Promise<StreamEngine> {
  const spill = Number.isFinite(options.ramBudgetBytes ?? Infinity) ? await OpfsSpill.create().catch(() => undefined) : undefined;
  try {
    // this worker recovers from device loss: the window's backups let it lose no frame
    return await StreamEngine.create(model, { windowBackup: true, ...options }, { spill });
  } catch (e) {
    await spill?.destroy();
    throw e;
  }
}

async function load(modelUrl: string, options: WorkerLoadOptions = {}, onProgress?: (p: LoadProgress) => void): Promise<WorkerLoadInfo> {
  if (loaded || loading) throw new InputError('load: this worker already has a model; dispose() it and start another worker');
  if (typeof modelUrl !== 'string' || modelUrl === '') throw new InputError('load: modelUrl must be the URL of a model folder (…/resolve/main/)');
  loading = (async () => {
    const gpu = await GpuDevice.acquire();
    try {
      const source = options.cache === false ? new UrlSource(modelUrl) : new CachedUrlSource(modelUrl);
      const progress = onProgress
        ? (p: LoadProgress) => {
            // a page that went away must not stop the load
            Promise.resolve(onProgress(p)).catch(() => {});
          }
        : undefined;
      // a GPU allocation that fails does not throw in WebGPU: the scope turns it into GpuOutOfMemoryError
      const model = await withOutOfMemoryScope(gpu.device, 'loading the model', () => SmolVlm.load(gpu, source, { ...options.model, onProgress: progress }));
      let engine: StreamEngine;
      try {
        engine = await withOutOfMemoryScope(gpu.device, 'creating the stream engine', () => createEngine(model, options.engine));
      } catch (e) {
        await model.dispose();
        throw e;
      }
      const scheduler = new Scheduler<WorkerFrame, AskOptions, AskEvent>(
        {
          // the current engine at each call (openMemory and device recovery replace it)
          ingest: async (frame, ts) => {
            const image = await toRgbImage(frame);
            // a frame whose ingest the device loss broke is ingested again on the new device
            return onEngine(loaded!, (engine) => engine.ingest(image, ts), true);
          },
          ask: (question, askOptions) => askOnEngine(loaded!, question, askOptions),
        },
        { fps: options.fps, queueCapacity: options.queueCapacity, release: releaseFrame },
      );
      loaded = { gpu, model, engine, scheduler, engineOptions: options.engine, modelOptions: options.model, source, openedFrom: null, recovery: new Recovery() };
      watchDevice(loaded, gpu);
      return { adapter: gpu.adapter, precision: model.precision, meta: { ...engine.meta }, engine: { ...engine.options } };
    } catch (e) {
      gpu.destroy();
      throw e;
    }
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
  return {
    frames: loaded ? loaded.scheduler.stats() : EMPTY_STATS,
    engine: loaded && !loaded.recovery.down ? loaded.engine.stats() : null,
    deviceLost,
    recovery: loaded ? { ...loaded.recovery.stats } : null,
    rankingFallback: rankingFallbackReason(),
  };
}

function timeline(fromFrame?: number): FrameSummary[] {
  return ready('timeline').engine.timeline(fromFrame);
}

/** Saves the whole memory (store + window) to OPFS under `name`, incrementally. */
async function saveMemoryAs(name: string): Promise<SaveReport> {
  const l = ready('saveMemory');
  // a save may replace files the stream still reads its older frames from
  await detachFrom(l, name);
  // a consistent cut between engine calls; the writing itself does not hold up the stream
  const { meta, blocks } = await l.scheduler.exclusive(async () => {
    try {
      return await onEngine(l, (engine) => engine.memorySnapshot(), true);
    } catch (e) {
      // no device to recover on: the memory store, which never was on the GPU, is still saved
      const state = lostState.get(l);
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
  for (const key of Object.keys(l.engine.meta) as (keyof typeof saved.meta)[]) {
    if (saved.meta[key] !== l.engine.meta[key]) throw new InputError(`openMemory: "${name}" was saved with ${key} ${String(saved.meta[key])}; this engine has ${String(l.engine.meta[key])}`);
  }
  return l.scheduler.exclusive(async () => {
    await l.recovery.settled();
    const gpu = l.gpu;
    // a device lost while the new engine is made fails this call typed (the stream recovers as it was)
    return openInto(l, name, saved).catch(async (e) => {
      // (an engine that handed over to the recovery refuses as 'disposed': the loss is the reason)
      throw gpu.lost ?? (await lossBehind(gpu, e)) ?? e;
    });
  });
}

/** openMemory's work, between engine calls: the saved blocks into the stream's engine, or a new one. */
async function openInto(l: Loaded, name: string, saved: Awaited<ReturnType<typeof openMemory>>): Promise<OpenMemoryReport> {
  const current = l.engine;
  const gpu = l.gpu;
  const fresh = current.stats().framesIngested === 0 && current.store.frames === 0;
  // restore into a new engine first, so a failure leaves the current stream untouched
  const target = fresh ? current : await createEngine(l.model, l.engineOptions);
  try {
    await target.restoreMemory(saved.meta, saved.blocks);
    // an engine made on a device lost meanwhile must not replace the one the recovery brings
    if (target !== current && gpu.lost) throw gpu.lost;
  } catch (e) {
    if (target !== current) await target.dispose();
    throw e;
  }
  if (target !== current) {
    l.engine = target;
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
  await l.scheduler.exclusive(() => l.engine.store.adoptExternal());
  l.openedFrom = null;
}

async function dispose(): Promise<void> {
  if (loading) await loading.catch(() => {});
  const l = loaded;
  loaded = null;
  listener = null;
  if (!l) return;
  await l.scheduler.close();
  await l.recovery.settled().catch(() => {});
  await l.engine.dispose();
  await l.model.dispose();
  l.gpu.destroy();
}

// ---- device loss ----

/** Recovers when `gpu` is lost while it is the stream's device (not when dispose destroys it). */
function watchDevice(l: Loaded, gpu: GpuDevice): void {
  gpu.onLost((lost) => {
    if (loaded !== l || l.gpu !== gpu) return;
    deviceLost = lost.message;
    emit({ type: 'devicelost', reason: lost.reason, message: lost.message });
    void l.recovery.begin(lost, () => recoverFrom(l, lost)).then(() => {
      if (loaded !== l) return;
      if (l.recovery.down) emit({ type: 'recoveryfailed', name: 'DeviceLostError', message: l.recovery.stats.failed ?? lost.message });
    });
  });
}

/**
 * A new device, the model again (its files from the download cache), and an engine that takes over
 * the lost one's memory store and window backups. The old engine hands its state over once the
 * call it was running has failed (reads from a lost device reject at once).
 */
async function recoverFrom(l: Loaded, lost: DeviceLostError): Promise<void> {
  const t0 = performance.now();
  const state = await l.engine.handOver();
  await l.model.dispose().catch(() => {});
  // a browser may refuse adapters for a moment right after a loss, and a new device may be lost in
  // turn while the weights upload: a few tries, further apart, each from a fresh device
  let failure: unknown = null;
  for (const wait of [0, 250, 1000, 3000]) {
    await new Promise((r) => setTimeout(r, wait));
    const gpu = await GpuDevice.acquire().catch((e) => {
      failure = e;
      return null;
    });
    if (!gpu) continue;
    let fromCache = true;
    try {
      const model = await withOutOfMemoryScope(gpu.device, 'reloading the model', () =>
        SmolVlm.load(gpu, l.source, {
          ...l.modelOptions,
          onProgress: (p) => {
            if (p.phase === 'done') fromCache = p.fromCache;
          },
        }),
      );
      // the state is only read until the new engine exists: a failed try leaves it whole for the next
      const engine = await StreamEngine.create(model, { windowBackup: true, ...l.engineOptions }, { resume: state });
      l.gpu = gpu;
      l.model = model;
      l.engine = engine;
    } catch (e) {
      failure = e;
      gpu.destroy();
      continue;
    }
    deviceLost = null;
    watchDevice(l, gpu);
    const s = l.engine.stats();
    emit({ type: 'recovered', ms: performance.now() - t0, windowFramesRestored: s.windowFrames, framesLost: s.framesLostToDeviceLoss, weightsFromCache: fromCache });
    return;
  }
  lostState.set(l, state);
  throw failure instanceof Error ? failure : new DeviceLostError(lost.reason, 'no WebGPU device could be acquired after the loss');
}

/** The handed-over memory of a stream whose recovery failed (saveMemory still saves its store). */
const lostState = new WeakMap<Loaded, Awaited<ReturnType<StreamEngine['handOver']>>>();

/**
 * Runs `call` on the stream's engine once no recovery is under way. A call the device's loss broke
 * fails with DeviceLostError, or, if `retry`, runs again on the recovered engine (ingest, snapshots:
 * nothing was half-done, since the engine changes its state only after its GPU work succeeded).
 */
async function onEngine<T>(l: Loaded, call: (engine: StreamEngine) => Promise<T>, retry: boolean): Promise<T> {
  for (;;) {
    await l.recovery.settled();
    const gpu = l.gpu;
    try {
      return await call(l.engine);
    } catch (e) {
      const lost = await lossBehind(gpu, e);
      if (!lost) throw e;
      if (!retry) throw lost;
    }
  }
}

/** An answer on the engine after any recovery; one that a loss breaks ends with DeviceLostError. */
async function* askOnEngine(l: Loaded, question: string, options: AskOptions | undefined): AsyncGenerator<AskEvent> {
  await l.recovery.settled();
  const gpu = l.gpu;
  try {
    yield* l.engine.ask(question, options);
  } catch (e) {
    throw (await lossBehind(gpu, e)) ?? e;
  }
}

/** Test hook: destroys the stream's GPUDevice, as a driver reset would (the loss is then real). */
function loseDevice(): void {
  ready('loseDevice').gpu.destroy();
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
