import { InputError } from '../errors';
import { CaptureCore, type CaptureSettings, type Push } from './capture-core';

/** A video file's clock going back more than this (ms) is a loop or a seek, not clock jitter. */
const SEEK_BACK_MS = 300;

/**
 * Samples a <video> at `fps` on the page: on each presented frame (requestVideoFrameCallback) and
 * on a timer (for browsers without it, and for videos the browser does not composite — a detached
 * element), whichever comes first. A due sample becomes a VideoFrame of the element — a GPU-backed
 * handle, no pixel copy here — and is transferred to the worker. Nothing heavy runs on the page.
 */
export class FrameCapture extends CaptureCore {
  private timer: ReturnType<typeof setInterval> | null = null;
  private frameCallback: number | null = null;
  /** Added to a video file's media time (see stampNow); set at the first sample. */
  private mediaShift: number | null = null;
  private lastMediaStamp: number | null = null;

  constructor(
    private readonly video: HTMLVideoElement,
    push: Push,
    settings: CaptureSettings,
  ) {
    super(push, settings, { source: settings.live ? 'stream' : 'video', via: 'element' });
  }

  protected begin(): void {
    this.video.addEventListener('error', this.onVideoError);
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(this.interval / 2, 250)));
    if ('requestVideoFrameCallback' in this.video) this.watchFrames();
    this.tick();
  }

  protected end(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.frameCallback !== null) this.video.cancelVideoFrameCallback(this.frameCallback);
    this.video.removeEventListener('error', this.onVideoError);
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
    if (!this.due(now)) return;
    const stamp = this.stampFor(now);
    let frame: VideoFrame;
    try {
      frame = new VideoFrame(this.video, { timestamp: Math.round(stamp * 1000) });
    } catch (e) {
      // no decodable frame yet (InvalidStateError) or a cross-origin video (SecurityError)
      this.noteError(e);
      if ((e as Error).name === 'SecurityError') this.fail(new InputError('attach: the video is cross-origin without CORS; serve it from this site or with crossorigin="anonymous" and CORS headers'));
      return;
    }
    this.send(frame, stamp, now);
  }
}
