import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { HTML_INSTEAD_OF_FILE, parseJsonObject } from '../../src/model/json-file';
import { hubCacheDir, hubEndpoint } from '../../src/platform/node/hub-cache';
import { startHubServer, type HubServer } from '../support/hub-server';

// `--model owner/name` as a user runs it: the built CLI against a local server that answers as the
// Hugging Face hub does (e2e/support/hub-server.ts, through HF_ENDPOINT), downloading into the
// huggingface_hub cache layout under a fresh HF_HOME, then again from the cache, then with the hub
// gone. Progress is drawn on a terminal (a pseudo-terminal from `script`) and not when piped.

test.describe.configure({ mode: 'serial' });

const FIX = resolve('tools/fixtures/tiny-gqa');
const REPO = 'test-owner/tiny-gqa';
const EXPECTED: number[] = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')).cases.image.generated;
const ARGS = ['generate', '--weights', 'f32', '--image', join(FIX, 'inputs/gradient.png'), '--prompt', 'Can you describe this image?', '--max-new-tokens', '12'];

let hub: HubServer;
const hfHome = mkdtempSync(join(tmpdir(), 'streamvlm-hf-'));
const repoDir = join(hfHome, 'hub', 'models--test-owner--tiny-gqa');

/** Runs a command without blocking this process, which is also the hub server. */
function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, timeout: 170_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const cli = (args: string[], env: Record<string, string> = {}) => run(process.execPath, ['bin/streamvlm.js', ...args], { HF_HOME: hfHome, HF_ENDPOINT: hub.url, ...env });

const userLines = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('streamvlm:'));
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop() ?? 'null');

test.beforeAll(async () => {
  hub = await startHubServer({ [REPO]: FIX, 'test-owner/tiny-corrupt': FIX }, FIX);
});
test.afterAll(async () => {
  await hub?.close();
});

test('the cache folder and endpoint follow huggingface_hub (HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME, HF_ENDPOINT)', async () => {
  expect(hubCacheDir({ HF_HUB_CACHE: '/c/hub', HF_HOME: '/h' })).toBe('/c/hub');
  expect(hubCacheDir({ HF_HOME: '/h' })).toBe('/h/hub');
  expect(hubCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/huggingface/hub');
  expect(hubEndpoint({})).toBe('https://huggingface.co');
  expect(hubEndpoint({ HF_ENDPOINT: 'http://mirror:8080/' })).toBe('http://mirror:8080');
});

test('a hub id downloads into the HF cache layout with a progress bar on a terminal', async () => {
  test.setTimeout(180_000);
  // a pseudo-terminal: stderr is a TTY, as in a user's shell
  const command = ['node', 'bin/streamvlm.js', ...ARGS, '--model', REPO].map((a) => `'${a}'`).join(' ');
  const r = await run('script', ['-qec', command, '/dev/null'], { HF_HOME: hfHome, HF_ENDPOINT: hub.url, TERM: 'xterm' });
  expect(r.code, r.stdout.slice(-1500)).toBe(0);
  // the bar: redrawn in place with bytes, rate and time left, then the weights' upload
  expect(r.stdout).toMatch(/\rdownloading model {2}\[[#.]{24}\] {2}\d+\.\d\/\d+\.\d MB {2}\d+\.\d MB\/s {2}ETA \d+:\d\d/);
  expect(r.stdout).toMatch(/\ruploading weights {2}\[/);
  expect(r.stdout).toMatch(/^GPU: .+/m);

  // huggingface_hub's layout: refs/main → the commit; snapshot files link into blobs by ETag
  expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).toBe(hub.commit);
  const snapshot = join(repoDir, 'snapshots', hub.commit);
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json']) {
    expect(lstatSync(join(snapshot, file)).isSymbolicLink(), file).toBe(true);
    expect(readlinkSync(join(snapshot, file)), file).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{40,64}$/);
    expect(readFileSync(join(snapshot, file)).equals(readFileSync(join(FIX, file))), file).toBe(true);
  }
  // the weights' blob is named by the LFS sha256, small files by the git sha1
  expect(realpathSync(join(snapshot, 'model.safetensors'))).toMatch(/blobs\/[0-9a-f]{64}$/);
  expect(realpathSync(join(snapshot, 'config.json'))).toMatch(/blobs\/[0-9a-f]{40}$/);
  // files the loader probed and the repository lacks are remembered as absent
  expect(existsSync(join(repoDir, '.no_exist', hub.commit, 'model.safetensors.index.json'))).toBe(true);
});

test('from the cache: no download, piped output has no progress, and the answer is transformers\'', async () => {
  test.setTimeout(180_000);
  const before = hub.requests.length;
  const r = await cli([...ARGS, '--model', REPO, '--json']);
  expect(r.code, r.stderr.slice(-1500)).toBe(0);
  expect(lastJson(r.stdout).tokens).toEqual(EXPECTED);
  expect(hub.requests.slice(before).filter((q) => q.startsWith('GET'))).toEqual([]);
  expect(r.stderr).not.toContain('\r');
  expect(r.stderr).not.toContain('downloading');
});

test('with the hub unreachable the cached snapshot answers; offline and not cached is one line', async () => {
  test.setTimeout(180_000);
  const r = await cli([...ARGS, '--model', REPO, '--json'], { HF_ENDPOINT: 'http://127.0.0.1:9' });
  expect(r.code, r.stderr.slice(-1500)).toBe(0);
  expect(lastJson(r.stdout).tokens).toEqual(EXPECTED);

  const empty = mkdtempSync(join(tmpdir(), 'streamvlm-hf-empty-'));
  const missing = await cli([...ARGS, '--model', REPO], { HF_HOME: empty, HF_HUB_OFFLINE: '1' });
  expect(missing.code).toBe(1);
  expect(userLines(missing.stderr)).toEqual([expect.stringMatching(/^streamvlm: ModelLoadError: config\.json: HF_HUB_OFFLINE is set and test-owner\/tiny-gqa@main is not in the hub cache \(.*\); connect once to download it/)]);
});

test('a repository the hub does not have, a corrupted download, an SPA server answering with HTML: one line each', async () => {
  test.setTimeout(120_000);
  const none = await cli([...ARGS, '--model', 'nobody/nothing']);
  expect(none.code).toBe(1);
  expect(userLines(none.stderr)).toEqual([expect.stringMatching(/^streamvlm: ModelLoadError: config\.json: the hub has no repository nobody\/nothing at revision main/)]);

  // a download whose bytes do not match the hub's sha256 is refused and leaves no blob behind
  const corrupt = await cli([...ARGS, '--model', 'test-owner/tiny-corrupt']);
  expect(corrupt.code).toBe(1);
  expect(userLines(corrupt.stderr)).toEqual([expect.stringMatching(/^streamvlm: ModelLoadError: model\.safetensors: the bytes downloaded from .* do not match the hub's sha256; try again/)]);
  const corruptBlobs = join(hfHome, 'hub', 'models--test-owner--tiny-corrupt', 'blobs');
  expect(readdirSync(corruptBlobs).filter((f) => f.length === 64 || f.includes('incomplete'))).toEqual([]);

  const spa = await cli([...ARGS, '--model', `${hub.url}/spa/`]);
  expect(spa.code).toBe(1);
  const lines = userLines(spa.stderr);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(HTML_INSTEAD_OF_FILE);
  // the same from any source (a folder, a cache) where the file itself is a web page
  expect(() => parseJsonObject('config.json', '\n<!DOCTYPE html><html></html>')).toThrow(`config.json: ${HTML_INSTEAD_OF_FILE}`);
  expect(() => parseJsonObject('config.json', '{"a": ')).toThrow('config.json: not valid JSON');
});
