import { expect, test } from '@playwright/test';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

// The projects of playwright.config.ts run e2e/unit, e2e/cli and e2e/browser only: a spec anywhere
// else (say, added in e2e/ itself on a branch older than this layout) would silently never run.

const E2E = join(import.meta.dirname, '..');
const PROJECT_FOLDERS = ['unit/', 'cli/', 'browser/'];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [relative(E2E, join(dir, e.name)).replaceAll('\\', '/')]));
}

test('every spec is in a project folder (unit/, cli/, browser/), none in the harness', () => {
  const misplaced = files(E2E).filter((f) => /\.spec\.[cm]?[jt]s$/.test(f) && (!PROJECT_FOLDERS.some((p) => f.startsWith(p)) || f.startsWith('browser/harness/')));
  expect(misplaced).toEqual([]);
});

test('no page of its own beside the one harness page, except the built-library pages', () => {
  const pages = files(E2E).filter((f) => f.endsWith('.html'));
  expect(pages.filter((f) => f !== 'browser/harness/index.html' && !f.startsWith('browser/pages/'))).toEqual([]);
});
