import { DeviceLostError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import type { VisionLanguageModel } from '../families/family';
import type { EngineState } from './engine-state';
import { lossBehind, Recovery, type DeviceEvent } from './recovery';
import type { StreamEngine } from './stream-engine';
import type { AskEvent, AskOptions } from './types';

/** How a RecoverableStream makes its parts: at start, and again on a new device after a loss. */
export interface StreamFactory {
  /** A GPU device (the browser's or Dawn's). */
  acquire(): Promise<GpuDevice>;
  /** The model onto `gpu`; `fromCache`: every file came from the download cache (no network). */
  loadModel(gpu: GpuDevice): Promise<{ model: VisionLanguageModel; fromCache: boolean }>;
  /** An engine on `model`; with `resume`, one that takes over a lost engine's memory and window. */
  createEngine(model: VisionLanguageModel, resume?: EngineState): Promise<StreamEngine>;
}

/** Waits before each try at a new device: a browser may refuse adapters for a moment after a loss. */
const RETRY_WAITS_MS = [0, 250, 1000, 3000];

/**
 * A stream that survives the loss of its GPU device (DOM-free: the worker and the CLI use it). It
 * holds the device, the model and the engine; when the device is lost it replaces all three by
 * itself — a new device, the weights again through `factory.loadModel` (the download cache), and an
 * engine that takes over the lost one's memory store (RAM / OPFS, never on the GPU) and rebuilds the
 * window from its RAM backups. Calls go through `run` and `ask`, which wait for a recovery under
 * way; a call the loss broke fails with DeviceLostError or, where that is safe, runs again.
 */
export class RecoverableStream {
  readonly recovery = new Recovery();
  /** The loss not yet recovered from, as a message; null while a device runs the stream. */
  deviceLost: string | null = null;
  /** The lost engine's state when no new device could run it (its store can still be saved). */
  private orphan: EngineState | null = null;
  private closed = false;

  private constructor(
    private readonly factory: StreamFactory,
    private parts: { gpu: GpuDevice; model: VisionLanguageModel; engine: StreamEngine },
    private readonly onEvent: (e: DeviceEvent) => void,
  ) {
    this.watch(parts.gpu);
  }

  /**
   * The device, the model and the engine. A device lost while they are made (a driver reset during a
   * long first download) is met as a loss later is: 'devicelost', then the whole start again on a
   * new device (the files already downloaded come from the cache), then 'recovered'; after the
   * last try the call fails with DeviceLostError. Any other failure fails the call as it is.
   */
  static async start(factory: StreamFactory, onEvent: (e: DeviceEvent) => void = () => {}): Promise<RecoverableStream> {
    let lost: DeviceLostError | null = null;
    let t0 = 0;
    for (const [attempt, wait] of RETRY_WAITS_MS.entries()) {
      if (lost) await new Promise((r) => setTimeout(r, wait));
      const gpu = await factory.acquire();
      try {
        const { parts, fromCache } = await partsOn(factory, gpu);
        const stream = new RecoverableStream(factory, parts, onEvent);
        if (lost) {
          const ms = performance.now() - t0;
          stream.recovery.noteStartRecovery(attempt, ms);
          onEvent({ type: 'recovered', ms, windowFramesRestored: 0, framesLost: 0, weightsFromCache: fromCache });
        }
        return stream;
      } catch (e) {
        const behind = await lossBehind(gpu, e);
        gpu.destroy();
        if (!behind) throw e;
        if (!lost) t0 = performance.now();
        lost = behind;
        onEvent({ type: 'devicelost', reason: behind.reason, message: behind.message });
      }
    }
    throw lost!;
  }

  get gpu(): GpuDevice {
    return this.parts.gpu;
  }

  get model(): VisionLanguageModel {
    return this.parts.model;
  }

  /** The engine now (replaced by a recovery, or by `replaceEngine`). */
  get engine(): StreamEngine {
    return this.parts.engine;
  }

  /** Puts another engine on the current model in place (a saved memory opened); the caller disposes the old one. */
  replaceEngine(engine: StreamEngine): void {
    this.parts.engine = engine;
  }

  /** The lost engine's memory when no device could take it over (saveMemory still saves its store), else null. */
  get orphanedState(): EngineState | null {
    return this.orphan;
  }

  /**
   * Runs `call` on the engine once no recovery is under way. A call the loss broke fails with
   * DeviceLostError, or, if `retry`, runs again on the recovered engine (ingest, snapshots: the engine
   * changes its state only after its GPU work succeeded, so nothing was half done).
   */
  async run<T>(call: (engine: StreamEngine) => Promise<T>, retry: boolean): Promise<T> {
    for (;;) {
      await this.recovery.settled();
      const gpu = this.parts.gpu;
      try {
        return await call(this.parts.engine);
      } catch (e) {
        const lost = await lossBehind(gpu, e);
        if (!lost) throw e;
        if (!retry) throw lost;
      }
    }
  }

  /** An answer on the engine after any recovery; one that a loss breaks ends with DeviceLostError. */
  async *ask(question: string, options?: AskOptions): AsyncGenerator<AskEvent> {
    await this.recovery.settled();
    const gpu = this.parts.gpu;
    try {
      yield* this.parts.engine.ask(question, options);
    } catch (e) {
      throw (await lossBehind(gpu, e)) ?? e;
    }
  }

  /** Test hook: destroys the device (GPUDevice.destroy()), which WebGPU reports as a real loss. */
  loseDevice(): void {
    this.parts.gpu.destroy();
  }

  /** Frees the engine, the model and the device (and a failed recovery's store spill). */
  async dispose(): Promise<void> {
    this.closed = true;
    await this.recovery.settled().catch(() => {});
    await this.parts.engine.dispose();
    await this.orphan?.spill?.destroy().catch(() => {});
    await this.parts.model.dispose();
    this.parts.gpu.destroy();
  }

  /** Recovers when `gpu` is lost while it is the stream's device (not when dispose destroys it). */
  private watch(gpu: GpuDevice): void {
    gpu.onLost((lost) => {
      if (this.closed || this.parts.gpu !== gpu) return;
      this.deviceLost = lost.message;
      this.onEvent({ type: 'devicelost', reason: lost.reason, message: lost.message });
      void this.recovery.begin(lost, () => this.recoverFrom(lost)).then(() => {
        if (!this.closed && this.recovery.down) this.onEvent({ type: 'recoveryfailed', name: 'DeviceLostError', message: this.recovery.stats.failed ?? lost.message });
      });
    });
  }

  /**
   * The lost engine hands its state over once the call it was running has failed (reads from a
   * lost device reject at once); then a new device, the model and an engine that takes the state
   * over — a few tries, further apart, each from a fresh device, since one may be refused or lost
   * in turn while the weights upload.
   */
  private async recoverFrom(lost: DeviceLostError): Promise<void> {
    const t0 = performance.now();
    const state = await this.parts.engine.handOver();
    await this.parts.model.dispose().catch(() => {});
    let failure: unknown = null;
    for (const wait of RETRY_WAITS_MS) {
      await new Promise((r) => setTimeout(r, wait));
      if (this.closed) break;
      let gpu: GpuDevice;
      try {
        gpu = await this.factory.acquire();
      } catch (e) {
        failure = e;
        continue;
      }
      try {
        // the state is only read until the new engine exists: a failed try leaves it whole
        const { parts, fromCache } = await partsOn(this.factory, gpu, state);
        this.parts = parts;
        this.deviceLost = null;
        this.watch(gpu);
        const s = parts.engine.stats();
        this.onEvent({ type: 'recovered', ms: performance.now() - t0, windowFramesRestored: s.windowFrames, framesLost: s.framesLostToDeviceLoss, weightsFromCache: fromCache });
        return;
      } catch (e) {
        failure = e;
        // a new device lost in turn while the weights upload is a loss too: counted and told, as at the start
        const behind = await lossBehind(gpu, e);
        gpu.destroy();
        if (behind) {
          this.recovery.noteLossDuringRecovery();
          this.onEvent({ type: 'devicelost', reason: behind.reason, message: behind.message });
        }
      }
    }
    this.orphan = state;
    throw failure instanceof Error ? failure : new DeviceLostError(lost.reason, 'no WebGPU device could be acquired after the loss');
  }
}

/**
 * The model and an engine on `gpu` (with `resume`, one that takes over a lost engine's state), for
 * the start and for each recovery. WebGPU calls on a lost device mostly do nothing rather than fail,
 * so a load can finish on a device lost meanwhile: that is refused with its loss, as a failure would
 * be. On failure nothing made here is left (the device is the caller's; a resumed engine is handed
 * over, not disposed, so the state it took stays whole for the next try).
 */
async function partsOn(factory: StreamFactory, gpu: GpuDevice, resume?: EngineState): Promise<{ parts: { gpu: GpuDevice; model: VisionLanguageModel; engine: StreamEngine }; fromCache: boolean }> {
  const { model, fromCache } = await factory.loadModel(gpu);
  try {
    const engine = await factory.createEngine(model, resume);
    if (gpu.lost) {
      await (resume ? engine.handOver() : engine.dispose()).catch(() => {});
      throw gpu.lost;
    }
    return { parts: { gpu, model, engine }, fromCache };
  } catch (e) {
    await model.dispose().catch(() => {});
    throw e;
  }
}
