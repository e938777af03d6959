import { DeviceLostError, StreamVlmError } from '../errors';
import type { GpuDevice } from '../gpu/device';

/**
 * Device loss bookkeeping for RecoverableStream (recoverable-stream.ts): the recovery in progress
 * that calls wait for, the figures for stats(), the events a page shows, and telling a call that
 * failed because the device went away from one that failed on its own.
 */

/** What a stream reports about its GPU device (the SDK's StreamVLM turns them into DOM events). */
export type DeviceEvent =
  /** The device was lost; the engine is recovering. */
  | { type: 'devicelost'; reason: string; message: string }
  /** A new device runs the stream again: the memory is intact, window frames rebuilt (or lost: framesLost). */
  | { type: 'recovered'; ms: number; windowFramesRestored: number; framesLost: number; weightsFromCache: boolean }
  /** No new device could be had; calls fail with DeviceLostError, saveMemory still saves the memory store. */
  | { type: 'recoveryfailed'; name: string; message: string };

export interface RecoveryStats {
  /** Devices lost since load. */
  losses: number;
  /** Losses the engine recovered from. */
  recoveries: number;
  /** A recovery is under way: calls wait for it. */
  recovering: boolean;
  /** Wall time of the last recovery (new device, weights, engine, window), ms. */
  lastRecoveryMs: number | null;
  /** Why the last recovery failed (then the engine stays down), or null. */
  failed: string | null;
}

/** How long after a failed GPU call the device's loss may still be reported (its promise settles later than the failed map). */
const LOSS_GRACE_MS = 1000;

/**
 * The DeviceLostError that explains `error`, if `gpu` was lost (now or within a moment): a read
 * back from a lost device rejects with a bare AbortError/OperationError before `device.lost`
 * settles. Once the device is known lost every failure is put down to it (an engine that handed its
 * state to the recovery refuses calls as disposed); before that, the runtime's own typed errors
 * (bad input, a damaged file) are not the device's and are not waited on.
 */
export async function lossBehind(gpu: GpuDevice, error: unknown): Promise<DeviceLostError | null> {
  if (error instanceof DeviceLostError) return error;
  if (gpu.lost) return gpu.lost;
  if (error instanceof StreamVlmError) return null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const lost = await Promise.race([
    gpu.device.lost.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), LOSS_GRACE_MS))),
  ]);
  clearTimeout(timer);
  return lost ? (gpu.lost ?? new DeviceLostError('unknown', 'the device was lost')) : null;
}

export class Recovery {
  private running: Promise<void> | null = null;
  private failure: DeviceLostError | null = null;
  readonly stats: RecoveryStats = { losses: 0, recoveries: 0, recovering: false, lastRecoveryMs: null, failed: null };

  /** Runs `rebuild` for a loss (one at a time; a loss during a recovery is handled by its own retries). */
  begin(lost: DeviceLostError, rebuild: () => Promise<void>): Promise<void> {
    this.stats.losses++;
    if (this.running) return this.running;
    this.stats.recovering = true;
    this.failure = null;
    const t0 = performance.now();
    this.running = rebuild().then(
      () => {
        this.stats.recoveries++;
        this.stats.lastRecoveryMs = performance.now() - t0;
        this.stats.failed = null;
      },
      (e) => {
        const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        this.stats.failed = why;
        this.failure = new DeviceLostError(lost.reason, `${lost.message}; no new GPU device could run the model (${why})`, 'Reload the page; save the memory first (saveMemory keeps every stored frame).');
      },
    );
    void this.running.finally(() => {
      this.running = null;
      this.stats.recovering = false;
    });
    return this.running;
  }

  /** Counts losses met while the stream was first made, and the new device that made it after them. */
  noteStartRecovery(losses: number, ms: number): void {
    this.stats.losses += losses;
    this.stats.recoveries++;
    this.stats.lastRecoveryMs = ms;
  }

  /** Counts a new device lost while a recovery was loading the model onto it (the recovery tries another). */
  noteLossDuringRecovery(): void {
    this.stats.losses++;
  }

  /** Resolves once no recovery is under way; rejects with DeviceLostError if the last one failed. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
    if (this.failure) throw this.failure;
  }

  /** The last recovery failed: the stream has no engine. */
  get down(): boolean {
    return this.failure !== null;
  }
}
