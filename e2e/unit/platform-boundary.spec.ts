import { expect, test } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

// src/platform/ is the only code that touches the host: the browser's navigator (OPFS, persistent
// storage, camera, WebGPU), Cache Storage, Node's file system and Dawn (the `webgpu` package).
// Everything else reaches them through interfaces (PayloadSpill, ModelSource, a directory handle,
// GPU) that the composition roots fill in: src/index.ts, src/sdk/ and src/worker/ for the browser,
// src/cli/ for Node. These checks read the source with TypeScript's parser, so comments and strings
// that name these APIs do not count.

const SRC = join(import.meta.dirname, '..', '..', 'src');
const PLATFORM = 'platform/';

/** Files outside src/platform/ allowed one of these uses, and why. */
const ALLOWED: Record<string, { uses: string[]; why: string }> = {
  'gpu/device.ts': { uses: ['navigator'], why: 'GpuDevice.acquire() without `gpu` reads navigator.gpu, the WebGPU standard entry point (public API)' },
};

/** Folders that compose the runtime for one platform: the only code that may import src/platform/. */
const COMPOSITION_ROOTS = ['index.ts', 'sdk/', 'worker/', 'cli/'];

const HOST_GLOBALS = new Set(['navigator', 'caches']);
const STORAGE_METHODS = new Set(['getDirectory', 'persist', 'persisted']);
const HOST_MODULES = /^(node:)?fs(\/promises)?$|^webgpu$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [relative(SRC, path).replaceAll('\\', '/')] : [];
  });
}

interface Use {
  file: string;
  line: number;
  what: string;
}

/** The module specifiers a file imports (static, re-exports, dynamic import()) and its uses of host globals. */
function scan(file: string): { imports: string[]; uses: Use[] } {
  const text = readFileSync(join(SRC, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const imports: string[] = [];
  const uses: Use[] = [];
  const at = (node: ts.Node, what: string) => uses.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1, what });
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) imports.push(node.moduleSpecifier.text);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) imports.push(node.arguments[0].text);
    if (ts.isIdentifier(node) && HOST_GLOBALS.has(node.text)) at(node, node.text);
    if (ts.isPropertyAccessExpression(node) && STORAGE_METHODS.has(node.name.text)) at(node.name, `.${node.name.text}`);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  for (const spec of imports) if (HOST_MODULES.test(spec)) uses.push({ file, line: 0, what: `import '${spec}'` });
  return { imports, uses };
}

const files = sourceFiles(SRC);

test('only src/platform/ touches navigator, Cache Storage, the file system or Dawn', () => {
  const found = files
    .filter((f) => !f.startsWith(PLATFORM))
    .flatMap((f) => scan(f).uses)
    .filter((u) => !ALLOWED[u.file]?.uses.includes(u.what))
    .map((u) => `${u.file}:${u.line} ${u.what}`);
  expect(found).toEqual([]);
});

test('the exceptions listed are still needed (a stale one would hide a new use)', () => {
  for (const [file, { uses }] of Object.entries(ALLOWED)) {
    const seen = new Set(scan(file).uses.map((u) => u.what));
    for (const what of uses) expect(seen.has(what), `${file} no longer uses ${what}: remove it from ALLOWED`).toBe(true);
  }
});

test('the platform adapters do touch what they adapt (the scan sees real uses)', () => {
  const uses = new Set(files.filter((f) => f.startsWith(PLATFORM)).flatMap((f) => scan(f).uses.map((u) => u.what)));
  for (const what of ['navigator', 'caches', '.getDirectory', '.persist', "import 'node:fs/promises'", "import 'webgpu'"]) expect(uses.has(what), what).toBe(true);
});

test('only the composition roots import src/platform/, and browser and Node adapters stay apart', () => {
  const wrong: string[] = [];
  for (const file of files) {
    const dir = file.slice(0, file.lastIndexOf('/') + 1);
    for (const spec of scan(file).imports) {
      if (!spec.startsWith('.')) continue;
      const target = join(dir, spec).replaceAll('\\', '/');
      if (!target.startsWith(PLATFORM)) continue;
      if (file.startsWith(PLATFORM)) {
        const side = (p: string) => p.split('/')[1];
        if (side(file) !== side(target)) wrong.push(`${file} imports ${spec} (the other platform's adapter)`);
      } else if (!COMPOSITION_ROOTS.some((root) => file === root || file.startsWith(root))) {
        wrong.push(`${file} imports ${spec} (not a composition root: ${COMPOSITION_ROOTS.join(', ')})`);
      }
    }
  }
  expect(wrong).toEqual([]);
});
