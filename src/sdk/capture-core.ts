import { InputError } from '../errors';
import type { OfferResult } from '../worker/protocol';
import type { TimestampMode } from './options';

/** What the capture loop has done since attach (part of StreamVLMStats). */
export interface CaptureStats {
  /** What is attached: a video file / element with a src, a live MediaStream, or nothing. */
  source: 'video' | 'stream' | null;
  /** How frames are taken: from the live track itself (TrackCapture) or from the <video> element. */
  via: 'track' | 'element' | null;
  /** Frames made from the video and sent to the worker. */
  framesSent: number;
  /** Of those, frames the worker's sampler took. */
  framesTaken: number;
  /** Samples skipped because the previous frame was still on its way to the worker. */
  framesSkippedBusy: number;
  /** Frames sent per second over the last few seconds. */
  captureFps: number;
  /** The last failure to make or send a frame (the loop goes on). */
  lastError: { name: string; message: string } | null;
}

export interface CaptureSettings {
  fps: number;
  timestamps: TimestampMode;
  /** The stream's clock at attach: the first sample is stamped here, later ones after it. */
  startMs: number;
  /** True when the video plays a MediaStream (time since attach), false for a file (media time). */
  live: boolean;
}

export type Push = (frame: VideoFrame, timestampMs: number) => Promise<OfferResult>;

/** What attach() runs: FrameCapture (a <video>) or TrackCapture (a live track's own frames). */
export interface FrameSource {
  /** Starts sampling; resolves once the first frame has been sent to the worker. */
  start(): Promise<void>;
  /** Stops sampling (a frame already on its way still arrives). A pending start() rejects. */
  stop(): void;
  /** The figures so far, captureFps as of now. */
  snapshot(): CaptureStats;
}

/** Seconds over which captureFps is measured. */
const FPS_WINDOW_MS = 5000;

/**
 * The sampling both captures share: which sample is due (≥ last + 1000/fps on the stream's clock —
 * the worker samples with the same rule, so every frame sent is taken), its stamp, one frame in
 * flight to the worker at a time, the figures, and attach()'s first-frame promise. Subclasses say
 * where frames come from (`begin` / `end`) and hand due ones to `send`.
 */
export abstract class CaptureCore implements FrameSource {
  protected stopped = false;
  protected readonly interval: number;
  protected readonly attachedAt = performance.now();
  private inFlight = false;
  /** Stamp of the last frame sent (the stream's clock). */
  private lastStamp: number | null = null;
  /** When the last sample was taken by the source's clock (differs from lastStamp in 'frames' mode). */
  private lastSampleAt: number | null = null;
  /** When frames were sent, over the last FPS_WINDOW_MS only (captureFps; trimmed on every send). */
  protected readonly sentAt: number[] = [];
  private firstSent: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  readonly stats: CaptureStats;

  constructor(
    private readonly push: Push,
    protected readonly settings: CaptureSettings,
    kind: Pick<CaptureStats, 'source' | 'via'>,
  ) {
    this.interval = 1000 / settings.fps;
    this.stats = { ...kind, framesSent: 0, framesTaken: 0, framesSkippedBusy: 0, captureFps: 0, lastError: null };
  }

  /** Starts taking frames from the source. */
  protected abstract begin(): void;
  /** Stops taking frames from the source. */
  protected abstract end(): void;

  start(): Promise<void> {
    const first = new Promise<void>((resolve, reject) => (this.firstSent = { resolve, reject }));
    this.begin();
    return first;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.end();
    this.firstSent?.reject(new InputError('attach: detached before the first frame was captured'));
    this.firstSent = null;
  }

  /** captureFps is computed on read, so it falls to 0 when frames stop. */
  snapshot(): CaptureStats {
    const now = performance.now();
    this.forgetSendsBefore(now - FPS_WINDOW_MS);
    const span = Math.min(FPS_WINDOW_MS, now - this.attachedAt);
    return { ...this.stats, captureFps: span > 0 ? (this.sentAt.length * 1000) / span : 0 };
  }

  /** Whether a sample at `now` (the stream's clock) is due and can go; a due one held back by the frame in flight is counted. */
  protected due(now: number): boolean {
    if (this.lastSampleAt !== null && now < this.lastSampleAt + this.interval) return false;
    if (this.inFlight) {
      this.stats.framesSkippedBusy++;
      return false;
    }
    return true;
  }

  /** The stamp of a due sample taken at `now`: `now`, or one interval after the last in 'frames' mode. */
  protected stampFor(now: number): number {
    return this.settings.timestamps === 'frames' ? (this.lastStamp === null ? this.settings.startMs : this.lastStamp + this.interval) : now;
  }

  /** Transfers a due frame to the worker (it closes it there). */
  protected send(frame: VideoFrame, stamp: number, now: number): void {
    this.inFlight = true;
    this.lastStamp = stamp;
    this.lastSampleAt = now;
    this.push(frame, stamp).then(
      (offer) => {
        this.inFlight = false;
        this.stats.framesSent++;
        const sent = performance.now();
        this.sentAt.push(sent);
        // trimmed here too, not only when stats are read: a camera attached for hours whose stats
        // nobody reads would otherwise keep a time for every frame it ever sent
        this.forgetSendsBefore(sent - FPS_WINDOW_MS);
        if (offer.accepted) this.stats.framesTaken++;
        this.firstSent?.resolve();
        this.firstSent = null;
      },
      (e) => {
        this.inFlight = false;
        this.noteError(e);
        // a refused first frame (worker gone, bad clock) ends attach with that error
        this.fail(e);
      },
    );
  }

  private forgetSendsBefore(t: number): void {
    let drop = 0;
    while (drop < this.sentAt.length && this.sentAt[drop] < t) drop++;
    if (drop) this.sentAt.splice(0, drop);
  }

  protected noteError(e: unknown): void {
    const err = e as { name?: string; message?: string };
    this.stats.lastError = { name: err?.name ?? 'Error', message: err?.message ?? String(e) };
  }

  /** Before the first frame: attach() rejects and capture stops. Later: recorded, the loop goes on. */
  protected fail(e: unknown): void {
    if (!this.firstSent) return;
    const first = this.firstSent;
    this.firstSent = null;
    this.stop();
    first.reject(e);
  }
}
