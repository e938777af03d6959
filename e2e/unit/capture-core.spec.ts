import { expect, test } from '@playwright/test';
import { CaptureCore } from '../../src/sdk/capture-core';
import type { OfferResult } from '../../src/worker/protocol';

// The capture loop's send times (captureFps) stay bounded while nobody reads the stats: a camera
// attached for hours must not keep a time for every frame it sent. Time is driven by replacing
// performance.now for the test (the clock the loop reads), so hours pass in milliseconds.

class ManualCapture extends CaptureCore {
  protected begin(): void {}
  protected end(): void {}
  sendOne(now: number): void {
    this.send({ close() {} } as unknown as VideoFrame, now, now);
  }
  get keptSendTimes(): number {
    return this.sentAt.length;
  }
}

test('send times are trimmed as frames go, not only when stats are read', async () => {
  const realNow = performance.now.bind(performance);
  let clock = 0;
  performance.now = () => clock;
  try {
    const accepted = { accepted: true } as unknown as OfferResult;
    const capture = new ManualCapture(() => Promise.resolve(accepted), { fps: 30, timestamps: 'auto', startMs: 0, live: true }, { source: 'stream', via: 'track' });
    // two hours at 30 frames/s, one frame in flight at a time
    for (let i = 0; i < 2 * 3600 * 30; i++) {
      clock = i * (1000 / 30);
      capture.sendOne(clock);
      await Promise.resolve();
      await Promise.resolve();
    }
    expect(capture.keptSendTimes).toBeLessThanOrEqual(5 * 30 + 1);
    const stats = capture.snapshot();
    expect(stats.framesSent).toBe(2 * 3600 * 30);
    expect(stats.captureFps).toBeCloseTo(30, 0);
  } finally {
    performance.now = realNow;
  }
});
