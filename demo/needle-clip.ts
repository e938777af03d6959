import type { StreamVLM } from '../src/index';
import { drawRgb } from './draw-rgb';
import { planNeedleStream, renderFrame, type NeedleStream } from '../src/needle/render';

/**
 * Plays a seeded needle-in-a-stream clip (src/needle/render.ts, the task the offline test model
 * was trained on) into the SDK, frame by frame with its own timestamps (frame i at i s), so the
 * whole loop — frames → memory → a question → the answer with its moment — runs without a camera
 * or a download. Each frame waits until the engine has taken the previous one (a clip, unlike a
 * camera, need not drop frames), and is drawn on `canvas` as it goes in.
 */
export class NeedleClipPlayer {
  private stopped = false;

  constructor(
    private readonly vlm: StreamVLM,
    private readonly canvas: HTMLCanvasElement,
  ) {}

  static plan(seed: number, frames: number): NeedleStream {
    return planNeedleStream({ seed, frames, needles: 2 });
  }

  /** Resolves after the last frame is ingested (or after stop()); `onFrame` sees each index. */
  async play(stream: NeedleStream, onFrame: (index: number) => void): Promise<void> {
    for (let i = 0; i < stream.frames && !this.stopped; i++) {
      const rgb = renderFrame(stream, i);
      drawRgb(this.canvas, { width: stream.width, height: stream.height, data: rgb });
      await this.vlm.pushFrame({ width: stream.width, height: stream.height, data: rgb, channels: 3 }, i * 1000);
      await this.vlm.idle();
      onFrame(i);
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
