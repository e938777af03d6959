import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { parseArgs } from '../../src/cli/args';
import { parseQuestion, watchOptions } from '../../src/cli/watch-options';
import { frameToRgb, parseY4m } from '../../src/cli/y4m';

// `streamvlm watch` as a user runs it: the built CLI (dist-node/) in Node through Dawn, playing a
// .y4m made here from the stream fixture's PNG frames through the streaming engine, against the
// streaming references transformers computed (tools/fixtures/tiny-gqa/stream.json).

const FIX = 'tools/fixtures/tiny-gqa';
const stream = JSON.parse(readFileSync(`${FIX}/stream.json`, 'utf8')) as {
  question: string;
  frames: { file: string; timestamp_ms: number }[];
  full: { generated: number[] };
  windowed: { generated: number[]; window_frames: number };
};

function cli(args: string[], timeout = 170_000) {
  const r = spawnSync(process.execPath, ['bin/streamvlm.js', ...args], { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const userLines = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('streamvlm:'));

interface JsonAnswer {
  question: string;
  askedAtMs: number;
  tokens: number[];
  text: string;
  moments: { frameIndex: number; timestampMs: number; time: string; from: string; score: number | null }[];
}

function jsonLines(stdout: string, n: number, stderr: string): JsonAnswer[] {
  const lines = stdout.trim().split('\n').slice(-n);
  expect(lines.every((l) => l.startsWith('{')), `no JSON lines; stderr: ${stderr.slice(-2000)}`).toBe(true);
  return lines.map((l) => JSON.parse(l));
}

const clamp = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));

/**
 * RGB frames → YUV4MPEG2 4:4:4, full range (no chroma subsampling): each pixel's Y, Cb, Cr are
 * the bytes whose BT.601 decoding (src/cli/y4m.ts) comes closest to the pixel, searched around
 * the exact inverse, so the clip is as near the PNGs as 8-bit YCbCr gets (±1 per channel here).
 */
function writeY4m444(frames: { width: number; height: number; rgba: Uint8Array }[], fps: number): Uint8Array {
  const { width: W, height: H } = frames[0];
  const best = new Map<number, [number, number, number]>();
  const encode = (R: number, G: number, B: number): [number, number, number] => {
    const key = (R << 16) | (G << 8) | B;
    const hit = best.get(key);
    if (hit) return hit;
    const y0 = 0.299 * R + 0.587 * G + 0.114 * B;
    const u0 = 128 + (B - y0) / 1.772;
    const v0 = 128 + (R - y0) / 1.402;
    let pick: [number, number, number] = [0, 0, 0];
    let err = Infinity;
    for (let dy = -2; dy <= 2; dy++) {
      for (let du = -2; du <= 2; du++) {
        for (let dv = -2; dv <= 2; dv++) {
          const [y, u, v] = [clamp(y0 + dy), clamp(u0 + du), clamp(v0 + dv)];
          const e = Math.max(Math.abs(clamp(y + 1.402 * (v - 128)) - R), Math.abs(clamp(y - 0.344136 * (u - 128) - 0.714136 * (v - 128)) - G), Math.abs(clamp(y + 1.772 * (u - 128)) - B));
          if (e < err) [err, pick] = [e, [y, u, v]];
        }
      }
    }
    best.set(key, pick);
    return pick;
  };
  const parts: Uint8Array[] = [new TextEncoder().encode(`YUV4MPEG2 W${W} H${H} F${fps}:1 Ip A1:1 C444 XCOLORRANGE=FULL\n`)];
  for (const f of frames) {
    const planes = new Uint8Array(3 * W * H);
    for (let p = 0; p < W * H; p++) {
      const [y, u, v] = encode(f.rgba[p * 4], f.rgba[p * 4 + 1], f.rgba[p * 4 + 2]);
      planes[p] = y;
      planes[W * H + p] = u;
      planes[2 * W * H + p] = v;
    }
    parts.push(new TextEncoder().encode('FRAME\n'), planes);
  }
  return Buffer.concat(parts);
}

function readPng(path: string) {
  const png = PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
}

/** The 8 stream frames (1 s apart) as a clip at `fps`: each frame repeated fps times. */
function clip(fps: number): string {
  const frames = stream.frames.map((f) => readPng(`${FIX}/${f.file}`));
  const repeated = frames.flatMap((f) => Array.from({ length: fps }, () => f));
  const dir = mkdtempSync(join(tmpdir(), 'streamvlm-watch-'));
  const path = join(dir, `stream-${fps}fps.y4m`);
  writeFileSync(path, writeY4m444(repeated, fps));
  return path;
}

test('the clip decodes to the PNG frames within one 8-bit step', async () => {
  const path = clip(1);
  const video = parseY4m(readFileSync(path), path);
  expect(video.frameOffsets).toHaveLength(8);
  let worst = 0;
  stream.frames.forEach((f, i) => {
    const png = readPng(`${FIX}/${f.file}`);
    const rgb = frameToRgb(video, i);
    for (let p = 0; p < png.width * png.height; p++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(rgb.data[p * 3 + c] - png.rgba[p * 4 + c]));
  });
  expect(worst).toBeLessThanOrEqual(1);
});

test('watch: 3-frame window, every stored frame retrieved, raw KV restored (ReKV) → the windowed reference; timed questions see only the past', async () => {
  test.setTimeout(180_000);
  // a 4 fps clip sampled at 1 fps: the engine sees the same 8 frames, at 0 s … 7 s
  const path = clip(4);
  const q = stream.question;
  const r = cli([
    'watch', '--model', FIX, '--weights', 'f32', '--video', path, '--fps', '1', '--window', '3', '--kv-bits', 'none', '--top-k', '8',
    // no K/V kept in RAM: the stored frames come back from the temp-folder spill
    '--memory-ram-mb', '0',
    '--frame-resize', 'image', '--max-new-tokens', '12', '--answer-context', 'restore', '--ask', `${q}@2.5`, '--ask', q, '--json',
  ]);
  const [early, end] = jsonLines(r.stdout, 2, r.stderr);
  console.log(JSON.stringify({ early: early.tokens, end: end.tokens, windowed: stream.windowed.generated }));
  expect(r.code).toBe(0);
  // given order; the one at 2.5 s saw frames 0–2 (all in the window)
  expect(early).toMatchObject({ question: q, askedAtMs: 2500 });
  expect(early.moments.map((m) => [m.time, m.from])).toEqual([['00:00', 'window'], ['00:01', 'window'], ['00:02', 'window']]);
  // at the end: frames 0–4 from memory (time order, scored), 5–7 the window
  expect(end).toMatchObject({ question: q, askedAtMs: 8000 });
  expect(end.moments.map((m) => m.time)).toEqual(['00:00', '00:01', '00:02', '00:03', '00:04', '00:05', '00:06', '00:07']);
  expect(end.moments.map((m) => m.from)).toEqual(['memory', 'memory', 'memory', 'memory', 'memory', 'window', 'window', 'window']);
  expect(end.moments.slice(0, 5).every((m) => typeof m.score === 'number')).toBe(true);
  expect(end.tokens).toEqual(stream.windowed.generated);
});

test('watch prints answers with their moments; bad usage and bad files are one-line typed errors', async () => {
  test.setTimeout(180_000);
  const path = clip(1);
  const r = cli(['watch', '--model', FIX, '--video', path, '--window', '2', '--kv-bits', '4', '--top-k', '2', '--max-new-tokens', '4', '--memory-ram-mb', '0', '--ask', 'What is yellow?@1']);
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  const out = r.stdout.split('\n');
  expect(out[0]).toBe('[00:01] What is yellow?');
  expect(r.stdout).toMatch(/\n {2}moments: 00:00 00:01 {2}\(\* = from memory\)\n/);
  expect(out.filter((l) => l.startsWith('watched'))).toEqual([expect.stringMatching(/^watched 00:08: 8 of 8 frames at 1 fps; window 2 frames, memory 6 frames \(\d+ KiB, 6 of them on disk\)$/)]);

  const usage = (args: string[]) => {
    const u = cli(['watch', ...args]);
    expect(u.code).toBe(1);
    expect(u.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
    return userLines(u.stderr);
  };
  expect(usage(['--model', FIX, '--video', path])).toEqual(['streamvlm: InputError: watch needs at least one --ask "<question>[@<seconds>]" (or --save-memory DIR)']);
  expect(usage(['--model', FIX, '--video', path, '--ask', 'hi', '--kv-bits', '3'])).toEqual(["streamvlm: InputError: --kv-bits must be 8, 4, 2 or 'none', not 3"]);
  expect(usage(['--model', FIX, '--video', path, '--ask', 'hi', '--fps', '0'])).toEqual(['streamvlm: InputError: --fps must be a number in (0, 60], not 0']);
  expect(usage(['--model', FIX, '--video', path, '--ask', 'hi', '--memory-ram-mb', 'x'])).toEqual(['streamvlm: InputError: --memory-ram-mb must be a number ≥ 0 (Infinity: no limit), not x']);
  expect(usage(['--model', FIX, '--video', path, '--ask', 'hi', '--windw', '3'])).toEqual(['streamvlm: InputError: watch has no option --windw']);
  const bad = join(mkdtempSync(join(tmpdir(), 'streamvlm-watch-')), 'bad.y4m');
  writeFileSync(bad, 'YUV4MPEG2 W64 H48 F1:1 C420jpeg\nFRAME\n\x01\x02');
  expect(usage(['--model', FIX, '--video', bad, '--ask', 'hi'])).toEqual([`streamvlm: InputError: ${bad}: not a valid YUV4MPEG2 file (frame 0 is truncated)`]);
  // a window + top-k the model's context cannot hold: refused before anything runs
  const big = usage(['--model', FIX, '--video', path, '--ask', 'hi', '--window', '4000']);
  expect(big).toHaveLength(1);
  expect(big[0]).toMatch(/^streamvlm: InputError: StreamEngine: 4000 window/);
});

test('watch options: questions with @seconds, defaults and refusals (no GPU)', async () => {
  expect(parseQuestion('What is on the table?@12.5')).toEqual({ question: 'What is on the table?', atMs: 12_500 });
  // an @ that is no time is refused, not read as part of the question; @end keeps one in the question
  expect(() => parseQuestion('Who wrote to bob@example.com?')).toThrow('"@example.com?" is not a video time');
  expect(parseQuestion('Who wrote to bob@example.com?@end')).toEqual({ question: 'Who wrote to bob@example.com?', atMs: null });
  expect(parseQuestion('What moved?@1:05')).toEqual({ question: 'What moved?', atMs: 65_000 });
  expect(parseQuestion('meet me @ noon')).toEqual({ question: 'meet me @ noon', atMs: null });
  expect(() => parseQuestion('q@abc')).toThrow('"@abc" is not a video time');
  expect(parseQuestion('a@b @3')).toEqual({ question: 'a@b', atMs: 3000 });
  expect(() => parseQuestion('@4')).toThrow(/the question is empty/);
  const o = watchOptions(parseArgs(['--model', 'm', '--video', 'v.y4m', '--ask', 'q1', '--ask', 'q2@1', '--top-k', '0', '--json'], ['json']));
  expect(o).toMatchObject({ model: 'm', video: 'v.y4m', fps: 1, maxNewTokens: 64, json: true, engine: { topK: 0, maxAnswerTokens: 64 } });
  expect(o.questions).toEqual([{ question: 'q1', atMs: null }, { question: 'q2', atMs: 1000 }]);
  expect(() => watchOptions(parseArgs(['--model', 'm', '--video', 'v', '--ask', 'q', '--window', '2.5'], []))).toThrow('--window must be a positive integer, not 2.5');
  expect(() => watchOptions(parseArgs(['--model', 'm', '--ask', 'q'], []))).toThrow('watch needs one --video <file.y4m>');
});
