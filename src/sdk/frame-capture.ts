import { InputError } from '../errors';
import type { OfferResult } from '../worker/scheduler';
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

type Push = (frame: VideoFrame, timestampMs: number) => Promise<OfferResult>;

/** What attach() runs: FrameCapture (a <video>) or TrackCapture (a live track's own frames). */
export interface FrameSource {
  /** Starts sampling; resolves once the first frame has been sent to the worker. */
  start(): Promise<void>;
  /** Stops sampling (a frame already on its way still arrives). A pending start() rejects. */
  stop(): void;
  /** The figures so far, captureFps as of now. */
  snapshot(): CaptureStats;
}

/** A video file's clock going back more than this (ms) is a loop or a seek, not clock jitter. */
const SEEK_BACK_MS = 300;

/** Seconds over which captureFps is measured. */
const FPS_WINDOW_MS = 5000;

/**
 * Samples a <video> at `fps` on the page: on each presented frame (requestVideoFrameCallback) and
 * on a timer (for browsers without it, and for videos the browser does not composite — a detached
 * element), whichever comes first. A due sample becomes a VideoFrame of the element — a GPU-backed
 * handle, no pixel copy here — and is transferred to the worker. Nothing heavy runs on the page.
 */
export class FrameCapture implements FrameSource {
  private stopped = false;
  private inFlight = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private frameCallback: number | null = null;
  private readonly interval: number;
  /** Stamp of the last frame sent (the stream's clock). */
  private lastStamp: number | null = null;
  /** When the last sample was taken by the video's clock (differs from lastStamp in 'frames' mode). */
  private lastSampleAt: number | null = null;
  /** Added to a video file's media time (see stampNow); set at the first sample. */
  private mediaShift: number | null = null;
  private lastMediaStamp: number | null = null;
  private readonly attachedAt = performance.now();
  private readonly sentAt: number[] = [];
  private firstSent: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  readonly stats: CaptureStats;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly push: Push,
    private readonly settings: CaptureSettings,
  ) {
    this.interval = 1000 / settings.fps;
    this.stats = { source: settings.live ? 'stream' : 'video', via: 'element', framesSent: 0, framesTaken: 0, framesSkippedBusy: 0, captureFps: 0, lastError: null };
  }

  /** Starts sampling; resolves once the first frame has been sent to the worker. */
  start(): Promise<void> {
    const first = new Promise<void>((resolve, reject) => (this.firstSent = { resolve, reject }));
    this.video.addEventListener('error', this.onVideoError);
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(this.interval / 2, 250)));
    if ('requestVideoFrameCallback' in this.video) this.watchFrames();
    this.tick();
    return first;
  }

  /** Stops sampling (a frame already on its way still arrives). A pending start() rejects. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.frameCallback !== null) this.video.cancelVideoFrameCallback(this.frameCallback);
    this.video.removeEventListener('error', this.onVideoError);
    this.firstSent?.reject(new InputError('attach: detached before the first frame was captured'));
    this.firstSent = null;
  }

  /** captureFps is computed on read, so it falls to 0 when frames stop. */
  snapshot(): CaptureStats {
    const now = performance.now();
    while (this.sentAt.length && this.sentAt[0] < now - FPS_WINDOW_MS) this.sentAt.shift();
    const span = Math.min(FPS_WINDOW_MS, now - this.attachedAt);
    return { ...this.stats, captureFps: span > 0 ? (this.sentAt.length * 1000) / span : 0 };
  }

  private readonly onVideoError = () => {
    const err = this.video.error;
    this.fail(new InputError(`attach: the video failed to play${err ? ` (${err.message || `media error ${err.code}`})` : ''}`));
  };

  private watchFrames(): void {
    this.frameCallback = this.video.requestVideoFrameCallback((_now, metadata) => {
      if (this.stopped) return;
      this.tick(metadata.mediaTime);
      this.watchFrames();
    });
  }

  /**
   * The stamp the current video frame would get, on the stream's clock: for a live stream the
   * time since attach; for a file its media time (shifted later only where the stream's clock is
   * already past it, or after the file looped or was sought back, so stamps never decrease).
   */
  private stampNow(mediaTimeSec?: number): number {
    if (this.settings.live) return this.settings.startMs + (performance.now() - this.attachedAt);
    const mediaMs = (mediaTimeSec ?? this.video.currentTime) * 1000;
    if (this.mediaShift === null) this.mediaShift = Math.max(0, this.settings.startMs - mediaMs);
    if (this.lastMediaStamp !== null && mediaMs + this.mediaShift < this.lastMediaStamp) {
      // The two clocks read here disagree a little: a presented frame's mediaTime (the frame
      // callback) runs up to a frame ahead of currentTime (the timer). A step back that small is
      // the same moment; only a real jump back (a loop, a seek) moves the stream's clock on.
      if (this.lastMediaStamp - (mediaMs + this.mediaShift) <= Math.max(SEEK_BACK_MS, this.interval / 2)) return this.lastMediaStamp;
      this.mediaShift = this.lastMediaStamp + this.interval - mediaMs;
    }
    this.lastMediaStamp = mediaMs + this.mediaShift;
    return this.lastMediaStamp;
  }

  private tick(mediaTimeSec?: number): void {
    if (this.stopped) return;
    // HAVE_CURRENT_DATA: a frame to copy
    if (this.video.readyState < 2 || this.video.videoWidth === 0) return;
    const now = this.stampNow(mediaTimeSec);
    // the worker samples with the same rule (≥ last + 1000/fps), so every frame sent here is taken
    const due = this.lastSampleAt === null || now >= this.lastSampleAt + this.interval;
    if (!due) return;
    if (this.inFlight) {
      this.stats.framesSkippedBusy++;
      return;
    }
    const stamp = this.settings.timestamps === 'frames' ? (this.lastStamp === null ? this.settings.startMs : this.lastStamp + this.interval) : now;
    this.send(stamp, now);
  }

  private send(stamp: number, now: number): void {
    let frame: VideoFrame;
    try {
      frame = new VideoFrame(this.video, { timestamp: Math.round(stamp * 1000) });
    } catch (e) {
      // no decodable frame yet (InvalidStateError) or a cross-origin video (SecurityError)
      this.noteError(e);
      if ((e as Error).name === 'SecurityError') this.fail(new InputError('attach: the video is cross-origin without CORS; serve it from this site or with crossorigin="anonymous" and CORS headers'));
      return;
    }
    this.inFlight = true;
    this.lastStamp = stamp;
    this.lastSampleAt = now;
    this.push(frame, stamp).then(
      (offer) => {
        this.inFlight = false;
        this.stats.framesSent++;
        this.sentAt.push(performance.now());
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

  private noteError(e: unknown): void {
    const err = e as { name?: string; message?: string };
    this.stats.lastError = { name: err?.name ?? 'Error', message: err?.message ?? String(e) };
  }

  /** Before the first frame: attach() rejects and capture stops. Later: recorded, the loop goes on. */
  private fail(e: unknown): void {
    if (!this.firstSent) return;
    const first = this.firstSent;
    this.firstSent = null;
    this.stop();
    first.reject(e);
  }
}
