/**
 * Checkpoint tensors declared once. Each tower lists its tensors (name and the shape its config
 * implies) in one declaration; its `load` reads the checkpoint through that declaration, and a
 * family's manifest (checked before anything is uploaded) is the towers' declarations walked in
 * order. So a tensor's name is written in one place, not once for loading and once for checking.
 */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** Not every checkpoint has it (an untied head where the config ties it): left out of the manifest. */
  readonly optional?: boolean;
}

/** A Linear layer: `${prefix}.weight` [out, in] and, with a bias, `${prefix}.bias` [out]. */
export interface LinearSpec {
  readonly prefix: string;
  readonly out: number;
  readonly in: number;
  readonly weight: TensorSpec;
  readonly bias?: TensorSpec;
}

export function tensor(name: string, shape: readonly number[], options: { optional?: boolean } = {}): TensorSpec {
  return options.optional ? { name, shape, optional: true } : { name, shape };
}

export function linear(prefix: string, out: number, inFeatures: number, options: { bias?: boolean; optional?: boolean } = {}): LinearSpec {
  const spec: LinearSpec = { prefix, out, in: inFeatures, weight: tensor(`${prefix}.weight`, [out, inFeatures], options) };
  return options.bias ? { ...spec, bias: tensor(`${prefix}.bias`, [out], options) } : spec;
}

function isTensorSpec(x: object): x is TensorSpec {
  const o = x as { name?: unknown; shape?: unknown };
  return typeof o.name === 'string' && Array.isArray(o.shape);
}

/** Every required tensor of a declaration (objects and arrays of TensorSpecs, any depth), in declaration order. */
export function tensorManifest(declaration: object): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (isTensorSpec(node)) {
      if (!node.optional) out.set(node.name, [...node.shape]);
      return;
    }
    for (const child of Array.isArray(node) ? node : Object.values(node)) walk(child);
  };
  walk(declaration);
  return out;
}
