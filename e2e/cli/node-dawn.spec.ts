import { spawnSync } from 'node:child_process';
import { expect, test } from '@playwright/test';

// The engine is DOM-free: the same kernels run in Node through Dawn (the `webgpu` package).
// `npm test` builds dist-node/ first; these tests run the real CLI as a user would.
function cli(args: string[], timeout = 170_000) {
  const r = spawnSync(process.execPath, ['bin/streamvlm.js', ...args], { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Kernel families checked here through the Node CLI; Chromium runs every family (e2e/browser/kernels.spec.ts)
// and the GPU machine runs `streamvlm selfcheck` whole. On a CPU adapter the whole set takes ~50 s in
// Node, mostly matmul and attention, which Chromium already covers.
const NODE_FAMILIES = ['kvquant', 'norm', 'rope', 'sampling', 'embedding'];

test('kernel families match their references in Node through Dawn', async () => {
  test.setTimeout(180_000);
  for (const family of NODE_FAMILIES) {
    const r = cli(['selfcheck', '--filter', family, '--json']);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    expect(line.startsWith('{'), `${family}: no JSON report; stderr: ${r.stderr.slice(-2000)}`).toBe(true);
    const report = JSON.parse(line) as { adapter: { architecture: string }; reports: { name: string; precision: string; pass: boolean; detail?: string }[] };
    console.log(`Dawn adapter: ${report.adapter.architecture}; ${family}: ${report.reports.length} checks`);
    expect(report.reports.length, family).toBeGreaterThan(0);
    const failed = report.reports.filter((x) => !x.pass).map((x) => `${x.name} [${x.precision}]: ${x.detail}`);
    expect(failed).toEqual([]);
    expect(r.code).toBe(0);
  }
});

test('the CLI refuses bad usage with one line and a non-zero exit', async () => {
  const unknown = cli(['frobnicate']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  const bad = cli(['selfcheck', '--precision', 'f64']);
  expect(bad.code).toBe(1);
  expect(bad.stderr.trim().split('\n').filter((l) => l.startsWith('streamvlm:'))).toEqual([
    'streamvlm: InputError: --precision must be f32 or f16, not f64',
  ]);
  expect(bad.stderr).not.toMatch(/\n\s+at .*\.js:\d+/); // no JavaScript stack trace
});
