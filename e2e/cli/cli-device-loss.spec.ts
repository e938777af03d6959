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
// nothing had happened.

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
  const lost = cli([...base, '--json', '--lose-device-at', '12']);
  const lostAtLoad = cli([...base, '--json', '--lose-device-at', 'load']);
  expect(plain.code, plain.stderr.slice(-2000)).toBe(0);
  expect(lost.code, lost.stderr.slice(-2000)).toBe(0);
  expect(lost.stderr).toMatch(/GPU device lost \(destroyed\); recovering/);
  expect(lost.stderr).toMatch(/recovered in [\d.]+ s: [56] window frames restored, 0 lost/);
  expect(lostAtLoad.code, lostAtLoad.stderr.slice(-2000)).toBe(0);
  expect(lostAtLoad.stderr).toMatch(/GPU device lost \(destroyed\); recovering/);
  expect(lostAtLoad.stderr).toMatch(/recovered in [\d.]+ s: 0 window frames restored, 0 lost/);
  const answers = (r: { stdout: string }) => r.stdout.trim().split('\n').slice(-2).map((l) => JSON.parse(l) as { tokens: number[]; moments: { frameIndex: number; from: string }[] });
  const a = answers(plain);
  for (const b of [answers(lost), answers(lostAtLoad)]) {
    for (let i = 0; i < a.length; i++) {
      expect(b[i].tokens).toEqual(a[i].tokens);
      expect(b[i].moments).toEqual(a[i].moments);
    }
  }
  expect(a[0].moments.find((m) => m.frameIndex === meta.needles[0].frame)?.from).toBe('memory');
});
