// Shared by the demo specs: the fixture, the demo URL, the fake-camera clip and the screenshot folder.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs } from './chromium';
import { readPng, writeY4m420 } from './demo-y4m';

export const FIX = 'tools/fixtures/tiny-gqa';
export const stream = JSON.parse(readFileSync(`${FIX}/stream.json`, 'utf8')) as {
  question: string;
  max_new_tokens: number;
  camera: { image: string; frames: number; timestamps_ms: number[]; generated: number[] };
};
/**
 * Screenshots of every state, to look at: a folder of their own (test-results/ is emptied by every
 * Playwright run, including other specs' runs in the same checkout). STREAMVLM_DEMO_SHOTS moves it.
 */
const SHOTS = process.env.STREAMVLM_DEMO_SHOTS ?? join(tmpdir(), 'streamvlm-demo-screenshots');
mkdirSync(SHOTS, { recursive: true });
export const shotPath = (name: string) => join(SHOTS, `${name}.png`);

export const DEMO = `/?model=/${FIX}/&kvBits=none&window=8&frameResize=image&timestamps=frames&maxFrames=${stream.camera.frames}&maxTokens=${stream.max_new_tokens}&weights=f32&precision=f32`; // exact parity: f32 weights and math

/** The camera clip: 2 s at 5 fps, every frame the fixture's camera image (Chromium loops it). */
export function cameraClip(): string {
  const dir = join(tmpdir(), 'streamvlm-demo-e2e');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'camera.y4m');
  const image = readPng(`${FIX}/${stream.camera.image}`);
  writeFileSync(path, writeY4m420(Array.from({ length: 10 }, () => image), 5));
  return path;
}

/** Chromium with the fake camera playing the clip; whether a page may use it is its context's permission. */
export const cameraArgs = () => [...chromiumArgs(), '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${cameraClip()}`];

