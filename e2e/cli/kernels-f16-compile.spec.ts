import { spawnSync } from 'node:child_process';
import { expect, test } from '@playwright/test';

// Every kernel variant with and without shader-f16, compiled and validated by Dawn's WGSL compiler
// (Tint) on Dawn's null backend, which offers shader-f16 where SwiftShader does not: the f16 paths
// (and the f32 ones) at least compile, bind and dispatch without a validation error here and in CI.
// The null backend executes nothing, so only validation is asserted; numbers are checked in
// Chromium (f32) and on the GPU machine (both precisions).
test('every kernel variant compiles and validates in f32 and f16 math (Dawn null backend)', () => {
  test.setTimeout(120_000);
  const r = spawnSync(process.execPath, ['bin/streamvlm.js', 'selfcheck', '--json'], {
    encoding: 'utf8',
    timeout: 110_000,
    env: { ...process.env, DAWN_TOGGLES: 'backend=null' },
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  expect(line.startsWith('{'), `no JSON report; stderr: ${r.stderr.slice(-2000)}`).toBe(true);
  const report = JSON.parse(line) as { features: { f16: boolean }; reports: { name: string; precision: string; detail?: string }[] };
  expect(report.features.f16, 'the null adapter offers shader-f16').toBe(true);
  const byPrecision = (p: string) => report.reports.filter((x) => x.precision === p).length;
  expect(byPrecision('f16')).toBeGreaterThan(100);
  expect(byPrecision('f16')).toBe(byPrecision('f32'));
  const invalid = report.reports.filter((x) => /GPU validation error|threw:/.test(x.detail ?? '')).map((x) => `${x.name} [${x.precision}]: ${x.detail}`);
  expect(invalid).toEqual([]);
});
