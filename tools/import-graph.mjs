#!/usr/bin/env node
// Folder-level import graph of src/: which folder (src/<folder>, or "(root)" for src/*.ts) imports
// which, and whether the folders form layers. Each `import … from`, `export … from`, side-effect
// `import '…'` and dynamic `import('…')` of a relative path is an edge from the importing file's
// folder to the imported file's folder; type-only imports count too (a type is a dependency of the
// design even when it vanishes from the bundle).
//
// Fails (exit 1) when the folders have a cycle, or when an edge goes up the intended layer order
// below. Prints the graph either way. Plain Node, no dependency: `node tools/import-graph.mjs`
// (`--json` prints the graph as JSON).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

/**
 * Intended layers, lowest first: a folder may import its own layer's and lower layers' folders,
 * never a higher one. Folders of one layer must not import each other in a cycle either.
 * A folder missing here is reported (so a new folder gets placed deliberately).
 */
export const LAYERS = [
  ['(root)'], // errors, limits, bounded-json, image-size: leaf modules every layer uses
  ['gpu'],
  ['kernels'],
  ['reference'], // CPU references of the kernels (tests and selfcheck only, never the SDK bundle)
  ['memory'], // the KV cache, its codecs, the frame store and retrieval: below the model, which writes its cache
  ['settings'], // one schema of defaults and rules for every surface (SDK, worker, engine, CLI)
  ['model'],
  ['families'], // model families behind one interface (a folder each) and their registry
  ['needle'], // synthetic test scenes (uses the model's prompt format)
  ['platform'], // browser / Node adapters (OPFS, Cache Storage, file system, Dawn) behind the memory and model interfaces
  ['engine'],
  ['worker'],
  ['sdk'],
  ['selfcheck'], // its own entry point (streamvlm/selfcheck), beside the SDK
  ['cli'],
  ['(entry)'], // src/index.ts, the SDK entry: re-exports from every layer
];

/**
 * Folders the SDK's entries must not reach through any chain of imports: the kernel self-check and
 * the CPU references are the separate `streamvlm/selfcheck` entry, not SDK code. The SDK's entries
 * are src/index.ts and the engine worker it starts (`new Worker(new URL(…))`, which is no import).
 */
export const SDK_ENTRIES = ['index.ts', 'worker/engine-worker.ts'];
export const OUTSIDE_SDK = ['selfcheck', 'reference'];

/** Files directly in src/ that are entry points (re-exporting from every layer), not leaf modules. */
const ENTRIES = new Set(['index.ts']);

/** Files under `dir` ending in .ts (not .d.ts). */
function tsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * The folder of a path under src/: its first component, "(entry)" for src/index.ts, "(root)" for
 * the other files directly in src/. Specifiers name no extension, so `./x` and `./x.ts` agree.
 */
function folderOf(path) {
  const parts = relative(src, path).split(sep);
  if (parts.length > 1) return parts[0];
  return ENTRIES.has(parts[0]) || ENTRIES.has(`${parts[0]}.ts`) ? '(entry)' : '(root)';
}

// Comments are removed first so commented-out imports and prose do not count.
const COMMENTS = /\/\*[\s\S]*?\*\/|(^|[^:'"`\\])\/\/[^\n]*/g;
const SPECIFIERS = [
  /\b(?:import|export)\s+(?:type\s+)?[\w*{}\s,$]*?\s+from\s+['"]([^'"]+)['"]/g,
  /\bimport\s+['"]([^'"]+)['"]/g,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Relative module specifiers a file imports or re-exports. */
export function importsOf(text) {
  const code = text.replace(COMMENTS, '$1');
  const found = [];
  for (const pattern of SPECIFIERS) for (const m of code.matchAll(pattern)) if (m[1].startsWith('.')) found.push(m[1]);
  return found;
}

/** The .ts file a relative specifier of `file` names, or null when it is not a file under src/. */
function resolveImport(file, spec) {
  const target = resolve(dirname(file), spec);
  if (!target.startsWith(src + sep)) return null; // shaders/*.wgsl and other files outside src/
  for (const candidate of [target, `${target}.ts`, join(target, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile() && candidate.endsWith('.ts')) return candidate;
    } catch {
      // not this candidate
    }
  }
  return null;
}

/** Files reachable from `entry` through imports, each with the chain that reaches it first. */
export function reachable(entry) {
  const chains = new Map([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift();
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const next = resolveImport(file, spec);
      if (next && !chains.has(next)) {
        chains.set(next, [...chains.get(file), next]);
        queue.push(next);
      }
    }
  }
  return chains;
}

/** Files of OUTSIDE_SDK folders the SDK's entries reach, with the import chain of each. */
export function sdkLeaks() {
  const leaks = new Set();
  for (const entry of SDK_ENTRIES) {
    for (const [file, chain] of reachable(join(src, entry))) {
      if (OUTSIDE_SDK.includes(folderOf(file))) leaks.add(chain.map((f) => relative(root, f)).join(' → '));
    }
  }
  return [...leaks].sort();
}

/** Folder graph: Map<folder, Map<importedFolder, [fromFile → toSpecifier] examples>>. */
export function folderGraph() {
  const graph = new Map();
  for (const file of tsFiles(src)) {
    const from = folderOf(file);
    if (!graph.has(from)) graph.set(from, new Map());
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src + sep)) continue; // shaders/*.wgsl and other files outside src/
      const to = folderOf(target);
      if (to === from) continue;
      const edges = graph.get(from);
      if (!edges.has(to)) edges.set(to, []);
      edges.get(to).push(`${relative(root, file)} → ${spec}`);
    }
  }
  return graph;
}

/** Strongly connected components with more than one folder (Tarjan): each one is a cycle. */
export function cycles(graph) {
  let index = 0;
  const stack = [];
  const info = new Map();
  const found = [];
  const visit = (v) => {
    info.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!info.has(w)) {
        visit(w);
        info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
      } else if (info.get(w).onStack) {
        info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
      }
    }
    if (info.get(v).low === info.get(v).index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        info.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!info.has(v)) visit(v);
  return found;
}

/** Edges that go from a lower layer to a higher one, and folders the layer list does not place. */
export function layerViolations(graph) {
  const rank = new Map();
  LAYERS.forEach((layer, i) => layer.forEach((folder) => rank.set(folder, i)));
  const unplaced = [...graph.keys()].filter((f) => !rank.has(f)).sort();
  const upward = [];
  for (const [from, edges] of graph) {
    for (const [to, examples] of edges) {
      if (rank.has(from) && rank.has(to) && rank.get(to) > rank.get(from)) upward.push({ from, to, examples });
    }
  }
  return { unplaced, upward };
}

function main() {
  const graph = folderGraph();
  if (process.argv.includes('--json')) {
    const plain = Object.fromEntries([...graph].map(([from, edges]) => [from, Object.fromEntries([...edges].map(([to, ex]) => [to, ex.length]))]));
    console.log(JSON.stringify(plain, null, 2));
  }
  console.log('Folder import graph of src/ (folder → folders it imports, with the number of import lines):');
  for (const from of [...graph.keys()].sort()) {
    const edges = [...graph.get(from)].sort(([a], [b]) => a.localeCompare(b)).map(([to, ex]) => `${to} (${ex.length})`);
    console.log(`  ${from} → ${edges.join(', ') || '(nothing)'}`);
  }
  const loops = cycles(graph);
  const { unplaced, upward } = layerViolations(graph);
  let failed = false;
  if (loops.length) {
    failed = true;
    console.log(`\n${loops.length} folder cycle(s), each with the imports that close it:`);
    for (const loop of loops) {
      console.log(`  { ${loop.join(', ')} }`);
      for (const from of loop) {
        for (const [to, examples] of graph.get(from) ?? []) {
          if (!loop.includes(to)) continue;
          console.log(`    ${from} → ${to}:`);
          for (const e of examples.slice(0, 4)) console.log(`        ${e}`);
          if (examples.length > 4) console.log(`        … and ${examples.length - 4} more`);
        }
      }
    }
  }
  if (upward.length) {
    failed = true;
    console.log(`\n${upward.length} import(s) against the layer order ${LAYERS.map((l) => l.join('|')).join(' → ')}:`);
    for (const { from, to, examples } of upward) {
      console.log(`  ${from} → ${to}:`);
      for (const e of examples) console.log(`      ${e}`);
    }
  }
  const leaks = sdkLeaks();
  if (leaks.length) {
    failed = true;
    console.log(`\nThe SDK (${SDK_ENTRIES.map((e) => `src/${e}`).join(', ')}) reaches ${OUTSIDE_SDK.join('/, ')}/ (they belong to the selfcheck entry):`);
    for (const chain of leaks) console.log(`  ${chain}`);
  }
  if (unplaced.length) {
    failed = true;
    console.log(`\nFolders with no layer (add them to LAYERS in tools/import-graph.mjs): ${unplaced.join(', ')}`);
  }
  if (failed) process.exitCode = 1;
  else console.log(`\nNo folder cycles; every import follows the layer order; the SDK (${SDK_ENTRIES.map((e) => `src/${e}`).join(', ')}) reaches no ${OUTSIDE_SDK.join('/ or ')}/ file.`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) main();
