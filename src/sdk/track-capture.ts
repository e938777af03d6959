import { InputError } from '../errors';
import { CaptureCore, type CaptureSettings, type Push } from './capture-core';

/** Whether this browser can read a live track's frames directly (Chromium: MediaStreamTrackProcessor). */
export function canReadTrack(): boolean {
  return typeof (globalThis as { MediaStreamTrackProcessor?: unknown }).MediaStreamTrackProcessor === 'function';
}

type TrackProcessor = new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> };

/**
 * Samples a live video track at `fps` from the track itself (MediaStreamTrackProcessor): each frame
 * the camera delivers arrives as a VideoFrame in its capture format (I420 / NV12 in memory), due
 * ones are transferred to the worker and the rest closed at once (an unclosed frame holds a camera
 * buffer). Unlike sampling a <video> that plays the stream, the model sees the camera's own pixels,
 * not the compositor's conversion of them — the same pixels whatever the GPU — and nothing depends
 * on the element being painted. Stamps are the time since attach ('auto') or i·1000/fps ('frames').
 */
export class TrackCapture extends CaptureCore {
  private reader: ReadableStreamDefaultReader<VideoFrame> | null = null;

  constructor(
    private readonly track: MediaStreamTrack,
    push: Push,
    settings: CaptureSettings,
  ) {
    super(push, settings, { source: 'stream', via: 'track' });
  }

  protected begin(): void {
    const Processor = (globalThis as unknown as { MediaStreamTrackProcessor: TrackProcessor }).MediaStreamTrackProcessor;
    this.reader = new Processor({ track: this.track }).readable.getReader();
    void this.readLoop(this.reader);
  }

  protected end(): void {
    // ends the pending read; frames still queued in the stream are closed by the processor
    void this.reader?.cancel().catch(() => {});
  }

  private async readLoop(reader: ReadableStreamDefaultReader<VideoFrame>): Promise<void> {
    try {
      for (;;) {
        const { value: frame, done } = await reader.read();
        if (done) break;
        if (this.stopped) {
          frame.close();
          break;
        }
        const now = this.settings.startMs + (performance.now() - this.attachedAt);
        if (this.due(now)) this.send(frame, this.stampFor(now), now);
        else frame.close();
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
}
