import * as Comlink from 'comlink';
import { AsyncChannel } from '../engine/async-channel';
import type { AskEvent, AskOptions, FrameSummary } from '../engine/types';
import type { SaveReport } from '../memory/persist';
import type { LoadProgress } from '../model/progress';
import type { EngineWorkerApi } from './engine-worker';
import type { WorkerFrame } from './frames';
import type { OpenMemoryReport, WorkerLoadInfo, WorkerLoadOptions, WorkerStats } from './protocol';
import type { OfferResult } from '../engine/scheduler';
import type { DeviceEvent } from '../engine/recovery';
import { installTypedErrors } from './typed-errors';

installTypedErrors();

type DoneEvent = Extract<AskEvent, { type: 'done' }>;

const isTransferable = (frame: unknown) =>
  (typeof VideoFrame === 'function' && frame instanceof VideoFrame) || (typeof ImageBitmap === 'function' && frame instanceof ImageBitmap);

/**
 * The page's handle on the engine worker (src/worker/engine-worker.ts): typed calls through comlink,
 * frames transferred rather than copied, answers as async generators, and the engine's typed errors
 * (InputError, ModelLoadError, MemoryFileError, …) rethrown as the same classes.
 */
export class EngineWorkerClient {
  private readonly remote: Comlink.Remote<EngineWorkerApi>;
  private nextAskId = 1;
  private terminated = false;

  private constructor(private readonly worker: Worker) {
    this.remote = Comlink.wrap<EngineWorkerApi>(worker);
  }

  /** Starts the worker (bundlers emit engine-worker.ts as its own chunk from this `new URL`). */
  static start(): EngineWorkerClient {
    return new EngineWorkerClient(new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module', name: 'streamvlm-engine' }));
  }

  /** Wraps a worker the caller started from engine-worker.ts (a custom bundling or URL). */
  static wrap(worker: Worker): EngineWorkerClient {
    return new EngineWorkerClient(worker);
  }

  /** Acquires the GPU in the worker, loads the model folder at `modelUrl` and creates the engine. */
  load(modelUrl: string, options: WorkerLoadOptions = {}, onProgress?: (p: LoadProgress) => void): Promise<WorkerLoadInfo> {
    // a relative URL means relative to this page, not to the worker's script
    const url = new URL(modelUrl, globalThis.location?.href).href;
    return this.remote.load(url, options, onProgress ? Comlink.proxy(onProgress) : undefined);
  }

  /**
   * Offers a frame at `timestampMs` (ms since the stream began, never decreasing). VideoFrames and
   * ImageBitmaps are transferred: they are unusable here afterwards and the worker closes them.
   */
  pushFrame(frame: WorkerFrame, timestampMs: number): Promise<OfferResult> {
    return this.remote.pushFrame(isTransferable(frame) ? Comlink.transfer(frame, [frame as unknown as Transferable]) : frame, timestampMs);
  }

  /**
   * Asks a question: yields the moments used, each token, then done. Breaking out of the loop stops
   * the answer in the worker at its next token.
   */
  async *ask(question: string, options?: AskOptions): AsyncGenerator<AskEvent> {
    const channel = new AsyncChannel<AskEvent>();
    const id = this.nextAskId++;
    let finished = false;
    const run = this.remote.ask(question, options, Comlink.proxy((e: AskEvent) => channel.push(e)), id);
    run.then(
      () => channel.close(),
      (e) => channel.close(e),
    );
    try {
      for await (const event of channel) {
        if (event.type === 'done') finished = true;
        yield event;
      }
    } finally {
      if (!finished && !this.terminated) void this.remote.cancelAsk(id).catch(() => {});
    }
  }

  /** Asks and waits for the whole answer. */
  async answer(question: string, options?: AskOptions): Promise<DoneEvent & { moments: Extract<AskEvent, { type: 'moments' }>['moments'] }> {
    let moments: Extract<AskEvent, { type: 'moments' }>['moments'] = [];
    for await (const e of this.ask(question, options)) {
      if (e.type === 'moments') moments = e.moments;
      if (e.type === 'done') return { ...e, moments };
    }
    throw new Error('the answer ended without a done event');
  }

  stats(): Promise<WorkerStats> {
    return this.remote.stats();
  }

  timeline(fromFrame?: number): Promise<FrameSummary[]> {
    return this.remote.timeline(fromFrame);
  }

  pause(): Promise<void> {
    return this.remote.pause();
  }

  resume(): Promise<void> {
    return this.remote.resume();
  }

  setFps(fps: number): Promise<void> {
    return this.remote.setFps(fps);
  }

  /** Resolves when every frame taken so far is ingested and no question waits. */
  idle(): Promise<void> {
    return this.remote.idle();
  }

  /** Saves the stream's memory (store and window) to the origin's private file system under `name`. */
  saveMemory(name: string): Promise<SaveReport> {
    return this.remote.saveMemory(name);
  }

  /** Makes the memory saved under `name` this stream's memory (new frames must come after its last). */
  openMemory(name: string): Promise<OpenMemoryReport> {
    return this.remote.openMemory(name);
  }

  listMemories(): Promise<string[]> {
    return this.remote.listMemories();
  }

  deleteMemory(name: string): Promise<boolean> {
    return this.remote.deleteMemory(name);
  }

  /** `listener` gets the worker's device events (lost, recovered, recovery failed); one listener at a time. */
  onDeviceEvent(listener: (e: DeviceEvent) => void): Promise<void> {
    return this.remote.subscribe(Comlink.proxy(listener));
  }

  /**
   * Test hook: destroys the worker's GPUDevice (GPUDevice.destroy()), which the browser reports as
   * a real loss; the engine then recovers as it would from a driver reset.
   */
  loseDevice(): Promise<void> {
    return this.remote.loseDevice();
  }

  /** Frees the engine, the model and the GPU device, then ends the worker. */
  async dispose(): Promise<void> {
    if (this.terminated) return;
    try {
      await this.remote.dispose();
    } finally {
      this.terminated = true;
      this.remote[Comlink.releaseProxy]();
      this.worker.terminate();
    }
  }
}
