import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { y4mFrame, y4mHeader } from '../../src/cli/y4m-writer';
import { planNeedleStream, renderFrame, type NeedleStream } from '../../src/needle/render';
import { chromiumArgs, chromiumExecutable } from '../support/chromium';
import { ask, loadNeedleModel } from '../support/demo-needle-page';
import { shotPath } from '../support/demo-page';

// The demo page watching Chromium's fake camera, which plays a needle clip (seed 2: a needle on
// its first frame, then common shapes) with the offline needle test model: once the needle has
// left the 16-frame window, the question typed into the box gets its colour, and the timeline
// outlines the needle's frames, kept in memory, as moments the answer used.

/** Each clip frame is held this many seconds: a 1 frame/s sampler sees it at least twice, whatever its phase. */
const HOLD_S = 3;
const CLIP = planNeedleStream({ seed: 2, frames: 12, depths: [0] });
/** Samples the page takes: the clip lasts 36 s and Chromium loops it; stopping at 33 keeps the loop's needle out. */
const SAMPLES = 33;

/** Written synchronously here: the browser's launch options name the file before any test runs. */
function writeCameraClip(stream: NeedleStream): string {
  const dir = join(tmpdir(), 'streamvlm-demo-needle');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `needle-camera-${stream.seed}.y4m`);
  const header = new TextEncoder().encode(y4mHeader(stream.width, stream.height, 1));
  const records: Uint8Array[] = [header];
  for (let i = 0; i < stream.frames; i++) {
    const record = y4mFrame(renderFrame(stream, i), stream.width, stream.height);
    for (let r = 0; r < HOLD_S; r++) records.push(record);
  }
  writeFileSync(path, Buffer.concat(records));
  return path;
}

test.use({
  permissions: ['camera'],
  launchOptions: {
    executablePath: chromiumExecutable(),
    args: [...chromiumArgs(), '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${writeCameraClip(CLIP)}`, '--use-fake-ui-for-media-stream'],
  },
});

test('fake camera playing a needle clip: the typed question gets the needle’s colour; the timeline outlines its frame', async ({ page }) => {
  test.setTimeout(300_000);
  await loadNeedleModel(page, `&timestamps=frames&maxFrames=${SAMPLES}`);
  await page.getByRole('button', { name: 'Use the camera' }).click();
  await expect(page.locator('#source-status')).toContainText(`Stopped watching after ${SAMPLES} frames`, { timeout: 240_000 });
  const needle = CLIP.needles[0];
  expect(needle.frame).toBe(0);
  const moments = await ask(page, `What color was the ${needle.shape}?`);
  await expect(page.locator('#answer')).toHaveText(needle.color);
  // the needle is on screen for the clip's first HOLD_S seconds: sampled frames 0…HOLD_S (phase and start-up)
  const needleFrames = moments.filter((i) => i <= HOLD_S);
  expect(needleFrames.length, `moments ${moments.join(',')}: one of the needle's frames`).toBeGreaterThan(0);
  for (const i of needleFrames) {
    const frame = page.locator(`#timeline button.frame[data-frame-index="${i}"]`);
    await expect(frame).toHaveClass(/\bused\b/);
    await expect(frame).toHaveClass(/\bin-memory\b/);
  }
  await page.screenshot({ path: shotPath('needle-camera-answer'), fullPage: true });
});
