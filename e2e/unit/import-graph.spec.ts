import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';

// Node only (no page): the folder layering of src/ that tools/import-graph.mjs states. It prints the
// folder graph and fails on a cycle between folders, an import against the layer order, a folder
// with no layer, or the SDK entry reaching the selfcheck / reference code.
test('src/ folders import each other without cycles, in layer order, and the SDK entry leaves out selfcheck', () => {
  const r = spawnSync(process.execPath, ['tools/import-graph.mjs'], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toContain('No folder cycles');
});
