import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { frameToRgb, parseY4m } from '../../src/cli/y4m';
import { y4mFrame } from '../../src/cli/y4m-writer';
import { hash32, Rng } from '../../src/needle/random';
import { describeFrame, planNeedleStream, renderFrame, type NeedleStream } from '../../src/needle/render';
import { COLORS, COMMON_SHAPES, insideShape, RARE_SHAPES } from '../../src/needle/shapes';

// The needle task's renderer (src/needle/render.ts) and `streamvlm needle`: deterministic,
// the spec in its header kept (needles where the depth says, each rare shape at most once,
// sizes and colours), the .y4m written as the CLI and Chromium's fake camera read it.

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/streamvlm.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The fraction of pixels within ±8 (the noise) of `rgb`. */
function coverage(stream: NeedleStream, frame: Uint8Array, rgb: readonly number[]): number {
  let n = 0;
  for (let p = 0; p < stream.width * stream.height; p++) {
    if ([0, 1, 2].every((c) => Math.abs(frame[p * 3 + c] - rgb[c]) <= 8)) n++;
  }
  return n / (stream.width * stream.height);
}

test('the generator and hash are deterministic 32-bit arithmetic', () => {
  expect(hash32(1, 2)).toBe(hash32(1, 2));
  expect(hash32(1, 2)).not.toBe(hash32(2, 1));
  const a = new Rng(hash32(42));
  const b = new Rng(hash32(42));
  const xs = Array.from({ length: 1000 }, () => a.next());
  expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
  expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...xs)).toBeLessThan(1);
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
});

test('needles sit at their depth, each rare shape at most once, with the questions they answer', () => {
  const s = planNeedleStream({ seed: 3, frames: 61, depths: [0, 0.5, 1], needles: 4 });
  expect(s.needles.map((n) => n.frame)).toEqual(expect.arrayContaining([0, 30, 60]));
  expect(s.needles.map((n) => n.frame)).toEqual([...s.needles.map((n) => n.frame)].sort((a, b) => a - b));
  expect(new Set(s.needles.map((n) => n.shape)).size).toBe(4);
  for (const n of s.needles) {
    expect(n.time).toBe(`${String(Math.floor(n.frame / 60)).padStart(2, '0')}:${String(n.frame % 60).padStart(2, '0')}`);
    expect(n.rgb).toEqual(COLORS[n.color]);
    const q = (question: string) => s.questions.find((x) => x.question === question)?.answer;
    expect(q(`What color was the ${n.shape}?`)).toBe(n.color);
    expect(q(`When did you see the ${n.shape}?`)).toBe(n.time);
  }
  const one = planNeedleStream({ seed: 3, frames: 61, depths: [0.25] });
  expect(one.needles).toHaveLength(1);
  const absent = RARE_SHAPES.filter((r) => r !== one.needles[0].shape);
  expect(one.questions.filter((q) => q.family === 'presence' && q.answer === 'no').map((q) => q.shape)).toEqual(absent);
  expect(one.questions.find((q) => q.shape === 'arrow' && q.family === 'presence')?.question).toBe('Did you see an arrow?');
  // haystack frames never show a rare shape
  for (let i = 0; i < 61; i++) {
    const c = describeFrame(one, i);
    if (i === one.needles[0].frame) expect(c.shape).toBe(one.needles[0].shape);
    else expect(COMMON_SHAPES as readonly string[]).toContain(c.shape);
  }
});

test('frames: dark noisy background, one object of 25–60 % of the height inside the frame, the same bytes every time', () => {
  const s = planNeedleStream({ seed: 11, frames: 40, depths: [0.5] });
  for (let i = 0; i < 40; i++) {
    const frame = renderFrame(s, i);
    expect(frame).toEqual(renderFrame(s, i));
    const c = describeFrame(s, i);
    expect(c.size).toBeGreaterThanOrEqual(0.25 * s.height);
    expect(c.size).toBeLessThanOrEqual(0.6 * s.height);
    expect(c.cx - c.size / 2).toBeGreaterThanOrEqual(0);
    expect(c.cy + c.size / 2).toBeLessThanOrEqual(s.height);
    expect(Math.max(...c.background)).toBeLessThan(70);
    // the object's colour covers a visible share of the frame; the background most of the rest
    expect(coverage(s, frame, COLORS[c.color])).toBeGreaterThan(0.01);
    expect(coverage(s, frame, c.background)).toBeGreaterThan(0.4);
  }
  expect(renderFrame(s, 0)).not.toEqual(renderFrame(planNeedleStream({ seed: 12, frames: 40, depths: [0.5] }), 0));
  // the star has five points: along a circle of radius 0.8, the inside flips 10 times
  let flips = 0;
  let prev = insideShape('star', 0, -0.8);
  for (let k = 1; k <= 360; k++) {
    const a = (k * Math.PI) / 180 - Math.PI / 2;
    const now = insideShape('star', 0.8 * Math.cos(a), 0.8 * Math.sin(a));
    if (now !== prev) flips++;
    prev = now;
  }
  expect(flips).toBe(10);
});

test('bad plans are refused with one clear error', () => {
  expect(() => planNeedleStream({ seed: 1, frames: 0 })).toThrow(/frames must be/);
  expect(() => planNeedleStream({ seed: -1, frames: 10 })).toThrow(/seed/);
  expect(() => planNeedleStream({ seed: 1, frames: 10, depths: [1.5] })).toThrow(/depth/);
  expect(() => planNeedleStream({ seed: 1, frames: 10, needles: 5 })).toThrow(/needles/);
  expect(() => planNeedleStream({ seed: 1, frames: 10, depths: [0.5, 0.51] })).toThrow(/two needles/);
});

test('a 4:2:0 frame decodes back close to the rendered pixels', () => {
  const s = planNeedleStream({ seed: 5, frames: 3, depths: [1] });
  const rgb = renderFrame(s, 2);
  const record = y4mFrame(rgb, s.width, s.height);
  const video = { header: { width: s.width, height: s.height, fpsNum: 1, fpsDen: 1, chroma: '420' as const, fullRange: false }, frameOffsets: [6], bytes: record };
  const back = frameToRgb(video, 0).data;
  let err = 0;
  for (let i = 0; i < rgb.length; i++) err += Math.abs(back[i] - rgb[i]);
  expect(err / rgb.length).toBeLessThan(6);
});

test('streamvlm needle writes the clip and clip.json; bad flags get one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'needle-'));
  const out = join(dir, 'clip.y4m');
  const r = cli(['needle', '--seed', '9', '--frames', '20', '--depth', '0.5', '--needles', '2', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  const video = parseY4m(readFileSync(out), out);
  expect(video.header).toMatchObject({ width: 160, height: 120, fpsNum: 1, fpsDen: 1, chroma: '420' });
  expect(video.frameOffsets).toHaveLength(20);
  const clip = JSON.parse(readFileSync(join(dir, 'clip.json'), 'utf8'));
  expect(clip).toEqual(JSON.parse(JSON.stringify(planNeedleStream({ seed: 9, frames: 20, depths: [0.5], needles: 2 }))));
  expect(clip.needles.map((n: { frame: number }) => n.frame)).toContain(10);
  expect(clip.questions.every((q: { question: string; answer: string }) => q.question && q.answer)).toBe(true);
  // frame 10 of the file is the needle: its colour dominates the pixels the object covers
  const needle = clip.needles.find((n: { frame: number }) => n.frame === 10);
  const frame = frameToRgb(video, 10).data;
  const s = planNeedleStream({ seed: 9, frames: 20, depths: [0.5], needles: 2 });
  expect(coverage(s, frame as Uint8Array, needle.rgb.map((x: number) => x))).toBeGreaterThan(0);
  for (const bad of [['--frames', '20', '--out', out], ['--seed', '1', '--frames', '0', '--out', out], ['--seed', '1', '--frames', '5', '--depth', 'x', '--out', out], ['--seed', '1', '--frames', '5', '--out', join(dir, 'a.mp4')], ['--seed', '1', '--frames', '5', '--out', out, '--fps', '2']]) {
    const b = cli(['needle', ...bad]);
    expect(b.code).toBe(1);
    expect(b.stderr.trim().split('\n').filter((l) => l.startsWith('streamvlm:'))).toHaveLength(1);
  }
});
