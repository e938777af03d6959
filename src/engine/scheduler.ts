import { InputError } from '../errors';
import { checkSetting, SDK_DEFAULTS } from '../settings/index';

// The scheduling policy (sampling rate, bounded queue with drops, questions before frames) lives
// beside the engine, not in the worker, because both the worker and the Node CLI drive an engine
// with it; it knows nothing of workers or GPUs.

/**
 * What the scheduler drives: any object with the engine's ingest and ask (StreamEngine in the
 * worker and the CLI; a plain object in the Node tests). Generic over the frame type so the queue
 * can hold frames before they are converted (the worker keeps VideoFrames and converts only the
 * ones it ingests; the CLI keeps y4m frame numbers).
 */
export interface SchedulableEngine<F, O, E> {
  ingest(frame: F, timestampMs: number): Promise<unknown>;
  ask(question: string, options?: O): AsyncIterable<E>;
}

export interface SchedulerOptions<F> {
  /** Sampling rate: a frame is taken when its timestamp is ≥ the last taken one + 1000/fps. Default 1; Infinity takes every frame. */
  fps?: number;
  /** Frames waiting to be ingested; when full, the oldest waiting frame is dropped. Default 4. */
  queueCapacity?: number;
  /** Called for every frame the scheduler lets go without ingesting (sampled out, dropped, refused, failed): close VideoFrames here. */
  release?: (frame: F) => void;
  /** Called when ingesting a frame fails; the stream goes on. */
  onIngestError?: (error: unknown, timestampMs: number) => void;
}

/** What became of an offered frame. */
export type OfferResult =
  | { accepted: true; queueDepth: number }
  | { accepted: false; reason: 'sampled-out' | 'paused' | 'closed' };

export interface SchedulerStats {
  /** Frames offered (pushFrame calls with a valid timestamp or not). */
  offered: number;
  /** Frames taken by the sampler into the queue. */
  accepted: number;
  /** Frames the engine ingested. */
  ingested: number;
  /** Frames skipped by the sampling rate (arrived sooner than 1000/fps after the last taken). */
  sampledOut: number;
  /** Frames taken but dropped because the queue was full (ingestion fell behind). */
  droppedQueueFull: number;
  /** Frames offered while paused. */
  droppedPaused: number;
  /** Frames refused with an InputError (bad timestamp; bad pixels or type, see noteRejected). */
  rejected: number;
  /** Frames whose ingest failed (bad pixels, engine error); see lastError. */
  failed: number;
  queueDepth: number;
  queueCapacity: number;
  fps: number;
  paused: boolean;
  /** Questions waiting or being answered. */
  asksPending: number;
  /** Timestamp of the last frame taken (the clock new frames must move past). */
  lastAcceptedMs: number | null;
  /** Mean wall time of one ingest over the frames so far, ms. */
  meanIngestMs: number;
  lastError: { name: string; message: string; timestampMs: number } | null;
}

interface QueuedFrame<F> {
  frame: F;
  timestampMs: number;
}

interface AskJob<O, E> {
  question: string;
  options?: O;
  onEvent: (event: E) => void;
  signal?: { readonly aborted: boolean };
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The worker's traffic policy between a frame source and the engine, DOM-free:
 * - frames are sampled by timestamp (fps) and wait in a bounded queue; when ingestion falls behind
 *   the oldest waiting frame is dropped (the newest is the most useful to a live stream);
 * - a question goes before every waiting frame: it runs as soon as the frame being ingested (if any)
 *   is done, and frames that are waiting or arrive while it is answered are ingested after it, so an
 *   answer never sees a frame that arrived after its question;
 * - frames keep being accepted (into the queue) while an answer streams;
 * - a timestamp that is not a finite number ≥ 0, or that goes back before the last frame taken, is
 *   an InputError for that frame only; nothing queued or stored is touched.
 * One engine call runs at a time. A frame handed to `engine.ingest` belongs to the engine from then
 * on (it releases it); frames the scheduler lets go otherwise go to `options.release`.
 */
export class Scheduler<F, O, E> {
  private readonly queue: QueuedFrame<F>[] = [];
  private readonly asks: AskJob<O, E>[] = [];
  private readonly exclusives: (() => Promise<void>)[] = [];
  private running = false;
  private runningAsk = false;
  private closed = false;
  private pausedState = false;
  private fpsValue: number;
  private readonly capacity: number;
  private lastAccepted: number | null = null;
  private lastOffered: number | null = null;
  private ingestMsTotal = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly counts = { offered: 0, accepted: 0, ingested: 0, sampledOut: 0, droppedQueueFull: 0, droppedPaused: 0, rejected: 0, failed: 0 };
  private lastError: SchedulerStats['lastError'] = null;

  constructor(
    private readonly engine: SchedulableEngine<F, O, E>,
    private readonly options: SchedulerOptions<F> = {},
  ) {
    this.fpsValue = checkFps(options.fps ?? SDK_DEFAULTS.fps);
    const capacity = options.queueCapacity ?? SDK_DEFAULTS.queueCapacity;
    checkSetting('queueCapacity', capacity, 'Scheduler: queueCapacity');
    this.capacity = capacity;
  }

  get fps(): number {
    return this.fpsValue;
  }

  set fps(value: number) {
    this.fpsValue = checkFps(value);
  }

  get paused(): boolean {
    return this.pausedState;
  }

  /**
   * Offers a frame. Synchronous: says at once whether it was taken. A frame not taken is released
   * (options.release) before this returns; a bad timestamp throws InputError after releasing it.
   */
  offer(frame: F, timestampMs: number): OfferResult {
    this.counts.offered++;
    if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs) || timestampMs < 0) {
      this.refuse(frame);
      throw new InputError(`pushFrame: the timestamp must be a finite number of milliseconds ≥ 0, not ${String(timestampMs)}`);
    }
    const newest = Math.max(this.lastOffered ?? -Infinity, this.lastAccepted ?? -Infinity);
    if (timestampMs < newest) {
      this.refuse(frame);
      throw new InputError(`pushFrame: timestamp ${timestampMs} ms goes back before the previous frame (${newest} ms); timestamps must not decrease`);
    }
    this.lastOffered = timestampMs;
    if (this.closed) return this.skip(frame, 'closed');
    if (this.pausedState) {
      this.counts.droppedPaused++;
      return this.skip(frame, 'paused');
    }
    // a frame at the same time as the last one taken is a duplicate, whatever the rate
    if (this.lastAccepted !== null && (timestampMs === this.lastAccepted || timestampMs < this.lastAccepted + 1000 / this.fpsValue)) {
      this.counts.sampledOut++;
      return this.skip(frame, 'sampled-out');
    }
    this.lastAccepted = timestampMs;
    this.counts.accepted++;
    if (this.queue.length >= this.capacity) {
      const oldest = this.queue.shift()!;
      this.counts.droppedQueueFull++;
      this.release(oldest.frame);
    }
    this.queue.push({ frame, timestampMs });
    this.pump();
    return { accepted: true, queueDepth: this.queue.length };
  }

  /** Counts a frame refused before it reached `offer` (bad pixels or type), as offered and rejected. */
  noteRejected(): void {
    this.counts.offered++;
    this.counts.rejected++;
  }

  /**
   * Asks a question ahead of every waiting frame; `onEvent` gets the engine's events in order.
   * Resolves when the answer is done; rejects with the engine's error (the stream goes on). Once
   * `signal.aborted`, the answer stops at its next event (or never starts) and resolves.
   */
  ask(question: string, options: O | undefined, onEvent: (event: E) => void, signal?: { readonly aborted: boolean }): Promise<void> {
    if (this.closed) return Promise.reject(new InputError('ask: the engine is closed'));
    return new Promise<void>((resolve, reject) => {
      this.asks.push({ question, options, onEvent, signal, resolve, reject });
      this.pump();
    });
  }

  /** Stops ingesting: frames offered while paused are dropped (counted); questions still run. */
  pause(): void {
    this.pausedState = true;
  }

  resume(): void {
    this.pausedState = false;
    this.pump();
  }

  /**
   * Sets the clock frames must move past (after memory was restored: the engine's last timestamp).
   * Waiting frames older than it are released.
   */
  setClock(lastTimestampMs: number | null): void {
    this.lastAccepted = lastTimestampMs;
    this.lastOffered = lastTimestampMs;
    if (lastTimestampMs === null) return;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].timestampMs <= lastTimestampMs) {
        this.counts.droppedQueueFull++;
        this.release(this.queue.splice(i, 1)[0].frame);
      }
    }
  }

  /** Resolves when nothing is running and nothing runnable waits (paused frames do not count). */
  idle(): Promise<void> {
    if (!this.running && this.asks.length === 0 && (this.pausedState || this.queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Runs `task` between engine calls (nothing is ingested or answered meanwhile): memory snapshots
   * and restores. Waits for the running call, goes before waiting frames and after waiting questions.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.exclusives.push(async () => {
        try {
          resolve(await task());
        } catch (error) {
          reject(error);
        }
      });
      this.pump();
    });
  }

  /** Refuses new work, releases waiting frames, rejects waiting questions, waits for the running call. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) this.release(q.frame);
    for (const a of this.asks.splice(0)) a.reject(new InputError('ask: the engine was closed before the question ran'));
    await this.idle();
  }

  stats(): SchedulerStats {
    return {
      ...this.counts,
      queueDepth: this.queue.length,
      queueCapacity: this.capacity,
      fps: this.fpsValue,
      paused: this.pausedState,
      asksPending: this.asks.length + (this.runningAsk ? 1 : 0),
      lastAcceptedMs: this.lastAccepted,
      meanIngestMs: this.counts.ingested > 0 ? this.ingestMsTotal / this.counts.ingested : 0,
      lastError: this.lastError,
    };
  }

  private skip(frame: F, reason: 'sampled-out' | 'paused' | 'closed'): OfferResult {
    this.release(frame);
    return { accepted: false, reason };
  }

  private refuse(frame: F): void {
    this.counts.rejected++;
    this.release(frame);
  }

  private release(frame: F): void {
    try {
      this.options.release?.(frame);
    } catch {
      // releasing is best effort (a VideoFrame closed twice); it must not break the stream
    }
  }

  /** Starts the run loop if it is not running. */
  private pump(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        const ask = this.asks.shift();
        if (ask) {
          await this.runAsk(ask);
          continue;
        }
        const task = this.exclusives.shift();
        if (task) {
          await task();
          continue;
        }
        if (this.pausedState || this.closed || this.queue.length === 0) break;
        await this.runIngest(this.queue.shift()!);
      }
    } finally {
      this.running = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async runAsk(job: AskJob<O, E>): Promise<void> {
    if (job.signal?.aborted) {
      job.resolve();
      return;
    }
    this.runningAsk = true;
    try {
      // leaving the loop early returns the engine's generator, which ends the answer
      for await (const event of this.engine.ask(job.question, job.options)) {
        if (job.signal?.aborted) break;
        try {
          job.onEvent(event);
        } catch {
          // a listener that throws loses its events, not the answer
        }
      }
      job.resolve();
    } catch (error) {
      job.reject(error);
    } finally {
      this.runningAsk = false;
    }
  }

  private async runIngest(item: QueuedFrame<F>): Promise<void> {
    const start = performance.now();
    try {
      await this.engine.ingest(item.frame, item.timestampMs);
      this.counts.ingested++;
      this.ingestMsTotal += performance.now() - start;
    } catch (error) {
      this.counts.failed++;
      const e = error instanceof Error ? error : new Error(String(error));
      this.lastError = { name: e.name, message: e.message, timestampMs: item.timestampMs };
      try {
        this.options.onIngestError?.(error, item.timestampMs);
      } catch {
        // reporting must not stop the stream
      }
    }
  }
}

function checkFps(fps: number): number {
  if (typeof fps !== 'number' || Number.isNaN(fps) || fps <= 0) throw new InputError(`Scheduler: fps must be a positive number (or Infinity), not ${String(fps)}`);
  return fps;
}
