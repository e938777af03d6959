import { expect, test, type Page } from '@playwright/test';
import { chromiumArgs, chromiumExecutable } from '../support/chromium';
import { FIX, shotPath, stream } from '../support/demo-page';

// The demo's other source: a local video file chosen in the file box. The clip is a WebM that
// Chromium's own MediaRecorder makes from a canvas showing red until 0.5 s, green until 1.5 s, then
// blue (changes half-way between samples, so recording jitter cannot move a colour across one); the
// page must sample it at 1 frame/s by the video's clock, so the timeline's three frames are stamped
// 00:00, 00:01, 00:02 and their thumbnails are red, green and blue.

test.use({ launchOptions: { executablePath: chromiumExecutable(), args: chromiumArgs() } });

const COLOURS = [
  [220, 30, 30],
  [30, 200, 40],
  [30, 40, 220],
] as const;

/** Records the three-colour clip in the page (real-time, ~3 s) and returns its bytes. */
async function recordClip(page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(async (colours) => {
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 120;
    const ctx = canvas.getContext('2d')!;
    const paint = (i: number) => {
      const [r, g, b] = colours[Math.min(i, colours.length - 1)];
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(0, 0, canvas.width, canvas.height);
    };
    paint(0);
    const recorder = new MediaRecorder(canvas.captureStream(15), { mimeType: 'video/webm;codecs=vp8' });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    recorder.start();
    const t0 = performance.now();
    // repaint continuously so the capture sees a steady stream of frames
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const s = (performance.now() - t0) / 1000;
        paint(Math.floor(s + 0.5));
        if (s >= colours.length) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
    });
    recorder.stop();
    await stopped;
    const bytes = new Uint8Array(await new Blob(chunks, { type: 'video/webm' }).arrayBuffer());
    let text = '';
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
  }, COLOURS);
  return Buffer.from(base64, 'base64');
}

test('a video file chosen in the file box: sampled by its own clock, shown on the timeline, answered about', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/?model=/${FIX}/&kvBits=none&window=8&frameResize=image&maxFrames=3&maxTokens=${stream.max_new_tokens}&weights=f32&precision=f32`);
  const clip = await recordClip(page);
  expect(clip.byteLength).toBeGreaterThan(1000);

  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.locator('#model-info')).toContainText('Ready', { timeout: 60_000 });
  await page.getByLabel(/video file/i).setInputFiles({ name: 'colours.webm', mimeType: 'video/webm', buffer: clip });
  await expect(page.locator('#source-status')).toContainText('Watching “colours.webm”');
  await expect(page.locator('#timeline button.frame')).toHaveCount(3, { timeout: 90_000 });
  await expect(page.locator('#source-status')).toContainText('Stopped watching after 3 frames');
  // the video's clock, not the wall clock: one frame per second of the clip
  await expect(page.locator('#timeline .time')).toHaveText(['00:00', '00:01', '00:02']);
  // each thumbnail shows that second's colour
  const means = await page.locator('#timeline button.frame canvas').evaluateAll((canvases) =>
    (canvases as HTMLCanvasElement[]).map((c) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
      return sum.map((s) => s / (d.length / 4));
    }),
  );
  console.log(`thumbnail colours: ${JSON.stringify(means.map((m) => m.map(Math.round)))}`);
  means.forEach((mean, i) => COLOURS[i].forEach((want, k) => expect(Math.abs(mean[k] - want)).toBeLessThan(40)));
  await page.screenshot({ path: shotPath('video-file-streamed'), fullPage: true });

  await page.getByLabel('Question').fill(stream.question);
  await page.getByRole('button', { name: 'Ask' }).click();
  const answer = page.locator('#answer');
  await expect(answer).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  const tokens = (await answer.getAttribute('data-tokens'))!.split(',').map(Number);
  expect(tokens.length).toBeGreaterThan(0);
  await expect(page.locator('#timeline button.frame.used')).toHaveCount(3);
  await page.screenshot({ path: shotPath('video-file-answered'), fullPage: true });
  expect(errors).toEqual([]);
});
