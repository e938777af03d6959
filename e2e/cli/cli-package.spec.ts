import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { builtLibrary } from '../support/built-library';

// The package as people install it: `npm pack` of a fresh build, the tarball installed into a
// fresh folder (dependencies from the local npm cache where it has them), then the CLI run from
// there with npx, a TypeScript app type-checked against the declarations with skipLibCheck off,
// and a fresh Vite app built against it.

test.describe.configure({ mode: 'serial' });

const ROOT = resolve('.');
const FIX = join(ROOT, 'tools/fixtures/tiny-gqa');
let app = '';
let tarball = '';

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 170_000 });

function npx(args: string[], timeout = 120_000) {
  const r = spawnSync('npx', ['--no-install', 'streamvlm', ...args], { cwd: app, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * What `npm pack` packs (its prepack runs `npm run build && npm run build:node`), built into a
 * staging copy (the library part shared with other specs: e2e/support/built-library.ts) so that specs running beside this one keep their dist/ and dist-node/.
 */
function stagePackage(stage: string): void {
  for (const f of ['package.json', 'README.md', 'LICENSE', 'bin', 'shaders']) cpSync(join(ROOT, f), join(stage, f), { recursive: true });
  const build = (args: string[]) => execFileSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 170_000 });
  const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
  // the library as `vite build --mode lib` makes it, built once for every spec of the run that needs it
  cpSync(builtLibrary(), join(stage, 'dist'), { recursive: true });
  build([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--declarationDir', join(stage, 'dist/types')]);
  build([vite, 'build', '--config', 'vite.node.config.ts', '--outDir', join(stage, 'dist-node'), '--emptyOutDir', '--logLevel', 'warn']);
  build([vite, 'build', '--config', 'vite.node.config.ts', '--mode', 'worker', '--outDir', join(stage, 'dist-node'), '--logLevel', 'warn']);
}

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const work = mkdtempSync(join(tmpdir(), 'streamvlm-package-'));
  const stage = join(work, 'stage');
  mkdirSync(stage);
  stagePackage(stage);
  npm(['pack', '--silent', '--ignore-scripts', '--pack-destination', work], stage);
  tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true, type: 'module' }));
  npm(['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], app);
});

test('the tarball holds the library, worker, CLI, shaders, types, README and LICENSE, nothing else', async () => {
  const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
  const kinds = new Set(files.map((f) => (f.startsWith('dist/types/') ? 'dist/types/' : f.startsWith('shaders/') ? 'shaders/' : f.replace(/^dist\/assets\/(engine-worker|ranking-worker|shared)-.*\.js$/, 'dist/assets/$1-*.js'))));
  expect([...kinds].sort()).toEqual(['LICENSE', 'README.md', 'bin/streamvlm.js', 'dist-node/cli.js', 'dist-node/ranking-worker.js', 'dist/assets/engine-worker-*.js', 'dist/assets/ranking-worker-*.js', 'dist/assets/shared-*.js', 'dist/selfcheck.js', 'dist/streamvlm.js', 'dist/types/', 'package.json', 'shaders/'].sort());
  const pkg = JSON.parse(readFileSync(join(app, 'node_modules/streamvlm/package.json'), 'utf8'));
  expect(pkg.license).toBe('MIT');
  expect(readFileSync(join(app, 'node_modules/streamvlm/LICENSE'), 'utf8')).toContain('Copyright (c) 2026 streamvlm contributors');
  // runtime dependencies are exactly the packages shipped files import
  const shipped = ['dist/streamvlm.js', 'dist/selfcheck.js', 'dist-node/cli.js', 'dist-node/ranking-worker.js', 'bin/streamvlm.js', ...files.filter((f) => f.startsWith('dist/assets/') || f.endsWith('.d.ts'))];
  const imported = new Set<string>();
  for (const f of shipped) {
    const text = readFileSync(join(app, 'node_modules/streamvlm', f), 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|reference types=)["']((?:@[\w.-]+\/)?[\w][\w.-]*(?:\/[\w.-]+)*|node:[\w/]+)["']/g)) if (!m[1].startsWith('node:')) imported.add(m[1]);
  }
  expect([...imported].sort()).toEqual(Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).sort());
});

test('npx streamvlm --help, --version, info and generate work from the installed package', async () => {
  test.setTimeout(180_000);
  const help = npx(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('usage: streamvlm <command>');
  expect(npx(['--version']).stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  const info = npx(['info', '--json']);
  expect(info.code, info.stderr).toBe(0);
  expect(JSON.parse(info.stdout).adapter).toHaveProperty('vendor');
  const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')).cases.image.generated;
  const gen = npx(['generate', '--model', FIX, '--weights', 'f32', '--image', join(FIX, 'inputs/gradient.png'), '--prompt', 'Can you describe this image?', '--max-new-tokens', '12', '--json'], 170_000);
  expect(gen.code, gen.stderr.slice(-1500)).toBe(0);
  expect(JSON.parse(gen.stdout.trim().split('\n').pop()!).tokens).toEqual(expected);
});

test('a TypeScript app with skipLibCheck: false type-checks against the declarations', async () => {
  const dir = join(app, 'ts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], strict: true, skipLibCheck: false, noEmit: true, types: [] }, include: ['main.ts'] }));
  writeFileSync(
    join(dir, 'main.ts'),
    `import { StreamVLM, GpuDevice, ModelLoadError } from 'streamvlm';
import { runChecks, type CheckReport } from 'streamvlm/selfcheck';
const vlm = await StreamVLM.load('HuggingFaceTB/SmolVLM2-256M-Video-Instruct', { fps: 1, kvBits: 4 });
const gpu: GpuDevice = await GpuDevice.acquire();
const device: GPUDevice = gpu.device;
const reports: CheckReport[] = await runChecks(gpu, { filter: 'copy' });
console.log(vlm, device, ModelLoadError, reports);
`,
  );
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('a fresh Vite app builds against the package, worker included', async () => {
  test.setTimeout(120_000);
  const dir = join(app, 'web');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><p id="out"></p><script type="module" src="./main.js"></script>');
  writeFileSync(join(dir, 'main.js'), "import { StreamVLM } from 'streamvlm';\nStreamVLM.load('HuggingFaceTB/SmolVLM2-256M-Video-Instruct').catch((e) => (document.getElementById('out').textContent = e.message));\n");
  // the app's own node_modules resolve 'streamvlm'; Vite itself comes from this repository
  cpSync(join(app, 'package.json'), join(dir, 'package.json'));
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn', '--outDir', 'out'], { cwd: dir, encoding: 'utf8', timeout: 110_000, env: { ...process.env, NODE_PATH: join(app, 'node_modules') } });
  expect(r.status, r.stderr).toBe(0);
  const assets = readdirSync(join(dir, 'out/assets'));
  expect(assets.some((f) => f.startsWith('engine-worker'))).toBe(true);
  expect(existsSync(join(dir, 'out/index.html'))).toBe(true);
});
