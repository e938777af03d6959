import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';

// Node's GPU setup on machines that lack pieces. Dawn is left out (the optional dependency not
// installed): --help still works and a GPU command says what to install. A machine without a system
// Vulkan loader is made in a private mount namespace (unshare, root only; skipped elsewhere), where
// an overlay hides libvulkan.so.1: the CLI must find Chromium's loader by itself, and with that one
// hidden too, say which package to install — not give a browser's advice.

const userLines = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('streamvlm:'));

test('without the webgpu package: --help works, a GPU command says to install it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamvlm-nodawn-'));
  for (const f of ['bin/streamvlm.js', 'dist-node/cli.js']) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(f, join(dir, f));
  }
  const run = (args: string[]) => spawnSync(process.execPath, [join(dir, 'bin/streamvlm.js'), ...args], { encoding: 'utf8', cwd: dir });
  const help = run(['--help']);
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('usage: streamvlm');
  const info = run(['info']);
  expect(info.status).toBe(1);
  expect(userLines(info.stderr)).toEqual([expect.stringMatching(/^streamvlm: GpuUnavailableError: the webgpu package \(Dawn for Node\) is not installed \(Run `npm install webgpu`/)]);
});

/** The folder of the system's libvulkan.so.1, as the dynamic linker's cache lists it. */
function systemLoaderDir(): string | null {
  try {
    const line = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).split('\n').find((l) => l.trim().startsWith('libvulkan.so.1 ('));
    return line ? dirname(line.split('=>')[1].trim()) : null;
  } catch {
    return null;
  }
}

const canIsolate = process.platform === 'linux' && process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0 && existsSync('/usr/lib/chromium/libvulkan.so.1');

/** Runs the CLI with libvulkan.so.1 hidden from each folder (an overlay with a whiteout), in a private mount namespace. */
function withoutLoaders(folders: string[], args: string[]) {
  const mounts = folders.map((folder) => {
    const layer = mkdtempSync(join(tmpdir(), 'streamvlm-overlay-'));
    mkdirSync(join(layer, 'up'));
    mkdirSync(join(layer, 'work'));
    // a whiteout: a 0/0 character device hides the lower file of that name
    execFileSync('mknod', [join(layer, 'up', 'libvulkan.so.1'), 'c', '0', '0']);
    return `mount -t overlay overlay -o lowerdir=${folder},upperdir=${layer}/up,workdir=${layer}/work ${folder}`;
  });
  const script = `${mounts.join(' && ')} && exec "${process.execPath}" bin/streamvlm.js ${args.join(' ')}`;
  // VK_ICD_FILENAMES from the environment would bypass the fallback under test
  const env = { ...process.env };
  delete env.VK_ICD_FILENAMES;
  return spawnSync('unshare', ['-m', 'sh', '-c', script], { encoding: 'utf8', cwd: resolve('.'), env, timeout: 120_000 });
}

test.describe('a Linux machine without a system Vulkan loader', () => {
  test.skip(!canIsolate, 'needs root, unshare and Debian Chromium to hide the system loader');

  test("Chromium's loader is found without LD_LIBRARY_PATH, and the adapter is named", async () => {
    const dir = systemLoaderDir();
    test.skip(!dir, 'no system Vulkan loader to hide');
    const r = withoutLoaders([dir!], ['info', '--json']);
    expect(r.status, r.stderr.slice(-1500)).toBe(0);
    expect(JSON.parse(r.stdout).adapter.vendor).toBeTruthy();
    const plain = withoutLoaders([dir!], ['info']);
    expect(plain.stderr).toMatch(/^GPU: .+Vulkan loader from \/usr\/lib\/chromium$/m);
  });

  test('with no loader anywhere: one line naming what to install, no browser advice', async () => {
    const dir = systemLoaderDir();
    const r = withoutLoaders([...(dir ? [dir] : []), '/usr/lib/chromium'], ['info']);
    expect(r.status).toBe(1);
    const lines = userLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('there is no Vulkan loader (libvulkan.so.1) on this machine');
    expect(lines[0]).toContain('apt install libvulkan1');
    expect(lines[0]).not.toContain('chrome://');
  });
});
