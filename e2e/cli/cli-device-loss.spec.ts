import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

// Device loss in Node (Dawn), through the built CLI (issue #14): `watch --lose-device-at S` really
// destroys the GPUDevice when the video reaches S seconds, in the middle of the frames' ingestion.
// The stream replaces the device, reloads the weights and carries its memory and window over, so
// every answer — about the needle, which has left the window, and others — has the tokens and the
// moments of the same run without a loss. `--lose-device-at load` destroys the first device while
// the weights are uploaded to it: the start is made again on a new device, and the run is as if
// nothing had happened. Both are lost in one run (`load,12`).

const MODEL = 'tools/fixtures/needle-vlm';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/streamvlm.js', ...args], { encoding: 'utf8', timeout: 170_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('watch in Node: the GPU device destroyed mid-stream, every answer as without the loss', () => {
  test.setTimeout(300_000);
  const path = join(mkdtempSync(join(tmpdir(), 'cli-device-loss-')), 'clip.y4m');
  expect(cli(['needle', '--seed', '1', '--frames', '20', '--depth', '0.2', '--needles', '1', '--out', path]).code).toBe(0);
  const meta = JSON.parse(readFileSync(path.replace(/\.y4m$/, '.json'), 'utf8')) as { needles: { frame: number }[]; questions: { question: string; answer: string; family: string }[] };
  const asks = meta.questions.filter((q) => q.family !== 'presence').flatMap((q) => ['--ask', q.question]);
  const base = ['watch', '--model', MODEL, '--video', path, '--window', '6', '--top-k', '4', '--kv-bits', '4', '--max-new-tokens', '8', ...asks];
  const plain = cli([...base, '--json']);
  // one run, two losses (a run costs ~40 s here): the first device while the weights upload, then
  // the stream's device at 12 s; each recovery is told apart by its line
  const lost = cli([...base, '--json', '--lose-device-at', 'load,12']);
  expect(plain.code, plain.stderr.slice(-2000)).toBe(0);
  expect(lost.code, lost.stderr.slice(-2000)).toBe(0);
  const lines = lost.stderr.split('\n').filter((l) => /GPU device lost|recovered in|recovery failed/.test(l));
  expect(lines).toEqual([
    'GPU device lost (destroyed); recovering',
    expect.stringMatching(/^recovered in [\d.]+ s: 0 window frames restored, 0 lost$/),
    'GPU device lost (destroyed); recovering',
    expect.stringMatching(/^recovered in [\d.]+ s: [56] window frames restored, 0 lost$/),
  ]);
  const answers = (r: { stdout: string }) => r.stdout.trim().split('\n').slice(-2).map((l) => JSON.parse(l) as { tokens: number[]; moments: { frameIndex: number; from: string }[] });
  const a = answers(plain);
  const b = answers(lost);
  for (let i = 0; i < a.length; i++) {
    expect(b[i].tokens).toEqual(a[i].tokens);
    expect(b[i].moments).toEqual(a[i].moments);
  }
  expect(a[0].moments.find((m) => m.frameIndex === meta.needles[0].frame)?.from).toBe('memory');
});
