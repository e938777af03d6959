import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

// `streamvlm watch --save-memory DIR`, then `streamvlm ask --memory DIR "question"`: a stream's
// memory recorded on disk in the browser's saved-memory format and answered from afterwards,
// without the video. On the needle test model: a 12-frame clip whose needle (frame 2) has left the
// 4-frame window by the end, so the answer must come from the saved frames.

test.describe.configure({ mode: 'serial' });

const MODEL = 'tools/fixtures/needle-vlm';
const dir = mkdtempSync(join(tmpdir(), 'streamvlm-memory-'));
const clip = join(dir, 'clip.y4m');
const memory = join(dir, 'kitchen');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/streamvlm.js', ...args], { encoding: 'utf8', timeout: 170_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const userLines = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('streamvlm:'));
const jsonLines = (stdout: string) => stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

test('watch --save-memory writes the saved-memory format; ask --memory answers from it', async () => {
  test.setTimeout(180_000);
  expect(cli(['needle', '--seed', '1', '--frames', '12', '--depth', '0.2', '--out', clip]).code).toBe(0);
  const needle = JSON.parse(readFileSync(clip.replace(/\.y4m$/, '.json'), 'utf8'));
  const color = needle.questions.find((q: { family: string }) => q.family === 'color');

  const watched = cli(['watch', '--model', MODEL, '--weights', 'f32', '--video', clip, '--window', '4', '--ask', `${color.question}@end`, '--save-memory', memory, '--json']);
  expect(watched.code, watched.stderr.slice(-1500)).toBe(0);
  expect(jsonLines(watched.stdout)).toHaveLength(1);

  // the browser's format (src/memory/persist.ts): 'SVMI' u32 version u32 metaBytes | meta JSON |
  // u32 count | entries, and one 'SVMB' file per frame
  const index = readFileSync(join(memory, 'index.svmi'));
  expect(index.subarray(0, 4).toString('latin1')).toBe('SVMI');
  expect(index.readUInt32LE(4)).toBe(3);
  const metaBytes = index.readUInt32LE(8);
  expect(JSON.parse(index.subarray(12, 12 + metaBytes).toString('utf8'))).toMatchObject({ bits: 4, dtype: 'f32' });
  expect(index.readUInt32LE(12 + metaBytes)).toBe(12);
  const blocks = readdirSync(memory).filter((f) => f.endsWith('.svmb'));
  expect(blocks).toHaveLength(12);
  for (const f of blocks) expect(readFileSync(join(memory, f)).subarray(0, 4).toString('latin1')).toBe('SVMB');
  expect(JSON.parse(readFileSync(join(memory, 'streamvlm-watch.json'), 'utf8'))).toMatchObject({ model: MODEL, weights: 'f32', precision: 'f32', windowFrames: 4, kvBits: 4 });

  // ranked by two worker threads (dist-node/ranking-worker.js): the same recall as in one thread
  const asked = cli(['ask', '--memory', memory, color.question, '--json', '--ranking-threads', '2']);
  expect(asked.code, asked.stderr.slice(-1500)).toBe(0);
  const [answer] = jsonLines(asked.stdout);
  expect(answer.question).toBe(color.question);
  expect(answer.text.trim()).toBe(color.answer);
  expect(answer.ranking.threads).toBe(2);
  // the needle's frame was recalled from the saved memory
  expect(answer.moments.map((m: { frameIndex: number; from: string }) => `${m.frameIndex}:${m.from}`)).toContain(`${needle.needles[0].frame}:memory`);
});

test('memory refusals: one line each, before the GPU', async () => {
  const busy = mkdtempSync(join(tmpdir(), 'streamvlm-busy-'));
  writeFileSync(join(busy, 'notes.txt'), 'mine');
  expect(userLines(cli(['watch', '--model', MODEL, '--video', clip, '--save-memory', busy]).stderr)).toEqual([
    `streamvlm: InputError: --save-memory ${busy}: the folder holds other files; give a new or empty folder (or an earlier saved memory to replace)`,
  ]);
  expect(readFileSync(join(busy, 'notes.txt'), 'utf8')).toBe('mine');
  expect(userLines(cli(['ask', 'What happened?']).stderr)).toEqual(['streamvlm: InputError: ask needs --memory DIR (a folder written by streamvlm watch --save-memory DIR)']);
  expect(userLines(cli(['ask', '--memory', memory]).stderr)).toEqual(['streamvlm: InputError: ask needs a question: streamvlm ask --memory DIR "What happened?"']);
  expect(userLines(cli(['ask', '--memory', busy, 'What happened?']).stderr)).toEqual([
    `streamvlm: InputError: --memory ${busy}: no saved memory there (no index.svmi); make one with streamvlm watch --save-memory ${busy}`,
  ]);
});
