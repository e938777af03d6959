import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { ProgressBar } from '../../src/cli/progress-bar';
import { jsonLine, terminalSafe } from '../../src/cli/terminal-text';

// The CLI's help and refusals as a user meets them: every command's --help / -h, --version, and
// each bad flag value refused with one line naming it — by the SDK's own option checks, so the
// limits are the SDK's (fps ≤ 60). All refused before the GPU is touched, so these are quick.

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/streamvlm.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('help for every command (--help, -h, help <cmd>) and --version', async () => {
  for (const command of ['info', 'selfcheck', 'generate', 'watch', 'ask', 'needle']) {
    for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(new RegExp(`^usage: streamvlm ${command}`));
      expect(r.stderr).toBe('');
    }
  }
  // --help wins over options around it (it used to be taken as an option wanting a value)
  expect(cli(['generate', '--model', 'x', '--help']).stdout).toMatch(/^usage: streamvlm generate/);
  for (const args of [['--help'], ['-h']]) expect(cli(args).stdout).toContain('commands:');
  const version = cli(['--version']);
  expect(version.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  const none = cli([]);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('usage: streamvlm <command>');
});

test('each bad flag value is one line naming it, with the SDK limits', async () => {
  const watch = ['watch', '--model', 'tools/fixtures/needle-vlm', '--video', 'clip.y4m'];
  const cases: [string[], string][] = [
    [[...watch, '--ask', 'q', '--fps', '1e9'], '--fps must be a number in (0, 60], not 1000000000'],
    [[...watch, '--ask', 'q', '--fps', 'fast'], '--fps must be a number in (0, 60], not fast'],
    [[...watch, '--ask', 'q@abc'], '--ask "q@abc": "@abc" is not a video time (seconds like @12.5, MM:SS like @1:05, or @end); to keep an @ in the question, end it with a time or @end'],
    [[...watch, '--ask', 'q@1:75'], '"@1:75" is not a video time'],
    [[...watch, '--ask', 'q', '--window', '0'], '--window must be a positive integer, not 0'],
    [[...watch, '--ask', 'q', '--top-k', '-1'], '--top-k must be a whole number ≥ 0, not -1'],
    [[...watch, '--ask', 'q', '--kv-bits', '3'], "--kv-bits must be 8, 4, 2 or 'none', not 3"],
    [[...watch, '--ask', 'q', '--frame-resize', 'crop'], "--frame-resize must be 'video' or 'image', not crop"],
    [[...watch, '--ask', 'q', '--memory-ram-mb', '-5'], '--memory-ram-mb must be a number ≥ 0 (Infinity: no limit), not -5'],
    [[...watch, '--ask', 'q', '--weights', 'f8'], '--weights must be one of f32, f16, q8, q4, not f8'],
    [[...watch, '--ask', 'q', '--precision', 'f64'], "--precision must be 'auto', 'f16' or 'f32', not f64"],
    [['generate', '--model', 'm', '--prompt', 'p', '--max-new-tokens', '0'], '--max-new-tokens must be a positive integer, not 0'],
    [['generate', '--model', 'm', '--prompt', 'p', '--max-new-tokens=2.5'], '--max-new-tokens must be a positive integer, not 2.5'],
    [['generate', '--model', 'm', '--prompt'], 'option --prompt needs a value'],
    [['generate', '--model', 'm', '--prompt', 'p', '-x'], 'unknown option -x'],
    [['generate', '--model', 'm', '--prompt', 'p', '--json=yes'], '--json takes no value'],
    [['generate', '--model', 'm', '--prompt', 'p', '--fps', '2'], 'generate has no option --fps'],
    [['info', 'extra'], "unexpected argument 'extra'"],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    expect(r.code, args.join(' ')).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, args.join(' ')).toHaveLength(1);
    expect(lines[0], args.join(' ')).toContain(`streamvlm: InputError: `);
    expect(lines[0], args.join(' ')).toContain(message);
  }
  const unknown = cli(['frobnicate']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr.trim().split('\n')).toEqual(["streamvlm: unknown command 'frobnicate' (commands: info, selfcheck, generate, watch, ask, needle; streamvlm --help)"]);
});

test('text for the terminal: control and bidi characters escaped, newlines kept; JSON lines parse back', async () => {
  const evil = 'red\x1b[2J\x1b]0;pwned\x07 \r\u009b31m \u202Egnp.exe\ttab\nnext';
  const safe = terminalSafe(evil);
  expect(safe).toBe('red\\x1b[2J\\x1b]0;pwned\\x07 \\x0d\\x9b31m \\u202egnp.exe\ttab\nnext');
  expect(safe).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  const line = jsonLine({ text: evil });
  expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  expect(JSON.parse(line)).toEqual({ text: evil });
  // an error line quoting the user's input is escaped too
  const r = cli(['watch', '--model', 'm', '--video', 'v.y4m', '--ask', 'q\x1b[31m@x']);
  expect(r.stderr).not.toContain('\x1b');
  expect(r.stderr).toContain('\\x1b[31m');
});

test('the progress line: bar, amount, rate and time left redrawn in place; nothing when off', async () => {
  let now = 0;
  let out = '';
  const stream = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
  const bar = new ProgressBar(true, stream, () => now);
  bar.update('downloading model', 0, 10e6, 'bytes');
  now = 50;
  bar.update('downloading model', 1e6, 10e6, 'bytes'); // within 100 ms of the last draw: skipped
  now = 1000;
  bar.update('downloading model', 2.5e6, 10e6, 'bytes');
  expect(out.split('\r').pop()).toBe('downloading model  [######..................]  2.5/10.0 MB  2.5 MB/s  ETA 0:03\x1b[K');
  expect(out.match(/\r/g)).toHaveLength(2);
  now = 3000;
  bar.update('watching', 30, 60, 'frames');
  now = 5000;
  bar.update('watching', 50, 60, 'frames');
  expect(out.split('\r').pop()).toBe('watching  [####################....]  50/60 frames  25.0 frames/s  ETA 0:01\x1b[K');
  bar.clear();
  expect(out.endsWith('\r\x1b[K')).toBe(true);

  let quiet = '';
  const off = new ProgressBar(false, { write: (s: string) => ((quiet += s), true) } as unknown as NodeJS.WritableStream, () => now);
  off.update('downloading model', 1, 2, 'bytes');
  off.note('answering');
  off.clear();
  expect(quiet).toBe('');
});
