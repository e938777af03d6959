import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { InterchangeAnswer, MemoryFile } from './harness/memory-interchange';
import { useSharedHarness } from '../support/harness-page';

// A memory recorded on a server opens in a page, and the other way round (issue #13): the CLI's
// `watch --save-memory DIR` folder, copied into the page's private file system, opens with
// StreamVLM.openMemory and answers with the same tokens and moments as `streamvlm ask --memory DIR`;
// a memory the page streamed and saved, copied out to a folder, answers in `ask --memory` with the
// page's tokens. The needle test model, f32 weights and math on both sides, 4-bit memory.

const MODEL = 'tools/fixtures/needle-vlm';
const WINDOW = 4;
const TOP_K = 8;
const MAX_TOKENS = 8;
const work = mkdtempSync(join(tmpdir(), 'streamvlm-interchange-'));
const page = useSharedHarness('memory-interchange', { modelFolders: true });

test.describe.configure({ mode: 'serial' });
test.setTimeout(240_000);

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/streamvlm.js', ...args], { encoding: 'utf8', timeout: 200_000 });
  expect(r.status, r.stderr.slice(-1500)).toBe(0);
  return r.stdout;
}
const cliAnswers = (stdout: string): InterchangeAnswer[] =>
  stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).map((a) => ({ tokens: a.tokens, text: a.text, moments: a.moments.map((m: { frameIndex: number; from: string }) => ({ frameIndex: m.frameIndex, from: m.from })) }));

function needleClip(seed: number, frames: number, depth: number) {
  const path = join(work, `clip-${seed}.y4m`);
  cli(['needle', '--seed', String(seed), '--frames', String(frames), '--depth', String(depth), '--out', path]);
  return { path, meta: JSON.parse(readFileSync(path.replace(/\.y4m$/, '.json'), 'utf8')) as { needles: { frame: number }[]; questions: { question: string; answer: string; family: string }[] } };
}

test('a memory the CLI saved opens in the page and answers as the CLI does', async () => {
  const { page: p, errors } = await page();
  const { path, meta } = needleClip(1, 12, 0.2);
  const folder = join(work, 'from-cli');
  cli(['watch', '--model', MODEL, '--weights', 'f32', '--video', path, '--window', String(WINDOW), '--top-k', String(TOP_K), '--save-memory', folder, '--json']);
  const questions = meta.questions.filter((q) => q.family !== 'presence').map((q) => q.question);
  const fromCli = cliAnswers(cli(['ask', '--memory', folder, '--max-new-tokens', String(MAX_TOKENS), ...questions, '--json']));
  expect(fromCli).toHaveLength(questions.length);

  // the memory format's files only (index and blocks), not the CLI's own settings note
  const files: MemoryFile[] = readdirSync(folder).filter((f) => /\.svm[ib]$/.test(f)).map((name) => ({ name, base64: readFileSync(join(folder, name)).toString('base64') }));
  expect(files.filter((f) => f.name.endsWith('.svmb'))).toHaveLength(12);
  await p.evaluate((o) => window.memoryInterchange.load(o), { windowFrames: WINDOW, topK: TOP_K, maxAnswerTokens: MAX_TOKENS });
  await p.evaluate(({ files }) => window.memoryInterchange.writeFiles('from-cli', files), { files });
  expect(await p.evaluate(() => window.memoryInterchange.open('from-cli'))).toBe(12);
  for (const [i, question] of questions.entries()) {
    const inPage = await p.evaluate((q) => window.memoryInterchange.ask(q), question);
    expect(inPage, question).toEqual(fromCli[i]);
  }
  // and they are right: the needle (frame 2) has left the 4-frame window, the answers come from memory
  expect(fromCli[0].text.trim()).toBe(meta.questions.find((q) => q.question === questions[0])!.answer);
  expect(fromCli[0].moments).toContainEqual({ frameIndex: meta.needles[0].frame, from: 'memory' });
  expect(errors).toEqual([]);
});

test('a memory the page streamed and saved answers in the CLI as in the page', async () => {
  const { page: p, errors } = await page();
  // a new stream: the engine that opened the CLI's memory goes, a fresh one watches from 00:00
  await p.evaluate(() => window.memoryInterchange.dispose());
  await p.evaluate((o) => window.memoryInterchange.load(o), { windowFrames: WINDOW, topK: TOP_K, maxAnswerTokens: MAX_TOKENS });
  const watched = await p.evaluate(() => window.memoryInterchange.watchNeedleClip(2, 12, 0.25));
  expect(watched.ingested).toBe(12);
  expect(await p.evaluate(() => window.memoryInterchange.save('from-page'))).toBe(12);
  // what the page answers from its saved memory, reopened (no window frames on the GPU, as in the CLI)
  expect(await p.evaluate(() => window.memoryInterchange.open('from-page'))).toBe(12);
  const question = watched.questions.find((q) => q.family === 'color')!.question;
  const inPage = await p.evaluate((q) => window.memoryInterchange.ask(q), question);
  const files = await p.evaluate(() => window.memoryInterchange.readFiles('from-page'));
  const folder = join(work, 'from-page');
  mkdirSync(folder);
  for (const f of files) writeFileSync(join(folder, f.name), Buffer.from(f.base64, 'base64'));
  expect(files.filter((f) => f.name.endsWith('.svmb'))).toHaveLength(12);
  const [fromCli] = cliAnswers(cli(['ask', '--memory', folder, '--model', MODEL, '--weights', 'f32', '--top-k', String(TOP_K), '--max-new-tokens', String(MAX_TOKENS), question, '--json']));
  expect(fromCli).toEqual(inPage);
  await p.evaluate(() => window.memoryInterchange.dispose());
  expect(errors).toEqual([]);
});
