import type { Binding } from './recorder';
import type { ShaderDefines } from './shader';
import { UNIFORM_SLOT_BYTES } from './uniforms';

/**
 * A compute kernel's contract with its shader, declared once in TypeScript: the uniform block
 * (field names and scalar types, in order), the storage bindings (name, access, WGSL type), the
 * `u32` constants both sides use (workgroup sizes, tiles), the `u32` override constants the host
 * sets per pipeline (head size, work split) and the `#if` switches its variants set.
 * The WGSL header — `struct Params`, the `@group(0) @binding(n)` declarations, the constants and
 * the override declarations —
 * is generated from it and put before the shader body (shaders/*.wgsl hold bodies only), and the
 * host packs uniforms and orders bindings by name from the same declaration. So a field added,
 * removed or reordered on one side cannot silently shift the other: there is one side.
 *
 * Binding numbers: 0 is the uniform block, storage bindings follow from 1 in declaration order
 * (CommandRecorder.dispatch's convention). Every binding is declared in every variant; an entry
 * point or variant that does not use one leaves it out of its 'auto' layout, and the dispatch
 * passes nothing for it.
 */

/** Scalar types of uniform fields: each takes 4 bytes, so fields pack without padding. */
export type UniformType = 'u32' | 'i32' | 'f32';

export type StorageAccess = 'read' | 'read_write';

/** A WGSL type, fixed or chosen from the variant's defines (e.g. the element type of packed weights). */
export type WgslType = string | ((defines: ShaderDefines) => string);

export interface StorageBindingDecl {
  readonly access: StorageAccess;
  readonly type: WgslType;
}

/** A read-only storage binding of WGSL type `type`. */
export function read(type: WgslType): StorageBindingDecl {
  return { access: 'read', type };
}

/** A read-write storage binding of WGSL type `type`. */
export function readWrite(type: WgslType): StorageBindingDecl {
  return { access: 'read_write', type };
}

export type UniformDecls = Readonly<Record<string, UniformType>>;
export type BindingDecls = Readonly<Record<string, StorageBindingDecl>>;
export type ConstantDecls = Readonly<Record<string, number>>;

export interface KernelDeclaration<U extends UniformDecls, B extends BindingDecls, C extends ConstantDecls, D extends string, O extends ConstantDecls> {
  /** Kernel family name: pipeline labels and cache keys. */
  readonly name: string;
  /** The shader body files (shaders/*.wgsl, imported `?raw`), concatenated after the header. */
  readonly body: readonly string[];
  /** Fields of `struct Params`, in order (object key order is the struct's field order). */
  readonly uniforms: U;
  /** Storage bindings, numbered from 1 in order. */
  readonly bindings: B;
  /** `const NAME: u32` values of the header: workgroup sizes and tiles the host computes grids with. */
  readonly constants: C;
  /**
   * `override NAME: u32 = default` of the header: scalars fixed at pipeline creation (WGSL
   * `override`), set by name per call; the default serves a call that leaves one out.
   */
  readonly overrides?: O;
  /** `#if` switches of this kernel's variants (besides the shared F16 / SUBGROUPS); each defaults to off. */
  readonly defines?: readonly D[];
}

export type UniformValues<U extends UniformDecls> = { readonly [K in keyof U]: number };
export type BindingValues<B extends BindingDecls> = { readonly [K in keyof B]?: Binding | null };
export type OverrideValues<O extends ConstantDecls> = { readonly [K in keyof O]?: number };

/** WGSL-level checks of a body: the header owns these declarations, so a body must not repeat them. */
const OWNED_BY_HEADER: readonly [RegExp, string][] = [
  [/\bstruct\s+Params\b/, 'struct Params'],
  [/@binding\s*\(/, '@binding(…) declarations'],
  [/\bvar\s*<\s*uniform\b/, 'a var<uniform>'],
];

export class KernelContract<U extends UniformDecls, B extends BindingDecls, C extends ConstantDecls, D extends string, O extends ConstantDecls> {
  private readonly headers = new Map<string, string>();
  private checked = false;
  // the declaration's uniform fields and binding names in order, read on every dispatch
  private readonly fields: readonly [string, UniformType][];
  private readonly bindingNames: readonly string[];

  constructor(readonly declaration: KernelDeclaration<U, B, C, D, O>) {
    if (Object.keys(declaration.uniforms).length * 4 > UNIFORM_SLOT_BYTES) throw new Error(`kernel ${declaration.name}: uniform block exceeds ${UNIFORM_SLOT_BYTES} bytes`);
    this.fields = Object.entries(declaration.uniforms) as [string, UniformType][];
    this.bindingNames = Object.keys(declaration.bindings);
  }

  get name(): string {
    return this.declaration.name;
  }

  get constants(): C {
    return this.declaration.constants;
  }

  get defines(): readonly D[] {
    return this.declaration.defines ?? [];
  }

  /** The override values of a call, checked against the declared names (WebGPU would only say "unknown constant"). */
  overrideValues(values: OverrideValues<O> | undefined): Record<string, number> {
    const declared = this.declaration.overrides ?? {};
    const out: Record<string, number> = {};
    for (const [name, value] of Object.entries(values ?? {}) as [string, number | undefined][]) {
      if (!(name in declared)) throw new Error(`kernel ${this.name}: ${name} is not one of its override constants (${Object.keys(declared).join(', ') || 'none'})`);
      if (typeof value === 'number') out[name] = value;
    }
    return out;
  }

  /**
   * The generated header for one variant. Also checks, once, that the bodies declare none of what
   * the header owns (the error names the kernel and the declaration).
   */
  header(defines: ShaderDefines): string {
    this.checkBodies();
    const key = Object.keys(defines)
      .sort()
      .map((k) => `${k}=${defines[k] ? 1 : 0}`)
      .join(',');
    let header = this.headers.get(key);
    if (header !== undefined) return header;
    const { name, uniforms, bindings, constants, overrides = {} } = this.declaration;
    const lines = [`// ---- generated from the kernel contract '${name}' (src/gpu/kernel-contract.ts): do not declare these in the body ----`];
    const fields = Object.entries(uniforms);
    if (fields.length) {
      lines.push('struct Params {', ...fields.map(([field, type]) => `  ${field}: ${type},`), '}');
      lines.push('@group(0) @binding(0) var<uniform> params: Params;');
    }
    Object.entries(bindings).forEach(([binding, decl], i) => {
      const type = typeof decl.type === 'string' ? decl.type : decl.type(defines);
      lines.push(`@group(0) @binding(${i + 1}) var<storage, ${decl.access}> ${binding}: ${type};`);
    });
    for (const [constant, value] of Object.entries(constants)) {
      if (!Number.isInteger(value) || value < 0) throw new Error(`kernel ${name}: constant ${constant} = ${value} is not a u32`);
      lines.push(`const ${constant}: u32 = ${value}u;`);
    }
    for (const [constant, value] of Object.entries(overrides as ConstantDecls)) {
      if (!Number.isInteger(value) || value < 0) throw new Error(`kernel ${name}: override ${constant} = ${value} is not a u32`);
      lines.push(`override ${constant}: u32 = ${value}u;`);
    }
    lines.push('// ---- end of the generated header ----', '');
    header = lines.join('\n');
    this.headers.set(key, header);
    return header;
  }

  /** The uniform block: the named values in declaration order, little-endian, padded to 16 bytes. */
  uniformBlock(values: UniformValues<U>): ArrayBuffer | null {
    const fields = this.fields;
    if (!fields.length) return null;
    const bytes = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
    const view = new DataView(bytes);
    for (let i = 0; i < fields.length; i++) {
      const [field, type] = fields[i];
      const v = (values as Record<string, number | undefined>)[field];
      if (typeof v !== 'number') throw new Error(`kernel ${this.name}: uniform ${field} has no value`);
      if (type === 'u32') view.setUint32(i * 4, v >>> 0, true);
      else if (type === 'i32') view.setInt32(i * 4, v | 0, true);
      else view.setFloat32(i * 4, v, true);
    }
    return bytes;
  }

  /** The storage bindings in binding order; a binding not given is left unbound (null). */
  storage(values: BindingValues<B>): (Binding | null)[] {
    for (const given in values) {
      if (!(given in this.declaration.bindings)) throw new Error(`kernel ${this.name}: no binding named ${given}`);
    }
    return this.bindingNames.map((binding) => (values as Record<string, Binding | null | undefined>)[binding] ?? null);
  }

  private checkBodies(): void {
    if (this.checked) return;
    const { name, body, constants, overrides = {} } = this.declaration;
    for (const text of body) {
      const code = text.replace(/\/\/[^\n]*/g, '');
      for (const [pattern, what] of OWNED_BY_HEADER) {
        if (pattern.test(code)) throw new Error(`kernel ${name}: its shader body declares ${what}; the header generated from its contract declares them (src/kernels/${name})`);
      }
      for (const constant of [...Object.keys(constants), ...Object.keys(overrides)]) {
        if (new RegExp(`\\b(?:const|override)\\s+${constant}\\b`).test(code)) {
          throw new Error(`kernel ${name}: its shader body declares ${constant}, a constant or override of its contract`);
        }
      }
    }
    this.checked = true;
  }
}

/** Declares a kernel's contract (types inferred from the literal: field and binding names are checked at each call). */
export function defineKernel<
  const U extends UniformDecls,
  const B extends BindingDecls,
  const C extends ConstantDecls,
  const D extends string = never,
  const O extends ConstantDecls = Record<never, number>,
>(
  declaration: KernelDeclaration<U, B, C, D, O>,
): KernelContract<U, B, C, D, O> {
  return new KernelContract(declaration);
}
