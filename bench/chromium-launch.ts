// Headless Chromium for the browser drivers (needle-browser.ts, soak.ts), built into dist-node/ so
// that they run on the GPU machine without node_modules: playwright-core comes from
// PLAYWRIGHT_CORE (../shared/device/prepare-chromium.sh) or this checkout's node_modules, the
// browser from CHROMIUM_PATH or Debian's, WebGPU on the card from CHROMIUM_GPU_ARGS (SwiftShader
// without them). Also: the pages' static files, and what the browser's processes hold.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, BrowserType } from 'playwright-core';
import { chromiumArgs, chromiumExecutable } from '../e2e/support/chromium';

/** The repository's root: the nearest folder above this file with a package.json (bundled, this file lies in dist-node/ or a chunk folder under it). */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

/** The built pages (vite build -c vite.gpu-browser.config.ts). */
export const pagesDir = join(repoRoot, 'dist-gpu-browser');

/** Throws with the build command when the pages were not built. */
export function checkPagesBuilt(page: string): void {
  if (!existsSync(join(pagesDir, 'bench', page))) throw new Error(`${join(pagesDir, 'bench', page)} is missing: build the pages first (npx vite build -c vite.gpu-browser.config.ts)`);
}

async function chromiumType(): Promise<BrowserType> {
  // a variable, so the bundler leaves the import to run time (there is no node_modules on the GPU machine)
  const from = process.env.PLAYWRIGHT_CORE ?? 'playwright-core';
  const pw = (await import(from)) as { chromium?: BrowserType; default?: { chromium: BrowserType } };
  const chromium = pw.chromium ?? pw.default?.chromium;
  if (!chromium) throw new Error(`${from} has no chromium export`);
  return chromium;
}

/**
 * The flags: SwiftShader's (a CPU adapter, this machine and CI), then the environment's flags for
 * the real card, with shader-f16 (CHROMIUM_GPU_F16_ARGS) or without (CHROMIUM_GPU_ARGS).
 */
export function benchChromiumArgs(f16: boolean, extra: readonly string[] = []): string[] {
  const gpu = (f16 ? (process.env.CHROMIUM_GPU_F16_ARGS ?? process.env.CHROMIUM_GPU_ARGS) : process.env.CHROMIUM_GPU_ARGS) ?? '';
  return [
    ...extra,
    // a long run in tabs that are not in front must not be slowed down
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    ...chromiumArgs(gpu),
  ];
}

export async function launchChromium(f16: boolean, extraArgs: readonly string[] = []): Promise<Browser> {
  const chromium = await chromiumType();
  return chromium.launch({ executablePath: chromiumExecutable(), args: benchChromiumArgs(f16, extraArgs) });
}

/**
 * Chromium with a user profile on disk (`userDataDir`), as a user's browser has: Cache Storage gets
 * a disk quota there, where a fresh context's in-memory quota refuses a 500 MB model.
 */
export async function launchPersistentChromium(f16: boolean, userDataDir: string): Promise<BrowserContext> {
  const chromium = await chromiumType();
  return chromium.launchPersistentContext(userDataDir, { executablePath: chromiumExecutable(), args: benchChromiumArgs(f16) });
}

/** Parent pid of every process (from /proc; empty where there is no /proc). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      // the command name (field 2) may hold spaces and parentheses: the fields after the last ')'
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      out.set(Number(pid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** The processes this driver started, and theirs (Chromium's browser, GPU, renderer, utility processes). */
export function descendantPids(root = process.pid): number[] {
  const ppid = parents();
  const out: number[] = [];
  const frontier = [root];
  while (frontier.length) {
    const p = frontier.pop()!;
    for (const [pid, parent] of ppid) {
      if (parent === p) {
        out.push(pid);
        frontier.push(pid);
      }
    }
  }
  return out;
}

/** Resident memory of a process in bytes (VmRSS), 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The process's command line (arguments joined by spaces), '' when it is gone. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** nvidia-smi's figures, or nulls without it. */
export function nvidiaMemory(pids: Set<number>): { processMiB: number | null; cardMiB: number | null } {
  const run = (query: string[]) => execFileSync('nvidia-smi', [...query, '--format=csv,noheader,nounits'], { timeout: 10_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const apps = run(['--query-compute-apps=pid,used_memory'])
      .split('\n')
      .map((l) => l.split(',').map((x) => Number(x.trim())))
      .filter((r) => r.length === 2 && Number.isFinite(r[0]));
    const ours = apps.filter(([pid]) => pids.has(pid));
    const card = run(['--query-gpu=memory.used']).split('\n').map(Number).filter(Number.isFinite);
    return { processMiB: ours.length ? ours.reduce((a, [, mib]) => a + mib, 0) : null, cardMiB: card.length ? card.reduce((a, b) => a + b, 0) : null };
  } catch {
    return { processMiB: null, cardMiB: null };
  }
}
