import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';

/** Boolean feature switches (`#if NAME` … `#elif NAME` … `#else` … `#endif` in a .wgsl file). */
export type ShaderDefines = Readonly<Record<string, boolean>>;

const CONDITIONAL = /#(if|elif)[ \t]+([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Resolves the `#if` blocks of a .wgsl file with `wgsl-preprocessor`. That library is a template
 * literal tag (`#if ${cond}`); shaders here live in files, so the named conditions are turned into
 * the tag's template slots. An undefined name is an error, so a typo cannot silently pick a branch.
 */
export function preprocessWgsl(source: string, defines: ShaderDefines): string {
  const strings: string[] = [];
  const values: boolean[] = [];
  let last = 0;
  for (const match of source.matchAll(CONDITIONAL)) {
    const name = match[2];
    if (!(name in defines)) throw new Error(`shader uses #${match[1]} ${name}, which is not defined`);
    strings.push(source.slice(last, match.index! + 1 + match[1].length));
    values.push(defines[name]);
    last = match.index! + match[0].length;
  }
  strings.push(source.slice(last));
  const raw = Object.assign([...strings], { raw: strings }) as unknown as TemplateStringsArray;
  return wgsl(raw, ...values);
}

/** Stable key of a define set: the order callers list them in does not matter. */
export function definesKey(defines: ShaderDefines): string {
  return Object.keys(defines)
    .sort()
    .filter((k) => defines[k])
    .join(',');
}
