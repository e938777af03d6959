import type { Rng } from './rng';
import { INTERESTING_U32 } from './mutate-bytes';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values a field of a model file might hostilely take. */
function hostileValue(rng: Rng): Json {
  switch (rng.int(9)) {
    case 0:
      return rng.pick([...INTERESTING_U32, -1, -(2 ** 31), 2 ** 53, 2 ** 64, 1e308, 0.5, 1e-320]);
    case 1:
      return rng.pick(['', 'x', '../../etc/passwd', '/abs', 'https://evil.example/x', 'F32', 'llama', 'smolvlm', '\u0000', 'a'.repeat(1 + rng.int(5000))]);
    case 2:
      return rng.pick([true, false, null]);
    case 3:
      return [];
    case 4:
      return {};
    case 5:
      return Array.from({ length: rng.int(8) }, () => rng.int(1000));
    case 6:
      return nest(rng.pick([10, 60, 70, 200, 5000]));
    case 7:
      return Array.from({ length: rng.pick([100, 10_000]) }, (_, i) => i);
    default:
      return rng.int(2 ** 31) * rng.pick([1, -1, 1000]);
  }
}

/** An array nested `depth` deep: deep enough to overflow a recursive walker's stack. */
export function nest(depth: number): Json {
  let v: Json = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Every container and leaf in `root`, as (parent, key) pairs. */
function slots(root: Json): [Json[] | { [k: string]: Json }, string | number][] {
  const out: [Json[] | { [k: string]: Json }, string | number][] = [];
  const walk = (v: Json, depth: number) => {
    if (depth > 40 || out.length > 20_000) return;
    if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), walk(x, depth + 1)));
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) out.push([v, k]), walk(v[k], depth + 1);
  };
  walk(root, 0);
  return out;
}

/**
 * A structure-aware change to a JSON document: a field set to a hostile value, removed, duplicated
 * under another key or nested deep; then, sometimes, a text-level change (a number written as
 * 1e999, which JSON.parse reads as Infinity, truncation, garbage).
 */
export function mutateJson(rng: Rng, text: string): string {
  const root = JSON.parse(text) as Json;
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    const all = slots(root);
    if (all.length === 0) break;
    const [parent, key] = rng.pick(all);
    const op = rng.int(5);
    if (op === 0 && !Array.isArray(parent)) delete parent[key as string];
    else if (op === 1 && !Array.isArray(parent)) parent[`${String(key)}_${rng.int(10)}`] = (parent as { [k: string]: Json })[key as string];
    else (parent as Record<string | number, Json>)[key] = hostileValue(rng);
  }
  let out = JSON.stringify(root);
  if (rng.chance(0.15)) {
    const numbers = [...out.matchAll(/-?\d+(\.\d+)?/g)];
    if (numbers.length) {
      const m = rng.pick(numbers);
      out = out.slice(0, m.index) + rng.pick(['1e999', '-1e999', '1e-999', '99999999999999999999999', '0.0']) + out.slice(m.index! + m[0].length);
    }
  }
  if (rng.chance(0.05)) out = out.slice(0, rng.int(out.length));
  return out;
}
