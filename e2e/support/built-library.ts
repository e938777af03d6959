import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The library as `npm run build` makes it (`vite build --mode lib`: dist/streamvlm.js and its
 * engine worker), built once per test run for every spec that needs it (the CSP pages, the plain
 * page without a bundler, the npm package) instead of once in each. The folder is named after the
 * Playwright runner's process (the workers' parent), so a run never uses an earlier run's build;
 * the first worker to ask builds it while the others wait, and global-teardown.ts removes it.
 */
export const builtLibraryDir = (runner = process.ppid): string => join(tmpdir(), `streamvlm-e2e-lib-${runner}`);

const WAIT_MS = 170_000;

export function builtLibrary(): string {
  const dir = builtLibraryDir();
  const done = join(dir, '.built');
  const failed = join(dir, '.failed');
  let builder = false;
  try {
    mkdirSync(dir);
    builder = true;
  } catch {
    // another worker of this run is building (or has built) it
  }
  if (builder) {
    try {
      const out = join(dir, 'lib');
      const vite = resolve('node_modules/vite/bin/vite.js');
      execFileSync(process.execPath, [vite, 'build', '--mode', 'lib', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], { stdio: 'inherit', timeout: WAIT_MS });
      writeFileSync(done, '');
    } catch (e) {
      writeFileSync(failed, String(e));
      throw e;
    }
  }
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const until = Date.now() + WAIT_MS;
  while (!existsSync(done)) {
    if (existsSync(failed)) throw new Error(`the library build failed in another worker: ${readFileSync(failed, 'utf8')}`);
    if (Date.now() > until) throw new Error(`the library build in ${dir} did not finish in ${WAIT_MS / 1000} s`);
    Atomics.wait(pause, 0, 0, 200);
  }
  const lib = join(dir, 'lib');
  if (!readdirSync(join(lib, 'assets')).some((f) => /^engine-worker-.*\.js$/.test(f))) throw new Error(`${lib}: no engine worker was built`);
  return lib;
}

/** Removes the run's build (called by the runner, whose process id names it). */
export function removeBuiltLibrary(): void {
  rmSync(builtLibraryDir(process.pid), { recursive: true, force: true });
}
