import { InputError } from '../errors';
import type { OfferResult } from '../worker/scheduler';
import type { CaptureSettings, CaptureStats, FrameSource } from './frame-capture';

type Push = (frame: VideoFrame, timestampMs: number) => Promise<OfferResult>;

/** Seconds over which captureFps is measured. */
const FPS_WINDOW_MS = 5000;

/** Whether this browser can read a live track's frames directly (Chromium: MediaStreamTrackProcessor). */
export function canReadTrack(): boolean {
  return typeof (globalThis as { MediaStreamTrackProcessor?: unknown }).MediaStreamTrackProcessor === 'function';
}

/**
 * Samples a live video track at `fps` from the track itself (MediaStreamTrackProcessor): each frame
 * the camera delivers arrives as a VideoFrame in its capture format (I420 / NV12 in memory), due
 * ones are transferred to the worker and the rest closed at once (an unclosed frame holds a camera
 * buffer). Unlike sampling a <video> that plays the stream, the model sees the camera's own pixels,
 * not the compositor's conversion of them — the same pixels whatever the GPU — and nothing depends
 * on the element being painted. Stamps are the time since attach ('auto') or i·1000/fps ('frames').
 */
export class TrackCapture implements FrameSource {
  private stopped = false;
  private inFlight = false;
  private reader: ReadableStreamDefaultReader<VideoFrame> | null = null;
  private readonly interval: number;
  private lastStamp: number | null = null;
  private lastSampleAt: number | null = null;
  private readonly attachedAt = performance.now();
  private readonly sentAt: number[] = [];
  private firstSent: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  readonly stats: CaptureStats;

  constructor(
    private readonly track: MediaStreamTrack,
    private readonly push: Push,
    private readonly settings: CaptureSettings,
  ) {
    this.interval = 1000 / settings.fps;
    this.stats = { source: 'stream', via: 'track', framesSent: 0, framesTaken: 0, framesSkippedBusy: 0, captureFps: 0, lastError: null };
  }

  start(): Promise<void> {
    const first = new Promise<void>((resolve, reject) => (this.firstSent = { resolve, reject }));
    const Processor = (globalThis as unknown as { MediaStreamTrackProcessor: new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> } }).MediaStreamTrackProcessor;
    this.reader = new Processor({ track: this.track }).readable.getReader();
    void this.readLoop();
    return first;
  }

  private async readLoop(): Promise<void> {
    const reader = this.reader!;
    try {
      for (;;) {
        const { value: frame, done } = await reader.read();
        if (done) break;
        if (this.stopped) {
          frame.close();
          break;
        }
        this.offer(frame);
      }
      if (!this.stopped) {
        const ended = new InputError('attach: the video track ended');
        this.noteError(ended);
        this.fail(ended);
      }
    } catch (e) {
      this.noteError(e);
      this.fail(e);
    }
  }

  private offer(frame: VideoFrame): void {
    const now = this.settings.startMs + (performance.now() - this.attachedAt);
    const due = this.lastSampleAt === null || now >= this.lastSampleAt + this.interval;
    if (!due || this.inFlight) {
      if (due) this.stats.framesSkippedBusy++;
      frame.close();
      return;
    }
    const stamp = this.settings.timestamps === 'frames' ? (this.lastStamp === null ? this.settings.startMs : this.lastStamp + this.interval) : now;
    this.inFlight = true;
    this.lastStamp = stamp;
    this.lastSampleAt = now;
    // the frame's own clock is the capture's; the worker reads only our stamp
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
        this.fail(e);
      },
    );
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // ends the pending read; frames still queued in the stream are closed by the processor
    void this.reader?.cancel().catch(() => {});
    this.firstSent?.reject(new InputError('attach: detached before the first frame was captured'));
    this.firstSent = null;
  }

  snapshot(): CaptureStats {
    const now = performance.now();
    while (this.sentAt.length && this.sentAt[0] < now - FPS_WINDOW_MS) this.sentAt.shift();
    const span = Math.min(FPS_WINDOW_MS, now - this.attachedAt);
    return { ...this.stats, captureFps: span > 0 ? (this.sentAt.length * 1000) / span : 0 };
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
